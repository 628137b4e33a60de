"""A simulator is a stranger: polestar.sims imports nothing of Polestar outside itself."""

import ast
from pathlib import Path

import polestar.sims

SIMS = Path(polestar.sims.__file__).parent


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield node.lineno, "polestar.sims." + (node.module or "")  # relative: inside the package
            else:
                yield node.lineno, node.module or ""


def test_simulators_import_only_themselves_and_third_party_libraries():
    files = sorted(SIMS.rglob("*.py"))
    assert len(files) > 10
    offenders = [
        f"{path.relative_to(SIMS)}:{line} imports {module}"
        for path in files
        for line, module in _imports(path)
        if (module == "polestar" or module.startswith("polestar."))
        and not (module == "polestar.sims" or module.startswith("polestar.sims."))
    ]
    assert offenders == []


def test_the_rule_would_catch_an_import_of_the_bus(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from polestar.bus import Bus\nimport polestar.store\n")
    assert [m for _, m in _imports(bad)] == ["polestar.bus", "polestar.store"]
