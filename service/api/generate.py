"""``make proto``: generate ``service/api/catalog_er_pb2*.py`` from ``proto/catalog_er/v1/catalog_er.proto``.

protoc writes ``from catalog_er.v1 import catalog_er_pb2`` into the gRPC module, an import that only works
with the proto root on ``sys.path``; the stubs live in ``service.api``, so that line becomes a relative
import. ``tests/test_api_stubs.py`` regenerates into a temporary folder and checks the committed files match.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"
PROTO_FILE = PROTO_ROOT / "catalog_er" / "v1" / "catalog_er.proto"
TARGET = Path(__file__).resolve().parent
GENERATED = ("catalog_er_pb2.py", "catalog_er_pb2.pyi", "catalog_er_pb2_grpc.py")


def generate(target: Path) -> list[Path]:
    """Write the three generated files into ``target``; return their paths."""
    with tempfile.TemporaryDirectory() as scratch:
        include = str(Path(protoc.__file__).parent / "_proto")
        code = protoc.main(["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={scratch}",
                            f"--pyi_out={scratch}", f"--grpc_python_out={scratch}", str(PROTO_FILE)])
        if code != 0:
            raise RuntimeError(f"protoc failed on {PROTO_FILE} (exit {code})")
        produced = Path(scratch) / "catalog_er" / "v1"
        paths = []
        for name in GENERATED:
            text = (produced / name).read_text()
            text = text.replace("from catalog_er.v1 import catalog_er_pb2", "from . import catalog_er_pb2")
            (target / name).write_text(text)
            paths.append(target / name)
    return paths


if __name__ == "__main__":
    for path in generate(TARGET):
        print(f"wrote {path.relative_to(ROOT)}")
    sys.exit(0)
