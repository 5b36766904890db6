"""House rules that code review would otherwise have to catch: the cores stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ("resolver", "fingerprint")
FORBIDDEN_IN_CORE = ("service", "grpc", "pyarrow.parquet", "logging.handlers", "tqdm")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_cores_never_import_the_edge_or_io_libraries(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        for name in _imports(path):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE), (
                f"{path.relative_to(ROOT)} imports {name}"
            )


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_cores_do_not_read_the_environment_or_print(package: str) -> None:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "environ":
                offenders.append(f"{path.relative_to(ROOT)} reads os.environ")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("print", "open"):
                offenders.append(f"{path.relative_to(ROOT)} calls {node.func.id}()")
    assert offenders == []
