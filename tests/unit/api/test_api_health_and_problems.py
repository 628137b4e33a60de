import httpx
import pytest
from fastapi import Request

from polestar import __version__
from polestar.api import PROBLEM_MEDIA_TYPE, create_app
from polestar.config import ApiConfig, HubConfig
from polestar.security.testing import auth_headers


def client_for(app):
    # raise_app_exceptions=False: the 500 must reach the caller as a problem, as it would over HTTP.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = auth_headers(app.state.hub.config)
    return httpx.AsyncClient(transport=transport, base_url="http://hub.test", headers=headers)


@pytest.fixture
async def hub(tmp_path):
    app = create_app(HubConfig(data_dir=tmp_path, api=ApiConfig(max_request_bytes=2048)))

    @app.get("/test/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("secret internals")

    @app.post("/test/echo", include_in_schema=False)
    async def echo(request: Request) -> int:
        return len(await request.body())

    async with app.router.lifespan_context(app), client_for(app) as client:
        yield client


async def test_health_reports_status_version_and_profile(hub):
    response = await hub.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "profile": "embedded"}


async def test_ready_reports_each_component_once_started(hub):
    response = await hub.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": [
            {"name": "api", "status": "ok"},
            {"name": "audit", "status": "ok"},
            {"name": "bus", "status": "ok"},
            {"name": "store", "status": "ok"},
        ],
    }


async def test_not_ready_before_the_lifespan_has_started(tmp_path):
    app = create_app(HubConfig(data_dir=tmp_path))
    async with client_for(app) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "starting",
        "components": [
            {"name": "api", "status": "starting"},
            {"name": "audit", "status": "starting"},
            {"name": "bus", "status": "starting"},
            {"name": "store", "status": "starting", "detail": "opening the store"},
        ],
    }


async def test_unknown_path_is_a_404_problem(hub):
    response = await hub.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "instance": "/no/such/thing",
    }


async def test_unexpected_error_is_a_500_problem_without_internals(hub, caplog):
    response = await hub.get("/test/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["title"] == "Internal Server Error"
    assert body["status"] == 500
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "secret internals" in caplog.text  # the operator's log has it


async def test_invalid_request_is_a_422_problem_listing_each_error(tmp_path):
    app = create_app(HubConfig(data_dir=tmp_path))

    @app.get("/test/items/{number}")
    async def item(number: int, limit: int) -> dict[str, int]:
        return {"number": number, "limit": limit}

    async with client_for(app) as client:
        response = await client.get("/test/items/1", params={"limit": "zz-not-a-number"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "urn:polestar:problem:request-invalid"
    assert body["status"] == 422
    assert [tuple(e["loc"]) for e in body["errors"]] == [("query", "limit")]
    assert "zz-not-a-number" not in response.text  # the input is not echoed back


async def test_body_over_the_limit_is_refused_with_413(hub):
    response = await hub.post("/health", content=b"x" * 4096)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "2048 bytes" in response.json()["detail"]


async def test_streamed_body_over_the_limit_is_refused_with_413(hub):
    async def chunks():
        for _ in range(4):
            yield b"x" * 1024

    response = await hub.post("/test/echo", content=chunks())
    assert response.status_code == 413


async def test_body_within_the_limit_is_read_normally(hub):
    response = await hub.post("/test/echo", content=b"x" * 1000)
    assert response.json() == 1000


async def test_wrong_method_is_a_405_problem(hub):
    response = await hub.delete("/health")
    assert response.status_code == 405
    assert response.json()["title"] == "Method Not Allowed"


async def test_openapi_document_is_3_1_with_title_and_version(hub):
    document = (await hub.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Polestar"
    assert document["info"]["version"] == __version__
    assert document["info"]["description"]
    assert {"/health", "/ready"} <= set(document["paths"])
    assert "Problem" in document["components"]["schemas"]


async def test_index_links_to_health_and_docs(hub):
    links = (await hub.get("/")).json()["links"]
    assert links["health"] == "/health"
    assert links["docs"] == "/docs"


def test_create_app_does_no_io(tmp_path):
    data_dir = tmp_path / "not-created"
    create_app(HubConfig(data_dir=data_dir))
    assert not data_dir.exists()
