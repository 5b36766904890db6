"""A real ``catalog-er serve`` in a child process, called with raw request bytes, every outcome recorded.

The child process is the server a user runs (same CLI, same flags), so a crash, a hang or its memory is
observed as a user would: the process exits, a call runs into its deadline, ``VmHWM`` in ``/proc``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf.descriptor import MethodDescriptor

from catalog_er.service.api import catalog_er_pb2 as pb
from tests.processes import children_of

SERVICE = pb.DESCRIPTOR.services_by_name["CatalogErService"]
METHODS: tuple[MethodDescriptor, ...] = tuple(SERVICE.methods)
CALL_DEADLINE_SECONDS = 30.0
"""A call still running after this is a hang (the client gives up with DEADLINE_EXCEEDED)."""
TOKEN = "fuzz-token"


@dataclass(frozen=True)
class Outcome:
    """One call: the method, its status code name, its wall time in seconds, the request bytes sent."""

    method: str
    code: str
    seconds: float
    request_bytes: int
    details: str


def _peak_memory_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # ended meanwhile
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


@dataclass
class ServedProcess:
    """The child server: its process, address, log lines (stderr, drained by a thread) and the outcomes so far."""

    process: subprocess.Popen[str]
    address: str
    log_lines: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    stored_track_ids: list[str] = field(default_factory=list)
    """Ids of tracks the fixture stored (so look-ups and uploads can name a real track)."""

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address, options=[("grpc.max_receive_message_length", 64 << 20)])

    def alive(self) -> bool:
        return self.process.poll() is None

    def peak_memory_bytes(self) -> int:
        """The server's peak resident memory so far (``VmHWM``), in bytes."""
        return _peak_memory_bytes(self.process.pid)

    def children_peak_memory_bytes(self) -> int:
        """The peak resident memory of the server's live child processes (its look-up process), summed, in bytes."""
        return sum(_peak_memory_bytes(child) for child in children_of(self.process.pid))

    def call(self, method: MethodDescriptor, payloads: list[bytes], *, channel: grpc.Channel) -> Outcome:
        """Send ``payloads`` (one for a unary request, any number for a stream) as raw bytes and wait for the end."""
        path = f"/{SERVICE.full_name}/{method.name}"
        metadata = (("authorization", f"Bearer {TOKEN}"),)
        started = time.perf_counter()
        code, details = "OK", ""
        try:
            if method.client_streaming:
                channel.stream_unary(path)(iter(payloads), timeout=CALL_DEADLINE_SECONDS, metadata=metadata)
            elif method.server_streaming:
                for _ in channel.unary_stream(path)(payloads[0], timeout=CALL_DEADLINE_SECONDS, metadata=metadata):
                    pass
            else:
                channel.unary_unary(path)(payloads[0], timeout=CALL_DEADLINE_SECONDS, metadata=metadata)
        except grpc.RpcError as error:
            code, details = error.code().name, (error.details() or "")[:300]
        outcome = Outcome(method.name, code, time.perf_counter() - started, sum(map(len, payloads)), details)
        self.outcomes.append(outcome)
        return outcome


def serve(db: Path, *, log: Path) -> Iterator[ServedProcess]:
    """Start ``catalog-er serve`` on a free loopback port with a token; yield it; SIGTERM it afterwards."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_ER_")} | {
        "CATALOG_ER_PORT": "0", "CATALOG_ER_HOST": "127.0.0.1", "CATALOG_ER_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "catalog_er.service.cli", "serve", "--db", str(db)],
                               stderr=subprocess.PIPE, text=True, env=environment)
    assert process.stderr is not None
    lines: list[str] = []
    address = ""
    for line in process.stderr:
        lines.append(line)
        if '"serving"' in line:
            address = json.loads(line)["address"]
            break
    if not address:
        raise RuntimeError(f"the server did not start (exit {process.wait(10)}): {''.join(lines)[-2000:]}")
    served = ServedProcess(process, address, lines)

    def drain() -> None:
        assert process.stderr is not None
        with log.open("w") as sink:
            for line in process.stderr:
                sink.write(line)
                served.log_lines.append(line)

    threading.Thread(target=drain, daemon=True).start()
    try:
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
