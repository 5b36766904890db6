"""service.grpc_errors: the one exception → status mapping, request ids, and the ErrorInterceptor on a real
``grpc.aio`` server (port 0) whose handlers raise what servicer code raises."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import grpc
import pytest

from catalog_er.fingerprint.audio import InvalidAudioError
from catalog_er.resolver.config import ConfigError
from catalog_er.service.grpc_errors import (
    AlreadyExistsError,
    DeadlinePassedError,
    ErrorInterceptor,
    RequestError,
    TooLargeError,
    UnauthenticatedError,
    UndecodableMessage,
    call_scope,
    request_id,
    status_of,
)
from catalog_er.service.live import NotFoundError, NotReadyError

Code = grpc.StatusCode

EXPECTED: dict[str, tuple[Exception, grpc.StatusCode]] = {
    "too_large": (TooLargeError("audio", "4000000 bytes, over the 3000000 limit"), Code.RESOURCE_EXHAUSTED),
    "already_exists": (AlreadyExistsError("proposal_id", "p-1 is reviewed already"), Code.ALREADY_EXISTS),
    "request": (RequestError("title", "must not be empty"), Code.INVALID_ARGUMENT),
    "invalid_audio": (InvalidAudioError("corrupt", "<5000 bytes> is damaged", source="<5000 bytes>"),
                      Code.INVALID_ARGUMENT),
    "config": (ConfigError("clustering.merge_threshold must be between 0.01 and 0.99, got 7"),
               Code.INVALID_ARGUMENT),
    "not_found": (NotFoundError("track 'x' is not stored"), Code.NOT_FOUND),
    "not_ready": (NotReadyError("fewer than two tracks to train on"), Code.FAILED_PRECONDITION),
    "unauthenticated": (UnauthenticatedError("no bearer token"), Code.UNAUTHENTICATED),
    "deadline": (DeadlinePassedError("the deadline passed before resolving"), Code.DEADLINE_EXCEEDED),
}
"""Every exception the servicers raise on purpose, and its status."""

UNEXPECTED: dict[str, Exception] = {
    "key_error": KeyError("secret_column"),
    "runtime": RuntimeError("boom in /srv/catalog/secret_module.py"),
    "zero_division": ZeroDivisionError("division by zero"),
    # the plain bases of the expected kinds are not expected: only our own subclasses are
    "value_error": ValueError("plain value error"),
    "lookup": LookupError("plain lookup"),
    "permission": PermissionError("plain permission"),
    "timeout": TimeoutError("plain timeout"),
}


@pytest.mark.parametrize("case", list(EXPECTED))
def test_status_of_every_expected_exception(case: str) -> None:
    error, code = EXPECTED[case]
    assert status_of(error) == code


@pytest.mark.parametrize("case", list(UNEXPECTED))
def test_status_of_anything_else_is_internal(case: str) -> None:
    assert status_of(UNEXPECTED[case]) == Code.INTERNAL


def test_request_errors_name_their_field() -> None:
    error = TooLargeError("audio", "too many bytes")
    assert error.field == "audio" and str(error) == "audio: too many bytes"
    assert isinstance(error, ValueError)


# --- a real grpc.aio server with the interceptor -----------------------------------------------------------

SERVICE = "catalog_er.test.Errors"


def _error(name: str) -> Exception:
    return EXPECTED[name][0] if name in EXPECTED else UNEXPECTED[name]


async def _raise(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise _error(request.decode())


async def _raise_after_one(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield b"first"
    raise _error(request.decode())


async def _collect_then_raise(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> bytes:
    names = [request.decode() async for request in requests]
    raise _error(names[-1])


async def _echo_then_raise(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
                           ) -> AsyncIterator[bytes]:
    async for request in requests:
        yield request
        raise _error(request.decode())


async def _abort(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    await context.abort(Code.PERMISSION_DENIED, "the handler's own status")
    raise AssertionError("unreachable: abort raises")


async def _ids(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    """``scoped,inside,after``: the id call_scope fixed, request_id inside the scope, and after it."""
    with call_scope(context) as scoped:
        inside = request_id(context)
    return f"{scoped},{inside},{request_id(context)}".encode()


async def _fine(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return b"ok:" + request


def _utf8(data: bytes) -> str:
    """A request deserializer that refuses bytes that are not UTF-8 (as protobuf refuses a corrupt message)."""
    return data.decode("utf-8")


async def _echo_text(request: str, context: grpc.aio.ServicerContext) -> bytes:
    return request.encode()


async def _describe_each(requests: AsyncIterator, context: grpc.aio.ServicerContext) -> bytes:
    seen = [r.describe() if isinstance(r, UndecodableMessage) else r async for r in requests]
    return "|".join(seen).encode()


HANDLER = grpc.method_handlers_generic_handler(SERVICE, {
    "Text": grpc.unary_unary_rpc_method_handler(_echo_text, request_deserializer=_utf8),
    "TextStream": grpc.stream_unary_rpc_method_handler(_describe_each, request_deserializer=_utf8),
    "KeptTextStream": grpc.stream_unary_rpc_method_handler(_describe_each, request_deserializer=_utf8),
    "Raise": grpc.unary_unary_rpc_method_handler(_raise),
    "RaiseAfterOne": grpc.unary_stream_rpc_method_handler(_raise_after_one),
    "CollectThenRaise": grpc.stream_unary_rpc_method_handler(_collect_then_raise),
    "EchoThenRaise": grpc.stream_stream_rpc_method_handler(_echo_then_raise),
    "Abort": grpc.unary_unary_rpc_method_handler(_abort),
    "Ids": grpc.unary_unary_rpc_method_handler(_ids),
    "Fine": grpc.unary_unary_rpc_method_handler(_fine),
})


@dataclass
class Served:
    channel: grpc.Channel

    def unary(self, method: str, request: bytes, **kwargs) -> bytes:
        return self.channel.unary_unary(f"/{SERVICE}/{method}")(request, timeout=30, **kwargs)

    @staticmethod

    def failure(call, *args, **kwargs) -> grpc.RpcError:
        """The error ``call(*args, **kwargs)`` fails with (responses of a stream read to the end)."""
        with pytest.raises(grpc.RpcError) as caught:
            result = call(*args, **kwargs)
            if not isinstance(result, bytes):
                list(result)
        return caught.value


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The interceptor in a grpc.aio server on 127.0.0.1, port 0, on its own event-loop thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-grpc-errors-loop", daemon=True)
    thread.start()

    async def start() -> tuple[grpc.aio.Server, int]:
        interceptor = ErrorInterceptor(keep_undecodable=frozenset({f"/{SERVICE}/KeptTextStream"}))
        server = grpc.aio.server(interceptors=[interceptor])
        server.add_generic_rpc_handlers((HANDLER,))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Served(channel)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(None), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


@pytest.mark.parametrize("case", list(EXPECTED))
def test_expected_exceptions_become_their_status_with_the_message(served: Served, case: str) -> None:
    error, code = EXPECTED[case]
    failure = served.failure(served.unary, "Raise", case.encode())
    assert (failure.code(), failure.details()) == (code, str(error))


@pytest.mark.parametrize("case", list(UNEXPECTED))
def test_unexpected_exceptions_become_internal_with_a_request_id_and_nothing_else(
        served: Served, case: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="catalog_er")
    failure = served.failure(served.unary, "Raise", case.encode(), metadata=(("x-request-id", f"req-{case}"),))
    assert failure.code() == Code.INTERNAL
    assert failure.details() == f"internal error (request id req-{case})"
    # the log has what the caller must not see: the traceback, under the same request id
    logged = [r for r in caplog.records if r.getMessage() == "unexpected error" and r.request_id == f"req-{case}"]
    assert len(logged) == 1 and logged[0].method == f"/{SERVICE}/Raise"
    assert logged[0].exc_info is not None and logged[0].exc_info[1] is UNEXPECTED[case]


def test_a_request_id_is_made_when_the_caller_sends_none(served: Served) -> None:
    ids = []
    for _ in range(2):
        failure = served.failure(served.unary, "Raise", b"runtime")
        match = re.fullmatch(r"internal error \(request id ([0-9a-f]{16})\)", failure.details())
        assert match, failure.details()
        ids.append(match.group(1))
    assert ids[0] != ids[1]
    assert ids[0][:8] == ids[1][:8]  # one process prefix, then a counter


def test_a_long_caller_request_id_is_cut_to_100_characters(served: Served) -> None:
    failure = served.failure(served.unary, "Raise", b"runtime", metadata=(("x-request-id", "r" * 500),))
    assert failure.details() == f"internal error (request id {'r' * 100})"


@pytest.mark.parametrize(("method", "requests"), [
    ("RaiseAfterOne", b"not_found"),
    ("CollectThenRaise", iter([b"runtime", b"not_found"])),
    ("EchoThenRaise", iter([b"not_found", b"runtime"])),
])
def test_every_streaming_kind_is_guarded(served: Served, method: str, requests) -> None:
    kind = {"RaiseAfterOne": served.channel.unary_stream, "CollectThenRaise": served.channel.stream_unary,
            "EchoThenRaise": served.channel.stream_stream}[method]
    call = kind(f"/{SERVICE}/{method}")
    received: list[bytes] = []

    def consume(*args, **kwargs):
        result = call(*args, timeout=30, **kwargs)
        if isinstance(result, bytes):
            return result
        for message in result:
            received.append(message)
        return None

    failure = served.failure(consume, requests)
    assert failure.code() == Code.NOT_FOUND and failure.details() == str(EXPECTED["not_found"][0])
    assert received == ({"RaiseAfterOne": [b"first"], "EchoThenRaise": [b"not_found"]}.get(method, []))


def test_a_status_the_handler_set_itself_passes_through(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="catalog_er")
    failure = served.failure(served.unary, "Abort", b"")
    assert (failure.code(), failure.details()) == (Code.PERMISSION_DENIED, "the handler's own status")
    assert not [r for r in caplog.records if r.getMessage() in ("unexpected error", "request failed")]


def test_successful_calls_and_unknown_methods_are_left_alone(served: Served) -> None:
    assert served.unary("Fine", b"x") == b"ok:x"
    failure = served.failure(served.unary, "NoSuchMethod", b"")
    assert failure.code() == Code.UNIMPLEMENTED


def test_call_scope_fixes_the_request_id_for_the_call(served: Served) -> None:
    scoped, inside, after = served.unary("Ids", b"", metadata=(("x-request-id", "abc-123"),)).decode().split(",")
    assert scoped == inside == after == "abc-123"
    scoped, inside, after = served.unary("Ids", b"").decode().split(",")
    assert scoped == inside and re.fullmatch(r"[0-9a-f]{16}", scoped)
    assert after != scoped  # outside the scope, a call without x-request-id gets a fresh id


def test_undecodable_requests_are_invalid_argument_or_kept_where_asked(served: Served) -> None:
    assert served.unary("Text", "é".encode()) == "é".encode()
    failure = served.failure(served.unary, "Text", b"\xff")
    assert failure.code() == Code.INVALID_ARGUMENT
    assert failure.details().startswith("request: a message of 1 bytes that cannot be decoded ('utf-8' codec")
    stream = served.channel.stream_unary(f"/{SERVICE}/TextStream")
    failure = served.failure(stream, iter([b"a", b"b", b"\xff", b"c"]), timeout=30)
    assert failure.code() == Code.INVALID_ARGUMENT and failure.details().startswith("request[2]: a message of 1 ")
    kept = served.channel.stream_unary(f"/{SERVICE}/KeptTextStream")(iter([b"a", b"\xff", b"c"]), timeout=30)
    first, middle, last = kept.decode().split("|")
    assert (first, last) == ("a", "c") and middle.startswith("a message of 1 bytes that cannot be decoded")
