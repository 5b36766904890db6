"""One place mapping exceptions to gRPC status codes, as a server interceptor.

Servicer code raises ordinary exceptions; the interceptor turns each into a status with a message that
names the field or value, and logs anything unexpected with the request id. A bad request never takes
the process down: every exception ends as a status on that one call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import grpc

from fingerprint.audio import InvalidAudioError
from resolver.config import ConfigError
from service.live import NotFoundError, NotReadyError

log = logging.getLogger("catalog_er.server")


class RequestError(ValueError):
    """The request itself is invalid; ``field`` names the offending field (INVALID_ARGUMENT)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class TooLargeError(RequestError):
    """A message, stream or audio file exceeds a configured limit (RESOURCE_EXHAUSTED)."""


class AlreadyExistsError(RequestError):
    """The request would create something that exists (ALREADY_EXISTS)."""


class UnauthenticatedError(PermissionError):
    """A mutating call without the configured bearer token (UNAUTHENTICATED)."""


_STATUS: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (TooLargeError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (RequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidAudioError, grpc.StatusCode.INVALID_ARGUMENT),
    (ConfigError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (NotReadyError, grpc.StatusCode.FAILED_PRECONDITION),
    (UnauthenticatedError, grpc.StatusCode.UNAUTHENTICATED),
)


def status_of(error: BaseException) -> grpc.StatusCode:
    """The status code for ``error`` (INTERNAL for anything not expected)."""
    for kind, code in _STATUS:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


def request_id(context: grpc.ServicerContext) -> str:
    """The caller's ``x-request-id`` metadata, or a new id."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and value:
            return str(value)[:100]
    return uuid.uuid4().hex[:16]


class ErrorInterceptor(grpc.ServerInterceptor):
    """Wraps every handler: exceptions become statuses (see :func:`status_of`)."""

    def intercept_service(self, continuation: Callable, handler_call_details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method

        def guard(behaviour: Callable, streaming_response: bool) -> Callable:
            def unary(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
                try:
                    return behaviour(request_or_iterator, context)
                except Exception as error:
                    _abort(context, method, error)

            def streaming(request_or_iterator: Any, context: grpc.ServicerContext) -> Any:
                try:
                    yield from behaviour(request_or_iterator, context)
                except Exception as error:
                    _abort(context, method, error)

            return streaming if streaming_response else unary

        return rewrap_handler(handler, guard)


def rewrap_handler(handler: grpc.RpcMethodHandler, wrap: Callable[[Callable, bool], Callable]
                   ) -> grpc.RpcMethodHandler:
    """``handler`` with its behaviour replaced by ``wrap(behaviour, streaming_response)`` (the interceptors'
    one way to wrap a call, whatever its streaming kind)."""
    kinds = (("unary_unary", False), ("unary_stream", True), ("stream_unary", False), ("stream_stream", True))
    for attribute, streaming_response in kinds:
        behaviour = getattr(handler, attribute)
        if behaviour is not None:
            factory = getattr(grpc, f"{attribute}_rpc_method_handler")
            return factory(wrap(behaviour, streaming_response), request_deserializer=handler.request_deserializer,
                           response_serializer=handler.response_serializer)
    return handler


def _abort(context: grpc.ServicerContext, method: str, error: Exception) -> None:
    if isinstance(error, grpc.RpcError) or context.code() is not None:
        raise error  # already a status (context.abort was called)
    code = status_of(error)
    rid = request_id(context)
    if code == grpc.StatusCode.INTERNAL:
        log.exception("unexpected error", extra={"method": method, "request_id": rid})
        context.abort(code, f"internal error (request id {rid})")
    log.info("request failed", extra={"method": method, "request_id": rid, "status": code.name,
                                      "error": str(error)})
    context.abort(code, str(error))
