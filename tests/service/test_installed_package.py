"""The installed package as a user's project sees it: our names live under ``catalog_er`` only, so a project with
its own ``service/`` and ``resolver/`` packages imports both, and the ``.proto`` ships as package data."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
from pathlib import Path

from catalog_er.proto import PROTO_PATH

ROOT = Path(__file__).resolve().parents[2]

USER_PACKAGE = '''\
import sys

frame = sys._getframe(1)
while frame is not None:  # who imports us: the user's code may, catalog_er must not
    if frame.f_globals.get("__name__", "").startswith("catalog_er"):
        raise ImportError(f"{frame.f_globals['__name__']} imported the user's own {__name__!r} package")
    frame = frame.f_back
OWNER = "user"
'''

USER_SCRIPT = '''\
import sys
import catalog_er.service.api.catalog_er_pb2_grpc as stubs
import catalog_er.service.server
import catalog_er.resolver.pipeline
assert "service" not in sys.modules and "resolver" not in sys.modules, "catalog_er loaded a top-level name"
assert stubs.CatalogErServiceStub
import resolver
import service
print(service.OWNER, service.__file__)
print(resolver.OWNER, resolver.__file__)
'''


def test_a_user_project_with_its_own_service_and_resolver_packages_imports_our_stubs(tmp_path: Path) -> None:
    for name in ("service", "resolver"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(USER_PACKAGE)
    done = subprocess.run([sys.executable, "-c", USER_SCRIPT], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"user {tmp_path / 'service' / '__init__.py'}",
                                        f"user {tmp_path / 'resolver' / '__init__.py'}"]


def test_the_proto_ships_in_the_package() -> None:
    shipped = importlib.resources.files("catalog_er.proto") / PROTO_PATH
    assert shipped.read_text(encoding="utf-8") == (ROOT / "proto" / PROTO_PATH).read_text(encoding="utf-8")
    assert "service CatalogErService" in shipped.read_text(encoding="utf-8")
