"""The ``resolution`` example in docs/search.md is a valid hub configuration section."""

import re
from pathlib import Path

import yaml

from polestar.config import HubConfig

DOCS = (Path(__file__).parents[3] / "docs" / "search.md").read_text(encoding="utf-8")


def test_the_documented_resolution_section_loads():
    blocks = re.findall(r"```yaml\n(resolution:.*?)```", DOCS, flags=re.DOTALL)
    assert len(blocks) == 1, "docs/search.md shows the resolution section once"
    hub = HubConfig.model_validate(yaml.safe_load(blocks[0]))
    assert (hub.resolution.merge_at, hub.resolution.review_at, hub.resolution.address_review_at) == (
        22,
        14,
        92,
    )
