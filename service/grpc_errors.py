"""One place mapping exceptions to gRPC status codes, as a server interceptor (``grpc.aio``).

Servicer code raises ordinary exceptions; the interceptor turns each into a status with a message that
names the field or value, and logs anything unexpected with the request id. A bad request never takes
the process down: every exception ends as a status on that one call.

Request messages that cannot be decoded (corrupt protobuf, invalid UTF-8 in a string field) are the caller's
fault, so they end as INVALID_ARGUMENT like any bad field, with an access-log line, instead of the UNKNOWN or
INTERNAL grpc answers when the decoder raises before any handler runs: the interceptor installs a lenient
request deserializer that hands an :class:`UndecodableMessage` on to the handler in place of the message.
Methods named in ``ErrorInterceptor(keep_undecodable=...)`` receive those in their request stream (an ingest
stream reports each as a rejection and keeps the good records around it); for every other method the first
one ends the call with INVALID_ARGUMENT.

Also here: the base of every interceptor of the server (:class:`MethodCachedInterceptor`) and the one way
they wrap a handler's behaviour (:func:`rewrap_handler`).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc

from catalog_er.fingerprint.audio import InvalidAudioError
from catalog_er.resolver.config import ConfigError
from catalog_er.service.live import NotFoundError, NotReadyError
from catalog_er.service.resolution_process import ResolutionProcessError

log = logging.getLogger("catalog_er.server")


class RequestError(ValueError):
    """The request itself is invalid; ``field`` names the offending field (INVALID_ARGUMENT)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.reason = field, message


class TooLargeError(RequestError):
    """A message, stream or audio file exceeds a configured limit (RESOURCE_EXHAUSTED)."""


class AlreadyExistsError(RequestError):
    """The request would create something that exists (ALREADY_EXISTS)."""


class UnauthenticatedError(PermissionError):
    """A mutating call without the configured bearer token (UNAUTHENTICATED)."""


class DeadlinePassedError(TimeoutError):
    """The caller's deadline passed before costly work started (DEADLINE_EXCEEDED)."""


_STATUS: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (TooLargeError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (RequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidAudioError, grpc.StatusCode.INVALID_ARGUMENT),
    (ConfigError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (NotReadyError, grpc.StatusCode.FAILED_PRECONDITION),
    (UnauthenticatedError, grpc.StatusCode.UNAUTHENTICATED),
    (DeadlinePassedError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (ResolutionProcessError, grpc.StatusCode.UNAVAILABLE),  # the resolution's process died: nothing changed, retry
)


def status_of(error: BaseException) -> grpc.StatusCode:
    """The status code for ``error`` (INTERNAL for anything not expected)."""
    for kind, code in _STATUS:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


_ID_PREFIX = os.urandom(4).hex()
_ID_COUNTER = itertools.count(1)
_current_request_id: ContextVar[str | None] = ContextVar("catalog_er_request_id", default=None)


def request_id(context: grpc.ServicerContext) -> str:
    """The id of the call being served: the one :func:`call_scope` set, else the caller's ``x-request-id``
    metadata, else a new one."""
    return _current_request_id.get() or _incoming_request_id(context)


def _incoming_request_id(context: grpc.ServicerContext) -> str:
    """The caller's ``x-request-id`` metadata, or a new id: this process's random prefix and a counter (no
    system call per request, unlike ``uuid4``)."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and value:
            return str(value)[:100]
    return f"{_ID_PREFIX}{next(_ID_COUNTER):08x}"


@contextmanager
def call_scope(context: grpc.ServicerContext) -> Iterator[str]:
    """Fix the request id of the call running in this thread (access log and error log then agree)."""
    request_id = _incoming_request_id(context)
    token = _current_request_id.set(request_id)
    try:
        yield request_id
    finally:
        _current_request_id.reset(token)


@dataclass(frozen=True)
class UndecodableMessage:
    """A request message the method's deserializer refused: ``problem`` is the decoder's message (it names the
    message type), ``size_bytes`` the size of the encoded message."""

    problem: str
    size_bytes: int

    def describe(self) -> str:
        """What is wrong, for a status message or a rejection reason."""
        return f"a message of {self.size_bytes:,} bytes that cannot be decoded ({self.problem})"


def lenient(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """``deserializer`` returning an :class:`UndecodableMessage` instead of raising on bytes it cannot decode."""
    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as error:  # the decoder's error type is its own (DecodeError, UnicodeDecodeError ...)
            return UndecodableMessage(str(error), len(data))

    return deserialize


def _decoded(message: Any, position: int | None = None) -> Any:
    """``message`` itself, or RequestError when it is an :class:`UndecodableMessage` (``position``: its 0-based
    place in a request stream)."""
    if isinstance(message, UndecodableMessage):
        where = "request" if position is None else f"request[{position}]"
        raise RequestError(where, message.describe())
    return message


async def _decoded_stream(messages: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The request stream ``messages``, ending the call with RequestError at its first undecodable message."""
    position = 0
    async for message in messages:
        yield _decoded(message, position)
        position += 1


class MethodCachedInterceptor(grpc.aio.ServerInterceptor):
    """An interceptor whose wrapping depends on the method alone: each method's handler is wrapped once and
    reused, instead of a new wrapper per call. Every interceptor of the server must be one (a cached handler
    skips the interceptors after it); per-call decisions belong inside the wrapped behaviour."""

    def __init__(self) -> None:
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(self, continuation: Callable, handler_call_details: grpc.HandlerCallDetails
                                ) -> Any:
        """The method's handler wrapped by :meth:`wrap_handler`, once per method."""
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is None:
            handler = await continuation(handler_call_details)
            if handler is None:
                return None  # unknown method: not cached, so clients cannot grow the table
            cached = self._wrapped.setdefault(method, self.wrap_handler(method, handler))
        return cached

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """``handler`` of ``method`` (the full ``/package.Service/Method`` name), wrapped."""
        raise NotImplementedError


class ErrorInterceptor(MethodCachedInterceptor):
    """Wraps every handler: exceptions become statuses (see :func:`status_of`), and so do undecodable request
    messages, except in the request streams of the methods in ``keep_undecodable`` (full
    ``/package.Service/Method`` names), which receive them as :class:`UndecodableMessage` items."""

    def __init__(self, keep_undecodable: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.keep_undecodable = keep_undecodable

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """``handler`` with every exception it raises turned into a status."""
        check: Callable[[Any], Any]
        if handler.request_deserializer is None:  # bytes in, nothing to decode
            check = _no_check
        elif handler.request_streaming:
            check = _no_check if method in self.keep_undecodable else _decoded_stream
        else:
            check = _decoded

        def guard(behaviour: Callable, streaming_response: bool) -> Callable:
            async def unary(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    return await behaviour(check(request_or_iterator), context)
                except Exception as error:
                    await _abort(context, method, error)

            async def streaming(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    async for response in behaviour(check(request_or_iterator), context):
                        yield response
                except Exception as error:
                    await _abort(context, method, error)

            return streaming if streaming_response else unary

        deserializer = handler.request_deserializer and lenient(handler.request_deserializer)
        return rewrap_handler(handler, guard, request_deserializer=deserializer)


def _no_check(request_or_iterator: Any) -> Any:
    return request_or_iterator


def rewrap_handler(handler: grpc.RpcMethodHandler, wrap: Callable[[Callable, bool], Callable], *,
                   request_deserializer: Callable[[bytes], Any] | None = None) -> grpc.RpcMethodHandler:
    """``handler`` with its behaviour replaced by ``wrap(behaviour, streaming_response)`` (the interceptors'
    one way to wrap a call, whatever its streaming kind), and its request deserializer by
    ``request_deserializer`` when one is given. Behaviours are coroutine functions, or async generator
    functions when the response streams."""
    kinds = (("unary_unary", False), ("unary_stream", True), ("stream_unary", False), ("stream_stream", True))
    for attribute, streaming_response in kinds:
        behaviour = getattr(handler, attribute)
        if behaviour is not None:
            factory = getattr(grpc, f"{attribute}_rpc_method_handler")
            return factory(wrap(behaviour, streaming_response),
                           request_deserializer=request_deserializer or handler.request_deserializer,
                           response_serializer=handler.response_serializer)
    return handler


MAX_STATUS_MESSAGE_CHARS = 1_000
"""Characters of a status message; the rest is cut ("…"). A status travels in a header, which clients refuse beyond
8 KB by default (they would see RESOURCE_EXHAUSTED instead of the real status); messages quote client values cut
short already (``service.io.validation.show_value``): this bounds whatever else a message holds."""


def status_message(error: Exception) -> str:
    """The message of the status ``error`` becomes, at most :data:`MAX_STATUS_MESSAGE_CHARS` characters."""
    message = str(error)
    return message if len(message) <= MAX_STATUS_MESSAGE_CHARS else message[: MAX_STATUS_MESSAGE_CHARS - 1] + "…"


async def _abort(context: grpc.aio.ServicerContext, method: str, error: Exception) -> None:
    if isinstance(error, grpc.aio.AbortError | grpc.RpcError):
        raise error  # already a status (context.abort was called)
    code = status_of(error)
    rid = request_id(context)
    if code == grpc.StatusCode.INTERNAL:
        log.exception("unexpected error", extra={"method": method, "request_id": rid})
        await context.abort(code, f"internal error (request id {rid})")
    message = status_message(error)
    log.info("request failed", extra={"method": method, "request_id": rid, "status": code.name, "error": message})
    await context.abort(code, message)
