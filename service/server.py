"""``catalog-er serve``: the gRPC server around :class:`service.servicer.CatalogErServicer`.

An asyncio server (``grpc.aio``) on one event-loop thread: look-ups of stored tracks answer from memory on
the loop; look-ups of unsaved tracks are handed over in batches by a thread of their own
(:class:`service.batching.MicroBatcher`) to a look-up process with its own copy of the catalog
(:mod:`service.lookup_replica`); everything that waits on the database or computes for long (ingest
batches, incremental resolution, audio) runs in a pool of ``workers`` threads, so long calls never hold up
short ones and no crowd of threads contends for the interpreter lock; and a full resolution runs in a child
process at low CPU priority (:mod:`service.resolution_process`), so it holds neither the interpreter lock nor
the cores the look-ups need. Health checking (``grpc.health.v1``) and server reflection are the stock ones;
interceptors add, in order, request ids and JSON access logs with Prometheus metrics, the bearer-token
check on mutating calls (on every call with ``token_for_reads``), and the exception → status mapping
(``service.grpc_errors``). SIGTERM and SIGINT stop taking new calls and give in-flight ones (ingest streams
included) ``grace_seconds`` to finish.

Settings are checked before the database is touched (``service.security.SettingsError``, exit 2 in the CLI): an
empty or unsendable token, a listener beyond the loopback that nobody authenticates unless ``insecure``, a
certificate or key gRPC could not serve with.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from catalog_er.resolver.config import ResolverConfig
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.grpc_errors import ErrorInterceptor, MethodCachedInterceptor, call_scope, rewrap_handler
from catalog_er.service.live import LiveCatalog
from catalog_er.service.lookup_replica import LookupReplica
from catalog_er.service.resolution_process import ResolutionProcess
from catalog_er.service.security import LOOPBACK, Exposure, SettingsError, check_tls_files
from catalog_er.service.servicer import CatalogErServicer, ServiceLimits
from catalog_er.service.store import Store
from catalog_er.service.store_file import UnusableDatabaseError

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CatalogErService"].full_name
MUTATING_METHODS = frozenset(f"/{SERVICE_NAME}/{name}" for name in (
    "IngestTracks", "IngestArtists", "IngestEngagement", "UploadAudio", "Resolve", "ReviewMergeProposal"))
"""Calls that change state: they need the bearer token when one is configured."""
INGEST_METHODS = frozenset(f"/{SERVICE_NAME}/{name}" for name in ("IngestTracks", "IngestArtists", "IngestEngagement"))
"""Record streams: an undecodable message in them is a rejection in the summary, the records around it are kept."""
SERVICE_METHODS = frozenset(f"/{SERVICE_NAME}/{method.name}"
                            for method in pb.DESCRIPTOR.services_by_name["CatalogErService"].methods)
"""Every call of the catalog service; with ``token_for_reads`` they all need the token (health checks and
reflection never do: the container's health check sends none, and the schema is public)."""

log = logging.getLogger("catalog_er.server")


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``catalog-er serve`` takes; checked when built (``SettingsError``)."""

    db_path: Path
    port: int = 50051
    host: str = LOOPBACK
    token: str | None = None
    """Bearer token required by mutating calls (by every call with ``token_for_reads``); None: no check."""
    token_for_reads: bool = False
    """Require the token on read calls too (look-ups, listings, exports); needs a token."""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    metrics_port: int | None = None
    metrics_host: str = LOOPBACK
    """Address of the metrics HTTP listener (plain HTTP, no authentication)."""
    insecure: bool = False
    """Allow listeners beyond the loopback that nobody authenticates: the gRPC port without a token or TLS, or
    the metrics port on a non-loopback ``metrics_host``. Without it such settings are refused."""
    max_message_bytes: int = 16 * 1024 * 1024
    log_reads: bool = False
    """Also log every successful read call (mutations, failures and slow calls are always logged); at
    thousands of look-ups a second the access line is a quarter of a look-up's server time."""
    slow_call_seconds: float = 0.1
    """Read calls slower than this are logged even when reads are not."""
    workers: int = 4
    """Threads for the blocking part of calls (database writes and reads, resolution, audio decoding)."""
    lookup_process: bool = True
    """Answer unsaved-track look-ups in a process of their own (:mod:`service.lookup_replica`): another core and
    interpreter for them, at the cost of a second copy of the catalog in memory."""
    grace_seconds: float = 30.0
    limits: ServiceLimits = field(default_factory=ServiceLimits)

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError("a TLS certificate and its key go together (--tls-cert and --tls-key)")
        self.exposure()  # refuses a token or an address that would leave the catalog open

    def exposure(self) -> Exposure:
        """Who can reach this server and what they need (checked when built; ``warnings()`` for the log)."""
        return Exposure(host=self.host, token=self.token, tls=self.tls_cert is not None,
                        token_for_reads=self.token_for_reads, metrics_port=self.metrics_port,
                        metrics_host=self.metrics_host, insecure=self.insecure)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        """``record`` as one JSON line."""
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class Metrics:
    """The Prometheus series the server exports (its own registry, so tests can run several servers)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("catalog_er_requests", "gRPC calls by method and status", ["method", "status"],
                                registry=self.registry)
        self.latency = Histogram("catalog_er_request_seconds", "gRPC call latency", ["method"],
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5, 30),
                                 registry=self.registry)
        self.ingested = Counter("catalog_er_ingested_records", "records stored by ingest streams", ["kind"],
                                registry=self.registry)
        self.index_tracks = Gauge("catalog_er_index_tracks", "tracks in the live index", registry=self.registry)


class ObservabilityInterceptor(MethodCachedInterceptor):
    """Request id and metrics for every call; a JSON access-log line for every mutating, failed or slow call,
    and for every read too when ``log_reads``."""

    def __init__(self, metrics: Metrics, log_reads: bool = False, slow_call_seconds: float = 0.1) -> None:
        super().__init__()
        self.metrics, self.log_reads, self.slow_call_seconds = metrics, log_reads, slow_call_seconds

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """``handler`` timed, counted and logged under the method's short name."""
        name = method.rsplit("/", 1)[-1]
        requests, latency = self.metrics.requests, self.metrics.latency.labels(name)
        log_every_call = self.log_reads or method in MUTATING_METHODS

        def observe(context: grpc.aio.ServicerContext, started: float, rid: str) -> None:
            code = context.code() or grpc.StatusCode.OK
            seconds = time.perf_counter() - started
            requests.labels(name, code.name).inc()
            latency.observe(seconds)
            if log_every_call or code != grpc.StatusCode.OK or seconds >= self.slow_call_seconds:
                log.info("call", extra={"method": name, "status": code.name, "ms": round(seconds * 1000, 2),
                                        "request_id": rid, "peer": context.peer()})

        def wrap(behaviour: Callable, streaming_response: bool) -> Callable:
            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started = time.perf_counter()
                with call_scope(context) as rid:
                    try:
                        return await behaviour(request, context)
                    finally:
                        observe(context, started, rid)

            async def streaming(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started = time.perf_counter()
                with call_scope(context) as rid:
                    try:
                        async for response in behaviour(request, context):
                            yield response
                    finally:
                        observe(context, started, rid)

            return streaming if streaming_response else unary

        return rewrap_handler(handler, wrap)


class AuthInterceptor(MethodCachedInterceptor):
    """Mutating calls (every catalog call with ``reads_too``) need ``authorization: Bearer <token>`` metadata
    (UNAUTHENTICATED otherwise). Health checks and reflection stay open."""

    def __init__(self, token: str, reads_too: bool = False) -> None:
        super().__init__()
        self._expected = f"Bearer {token}".encode()
        self._guarded = SERVICE_METHODS if reads_too else MUTATING_METHODS

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """``handler`` behind the token check when ``method`` is guarded, else unchanged."""
        if method not in self._guarded:
            return handler
        why = "this call changes the catalog" if method in MUTATING_METHODS else "this server requires the token"

        async def check(context: grpc.aio.ServicerContext) -> None:
            given = dict(context.invocation_metadata() or ()).get("authorization", "")
            if not hmac.compare_digest(str(given).encode(), self._expected):
                await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                    f"{why}: send 'authorization: Bearer <token>' metadata")

        def guarded(behaviour: Callable, streaming_response: bool) -> Callable:
            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await check(context)
                return await behaviour(request, context)

            async def streaming(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await check(context)
                async for response in behaviour(request, context):
                    yield response

            return streaming if streaming_response else unary

        return rewrap_handler(handler, guarded)


class _EventLoop:
    """The process's one event-loop thread for gRPC servers (grpc.aio wants a single loop per process)."""

    _loop: asyncio.AbstractEventLoop | None = None
    _guard = threading.Lock()

    @classmethod
    def run(cls, coroutine: Coroutine, timeout: float | None = None) -> Any:
        """Run ``coroutine`` on the loop thread and wait for its result."""
        with cls._guard:
            if cls._loop is None:
                cls._loop = asyncio.new_event_loop()
                threading.Thread(target=cls._loop.run_forever, name="grpc-event-loop", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coroutine, cls._loop).result(timeout)


@dataclass
class _Workers:
    """Where the work of calls runs off the event loop: ``pool`` (``workers`` threads: database, incremental
    resolution, audio), ``lookups`` (one thread: batches of unsaved-track look-ups, sent to ``replica`` when there
    is one), and ``resolution`` (a child process per full resolution)."""

    pool: futures.ThreadPoolExecutor
    lookups: futures.ThreadPoolExecutor
    resolution: ResolutionProcess
    replica: LookupReplica | None = None

    @classmethod
    def start(cls, workers: int) -> _Workers:
        return cls(futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="catalog-er-worker"),
                   futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-er-lookups"),
                   ResolutionProcess())

    def stop(self, wait: bool = True) -> None:
        """Kill a running resolution (the grace period is over) and the look-up process, then let the threads finish
        their calls."""
        self.resolution.stop()
        if self.replica is not None:
            self.replica.stop()
        self.lookups.shutdown(wait=wait)
        self.pool.shutdown(wait=wait)


@dataclass
class RunningServer:
    """A started server: its bound port, the catalog behind it, and how to stop it."""

    server: grpc.aio.Server
    port: int
    catalog: LiveCatalog
    health: health.aio.HealthServicer
    metrics: Metrics
    workers: _Workers
    metrics_http: WSGIServer | None = None
    """The metrics HTTP listener, when one was asked for (``server_address`` is where it listens)."""

    def stop(self, grace_seconds: float = 30.0) -> None:
        """Refuse new calls, let in-flight ones finish (up to ``grace_seconds``), close the metrics listener
        and the database."""
        async def shut_down() -> None:
            await self.health.enter_graceful_shutdown()
            await self.server.stop(grace_seconds)

        _EventLoop.run(shut_down())
        if self.metrics_http is not None:
            self.metrics_http.shutdown()
            self.metrics_http.server_close()
        self.workers.stop()
        self.catalog.store.close()


def start_server(settings: ServerSettings, config: ResolverConfig | None = None) -> RunningServer:
    """Check the TLS files, open the database, rebuild the live catalog from it, and start serving (returns once
    listening). Unusable settings or files raise ``SettingsError`` / ``UnusableDatabaseError`` naming them."""
    if settings.tls_cert is not None and settings.tls_key is not None:
        check_tls_files(settings.tls_cert, settings.tls_key)
    metrics = Metrics()
    workers = _Workers.start(settings.workers)
    catalog = _open_catalog(settings.db_path, config, workers.resolution)
    try:
        workers.replica = LookupReplica(catalog) if settings.lookup_process else None
        running = _EventLoop.run(_start(settings, catalog, metrics, workers))
    except BaseException:
        workers.stop(wait=False)
        catalog.store.close()
        raise
    if settings.metrics_port is not None:
        _serve_metrics(settings.metrics_host, settings.metrics_port, running)
    metrics.index_tracks.set_function(catalog.indexed_tracks)
    for warning in settings.exposure().warnings():
        log.warning(warning)
    log.info("serving", extra={"address": f"{settings.host}:{running.port}", "db": str(settings.db_path),
                               "tls": bool(settings.tls_cert), "auth": settings.token is not None,
                               "reads_need_token": settings.token_for_reads,
                               "tracks": catalog.store.counts()["tracks"]})
    return running


def _open_catalog(db_path: Path, config: ResolverConfig | None, resolution: ResolutionProcess) -> LiveCatalog:
    """The live catalog rebuilt from the database at ``db_path``, its full resolutions run by ``resolution``; a
    database SQLite cannot read to the end raises ``UnusableDatabaseError`` (``Store`` refuses most damage on
    opening, before anything is read)."""
    store = Store(db_path)
    try:
        return LiveCatalog(store, config, run_full=resolution.resolve)
    except sqlite3.DatabaseError as error:
        store.close()
        raise UnusableDatabaseError(f"database {db_path} cannot be read (SQLite: {error}); restore it from a "
                                    "backup or give a new file", path=db_path) from None
    except BaseException:
        store.close()
        raise


def _serve_metrics(host: str, port: int, running: RunningServer) -> None:
    """Start the Prometheus HTTP listener on ``host:port``; when it cannot listen, stop ``running`` and raise
    ``SettingsError``."""
    try:
        running.metrics_http, _ = start_http_server(port, addr=host, registry=running.metrics.registry)
    except (OSError, ValueError) as error:  # socket.gaierror is an OSError
        running.stop(0)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise SettingsError(f"cannot serve metrics on {host}:{port}: {reason}") from None


async def _start(settings: ServerSettings, catalog: LiveCatalog, metrics: Metrics,
                 workers: _Workers) -> RunningServer:
    """Build and start the server on the running loop."""
    interceptors: list[grpc.aio.ServerInterceptor] = [
        ObservabilityInterceptor(metrics, settings.log_reads, settings.slow_call_seconds)]
    if settings.token is not None:
        interceptors.append(AuthInterceptor(settings.token, reads_too=settings.token_for_reads))
    interceptors.append(ErrorInterceptor(keep_undecodable=INGEST_METHODS))
    options = [("grpc.max_receive_message_length", settings.max_message_bytes),
               ("grpc.max_send_message_length", settings.max_message_bytes)]
    server = grpc.aio.server(interceptors=interceptors, options=options)
    servicer = CatalogErServicer(catalog, workers.pool, workers.lookups, settings.limits,
                                 answer_unsaved=None if workers.replica is None else workers.replica.answer,
                                 on_ingest=lambda kind, count: metrics.ingested.labels(kind).inc(count))
    pb_grpc.add_CatalogErServiceServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.host}:{settings.port}"
    try:
        if settings.tls_cert and settings.tls_key:
            credentials = grpc.ssl_server_credentials([(settings.tls_key.read_bytes(),
                                                        settings.tls_cert.read_bytes())])
            port = server.add_secure_port(address, credentials)
        else:
            port = server.add_insecure_port(address)
    except RuntimeError as error:
        raise SettingsError(f"cannot listen on {address} (address in use, not an address of this machine, or a "
                            f"certificate gRPC refuses): {error}") from error
    await server.start()
    for name in (SERVICE_NAME, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, catalog, health_servicer, metrics, workers)


def serve_forever(settings: ServerSettings, config: ResolverConfig | None = None) -> int:
    """Run until SIGTERM/SIGINT, then shut down gracefully."""
    running = start_server(settings, config)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("shutting down", extra={"signal": signal.Signals(signum).name})
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stopping.wait()
    running.stop(settings.grace_seconds)
    log.info("stopped")
    return 0
