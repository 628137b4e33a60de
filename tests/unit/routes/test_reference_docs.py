from __future__ import annotations

import re
from pathlib import Path

import yaml

from polestar.routes.config import RoutesFile
from polestar.routes.reference import EXAMPLE_FILE, GENERATED_MARK, update_reference

ROOT = Path(__file__).parents[3]
DOC = ROOT / "docs" / "routes.md"


def test_the_committed_reference_is_what_the_models_generate() -> None:
    committed = DOC.read_text(encoding="utf-8")
    example = (ROOT / EXAMPLE_FILE).read_text(encoding="utf-8")
    assert GENERATED_MARK in committed
    assert committed == update_reference(committed, example), (
        "docs/routes.md is out of date: run `python -m polestar.routes.reference`"
    )


def test_every_yaml_example_in_the_page_is_a_valid_route_file() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        RoutesFile.model_validate(yaml.safe_load(block))
