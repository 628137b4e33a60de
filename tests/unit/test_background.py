"""``stop_task`` ends a background task even when Python 3.11 loses the cancellation."""

from __future__ import annotations

import asyncio

import pytest

from polestar.background import stop_task


async def _loop_that_loses_one_cancel(answer: asyncio.Future[int], rounds: list[int]) -> None:
    # The first wait_for's reply arrives in the same iteration as the cancel: on 3.11 the
    # cancel is swallowed and the loop carries on, as the dispatch tail did with nats-py.
    await asyncio.wait_for(answer, 5)
    while True:
        rounds.append(1)
        await asyncio.sleep(0.01)


async def test_stop_task_ends_a_loop_whose_first_cancellation_is_lost() -> None:
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[int] = loop.create_future()
    rounds: list[int] = []
    task = asyncio.create_task(_loop_that_loses_one_cancel(answer, rounds))
    await asyncio.sleep(0)
    answer.set_result(1)

    assert await stop_task(task, recancel=0.05) is None

    assert task.cancelled()


async def test_stop_task_returns_the_exception_a_task_ended_with() -> None:
    async def broken() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("the bus went away")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0.01)

    error = await stop_task(task)

    assert isinstance(error, RuntimeError)
    assert str(error) == "the bus went away"


async def test_stop_task_on_a_finished_task_returns_at_once() -> None:
    async def quick() -> int:
        return 3

    task = asyncio.create_task(quick())
    await task

    assert await stop_task(task) is None


async def test_stop_task_refuses_a_recancel_interval_that_is_not_positive() -> None:
    task = asyncio.create_task(asyncio.sleep(0))
    with pytest.raises(ValueError, match="recancel must be positive"):
        await stop_task(task, recancel=0)
    await task
