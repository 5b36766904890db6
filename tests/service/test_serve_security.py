"""``catalog-er serve``'s security defaults (issue 13), through the real CLI and real servers: the token from the
environment or a private file, never an empty one; nothing beyond the loopback that nobody authenticates unless
``--insecure``; metrics on the loopback; ``--token-for-reads``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.security import SettingsError
from catalog_er.service.server import ServerSettings, start_server
from tests.service.test_bad_files_cli import assert_refused
from tests.service.test_cli import HEAVY_LIBRARIES, _environment, run_cli

TOKEN = "s3cret-token_1"


def _token_file(folder: Path, content: str, mode: int) -> Path:
    path = folder / "token"
    path.write_text(content)
    path.chmod(mode)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


REFUSALS: dict[str, tuple[Callable[[Path], tuple[list[str], dict[str, str]]], str]] = {
    "empty --token": (lambda d: (["--token", ""], {}), "--token is empty"),
    "empty variable": (lambda d: ([], {"CATALOG_ER_TOKEN": ""}), "$CATALOG_ER_TOKEN is empty"),
    "empty token file": (lambda d: (["--token-file", str(_token_file(d, "\n", 0o600))], {}),
                         "token file {d}/token is empty"),
    "world-readable token file": (lambda d: (["--token-file", str(_token_file(d, TOKEN, 0o644))], {}),
                                  "chmod 600 {d}/token"),
    "world-readable token file variable": (
        lambda d: ([], {"CATALOG_ER_TOKEN_FILE": str(_token_file(d, TOKEN, 0o604))}), "chmod 600 {d}/token"),
    "token with a space": (lambda d: (["--token", "two words"], {}), "a token is printable ASCII without spaces"),
    "token beyond ASCII": (lambda d: ([], {"CATALOG_ER_TOKEN": "clé"}), "a token is printable ASCII"),
    "two tokens": (lambda d: (["--token", TOKEN, "--token-file", str(_token_file(d, TOKEN, 0o600))], {}),
                   "give --token or --token-file, not both"),
    "two token variables": (lambda d: ([], {"CATALOG_ER_TOKEN": TOKEN,
                                            "CATALOG_ER_TOKEN_FILE": str(_token_file(d, TOKEN, 0o600))}),
                            "are both set"),
    "all interfaces, no token, no TLS": (lambda d: (["--host", "0.0.0.0"], {}), "or add --insecure"),
    "IPv6 wildcard from the variable": (lambda d: ([], {"CATALOG_ER_HOST": "::"}), "--host :: takes connections"),
    "metrics beyond the loopback": (lambda d: (["--token", TOKEN, "--metrics-port", "9100", "--metrics-host",
                                               "0.0.0.0"], {}), "--metrics-host 0.0.0.0 would serve metrics"),
    "token for reads without a token": (lambda d: (["--token-for-reads"], {}), "--token-for-reads needs a token"),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_unsafe_settings_are_refused_before_the_database_is_touched(tmp_path: Path, name: str) -> None:
    make, expected = REFUSALS[name]
    arguments, environment = make(tmp_path)
    done = run_cli("serve", "--db", str(tmp_path / "s.sqlite"), "--port", "0", *arguments, env=environment)
    assert_refused(done, expected.format(d=tmp_path))
    assert TOKEN not in done.stderr  # a token is never echoed
    assert not (tmp_path / "s.sqlite").exists()


@pytest.mark.parametrize("name", ["empty --token", "world-readable token file", "all interfaces, no token, no TLS",
                                  "metrics beyond the loopback"])
def test_a_refusal_comes_before_the_server_libraries_load(tmp_path: Path, name: str) -> None:
    """Settings are checked with the standard library alone, so a refusal takes a fraction of a second."""
    arguments, environment = REFUSALS[name][0](tmp_path)
    as_console_script = "import sys; from catalog_er.service.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", as_console_script, "serve", "--db",
                           str(tmp_path / "s.sqlite"), *arguments], capture_output=True, text=True, timeout=60,
                          env=_environment(**environment))
    assert done.returncode == 2 and "catalog-er: error:" in done.stderr
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "catalog_er.service.security" in imported
    assert sorted(name for name in imported if name.split(".")[0] in HEAVY_LIBRARIES) == []


def test_help_says_the_token_flag_shows_in_ps_and_offers_the_alternatives() -> None:
    done = run_cli("serve", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "shows in `ps`" in text and "prefer $CATALOG_ER_TOKEN or --token-file" in text
    for flag in ("--token-file", "--token-for-reads", "--insecure", "--metrics-host", "$CATALOG_ER_TOKEN_FILE"):
        assert flag in text


@contextmanager
def served(tmp_path: Path, *arguments: str, **environment: str) -> Iterator[tuple[int, list[dict]]]:
    """``catalog-er serve`` on a fresh database in a child process; yields its port and the log lines up to
    "serving". Stopped with SIGTERM."""
    process = subprocess.Popen([sys.executable, "-m", "catalog_er.service.cli", "serve", "--db",
                                str(tmp_path / "s.sqlite"), "--port", "0", *arguments], stderr=subprocess.PIPE,
                               text=True, env=_environment(**environment))
    try:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            if line.startswith("{"):  # gRPC's own C-core notices are plain text
                lines.append(json.loads(line))
                if lines[-1]["message"] == "serving":
                    break
        assert lines and lines[-1]["message"] == "serving", f"server did not start (exit {process.wait()})"
        yield int(lines[-1]["address"].rsplit(":", 1)[1]), lines
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def test_all_interfaces_start_with_insecure_and_say_what_is_open(tmp_path: Path) -> None:
    with served(tmp_path, "--host", "0.0.0.0", "--insecure") as (port, lines):
        warnings = [line["message"] for line in lines if line["level"] == "WARNING"]
        assert warnings == ["--host 0.0.0.0: no token, so anyone who reaches the port can change the catalog"]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=30)
        assert check.status == health_pb2.HealthCheckResponse.SERVING


def test_a_token_file_and_token_for_reads_guard_every_catalog_call(tmp_path: Path) -> None:
    token_file = _token_file(tmp_path, f"  {TOKEN}\n", 0o640)  # whitespace around it is dropped; a group may read
    with served(tmp_path, "--token-for-reads", CATALOG_ER_TOKEN_FILE=str(token_file)) as (port, lines):
        assert lines[-1]["auth"] is True and lines[-1]["reads_need_token"] is True
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            look_up = pb.FindDuplicatesRequest(track_id="absent")
            with pytest.raises(grpc.RpcError) as refused:
                stub.FindDuplicates(look_up, timeout=30)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as refused:
                list(stub.ListMergeProposals(pb.ListMergeProposalsRequest(), timeout=30))
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            authorized = (("authorization", f"Bearer {TOKEN}"),)
            assert list(stub.ListMergeProposals(pb.ListMergeProposalsRequest(), metadata=authorized,
                                                timeout=30)) == []
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=30)
            assert health.status == health_pb2.HealthCheckResponse.SERVING  # the container's check sends no token


def test_metrics_listen_on_the_loopback_by_default(tmp_path: Path) -> None:
    port = _free_port()
    running = start_server(ServerSettings(db_path=tmp_path / "s.sqlite", port=0, host="0.0.0.0", token=TOKEN,
                                          metrics_port=port))
    try:
        assert running.metrics_http is not None and running.metrics_http.server_address[0] == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
            assert b"catalog_er_index_tracks" in response.read()
    finally:
        running.stop(1)


def test_a_metrics_port_in_use_is_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--db", str(tmp_path / "s.sqlite"), "--port", "0", "--metrics-port", str(port))
    assert_refused(done, f"cannot serve metrics on 127.0.0.1:{port}")


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.8.9.10", True), ("localhost", True),
                                                ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                                ("10.0.0.5", False), ("catalog.example.org", False)])
def test_only_loopback_hosts_go_without_a_token(tmp_path: Path, host: str, loopback: bool) -> None:
    if loopback:
        ServerSettings(db_path=tmp_path / "s.sqlite", host=host)
    else:
        with pytest.raises(SettingsError, match="--insecure"):
            ServerSettings(db_path=tmp_path / "s.sqlite", host=host)
        ServerSettings(db_path=tmp_path / "s.sqlite", host=host, insecure=True)
        ServerSettings(db_path=tmp_path / "s.sqlite", host=host, token=TOKEN)
