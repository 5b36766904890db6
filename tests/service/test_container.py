"""What the container image relies on: the health check against real servers (the port and TLS settings taken
from the environment, as in the image), and a lint of the Dockerfile's layer order and of .dockerignore (no
Docker engine on these machines, so the image itself is never built here)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from catalog_er.service.server import ServerSettings, start_server

ROOT = Path(__file__).resolve().parents[2]


def _healthcheck(*flags: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """``python -m catalog_er.service.healthcheck FLAGS`` with only the given CATALOG_ER_* variables set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_ER_")} | environment
    return subprocess.run([sys.executable, "-m", "catalog_er.service.healthcheck", "--timeout", "5", *flags],
                          env=env, capture_output=True, text=True, timeout=60)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for the DNS name ``name`` and its key, as an operator would make them."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}"], check=True, capture_output=True)
    return cert, key


def test_healthcheck_takes_port_and_host_from_the_environment_and_flags_override_them(tmp_path: Path) -> None:
    running = start_server(ServerSettings(db_path=tmp_path / "plain.sqlite", port=0))
    try:
        port, closed = str(running.port), str(_closed_port())
        done = _healthcheck(CATALOG_ER_PORT=port, CATALOG_ER_HOST="0.0.0.0")  # the bind-all address: loopback
        assert done.returncode == 0 and done.stdout.strip() == "serving", done.stderr
        assert _healthcheck(CATALOG_ER_PORT=closed).returncode == 1
        assert _healthcheck("--port", port, CATALOG_ER_PORT=closed).returncode == 0
        assert _healthcheck("--port", port, CATALOG_ER_PORT="grpc").returncode == 0
        bad = _healthcheck(CATALOG_ER_PORT="grpc")
        assert bad.returncode == 1 and "CATALOG_ER_PORT='grpc'" in bad.stderr
    finally:
        running.stop(1)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_healthcheck_over_tls_trusts_the_configured_certificate_and_checks_its_name(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path, "catalog.example.org")  # not a name of 127.0.0.1, where the check connects
    other_cert, _ = _self_signed(tmp_path, "other.example.org")
    running = start_server(ServerSettings(db_path=tmp_path / "tls.sqlite", port=0, tls_cert=cert, tls_key=key))
    try:
        tls = {"CATALOG_ER_PORT": str(running.port), "CATALOG_ER_TLS_CERT": str(cert)}
        done = _healthcheck(**tls)
        assert done.returncode == 0 and done.stdout.strip() == "serving", done.stderr
        assert _healthcheck(**tls, CATALOG_ER_TLS_SERVER_NAME="catalog.example.org").returncode == 0
        wrong_name = _healthcheck(**tls, CATALOG_ER_TLS_SERVER_NAME="other.example.org")
        assert wrong_name.returncode == 1 and "unhealthy" in wrong_name.stderr
        untrusted = _healthcheck(**(tls | {"CATALOG_ER_TLS_CERT": str(other_cert)}))
        assert untrusted.returncode == 1 and "unhealthy" in untrusted.stderr
        assert _healthcheck(CATALOG_ER_PORT=str(running.port)).returncode == 1  # plaintext to a TLS server
        assert _healthcheck("--tls-cert", str(cert), CATALOG_ER_PORT=str(running.port)).returncode == 0
    finally:
        running.stop(1)


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_installs_dependencies_before_copying_the_code() -> None:
    steps = _instructions()
    source_folders = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
                         .values())
    copied = {args.split()[0]: k for k, (name, args) in enumerate(steps) if name == "COPY"}
    assert source_folders <= set(copied), f"the image must copy every source folder: {sorted(source_folders)}"
    first_source = min(copied[folder] for folder in source_folders)
    installs = [k for k, (name, args) in enumerate(steps) if name == "RUN" and "pip install" in args]
    assert installs[0] < first_source, "dependencies must be installed before the code is copied"
    assert {args.split()[0] for name, args in steps[:installs[0]] if name == "COPY"} == {"pyproject.toml"}
    assert installs[-1] > first_source and "--no-deps" in steps[installs[-1]][1]
    assert ("ENV", "CATALOG_ER_PORT=50051") in steps
    for name in ("CMD", "HEALTHCHECK"):
        assert "--port" not in dict(steps)[name], f"{name} must take the port from CATALOG_ER_PORT"
    assert "catalog_er.service.healthcheck" in dict(steps)["HEALTHCHECK"]


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides (``!`` keeps)."""
    ignored = False
    parents = ["/".join(path.split("/")[:k]) for k in range(1, path.count("/") + 2)]
    for pattern in patterns:
        body = pattern.removeprefix("!").strip("/")
        regex = "".join("(.*/)?" if part == "**/" else ".*" if part == "**" else "[^/]*" if part == "*" else
                        "[^/]" if part == "?" else part if part.startswith("[") else re.escape(part)
                        for part in re.findall(r"\*\*/|\*\*|\*|\?|\[[^]]*\]|[^*?[]+", body))
        if any(re.fullmatch(regex, parent) for parent in parents):
            ignored = not pattern.startswith("!")
    return ignored


def test_dockerignore_keeps_the_heavy_folders_out_and_the_sources_in() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    heavy = [".venv/lib/python3.11/site-packages/numpy/__init__.py", ".git/HEAD", "demo-out/catalog/tracks.parquet",
             "bench-out/bench.json", "tests/benchmarks/bench_resolve.py", ".pytest_cache/v/cache/lastfailed",
             ".ruff_cache/CACHEDIR.TAG", ".mypy_cache/3.11/x.json", "catalog_er.egg-info/PKG-INFO",
             "build/lib/catalog_er/__init__.py", "service/__pycache__/cli.cpython-311.pyc"]
    assert [path for path in heavy if not _dockerignored(path, patterns)] == []
    needed = ["pyproject.toml", "README.md"] + [
        path.relative_to(ROOT).as_posix() for folder in ("resolver", "fingerprint", "service", "proto")
        for path in (ROOT / folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    assert "proto/catalog_er/v1/catalog_er.proto" in needed
    assert [path for path in needed if _dockerignored(path, patterns)] == []
