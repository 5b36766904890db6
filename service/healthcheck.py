"""``python -m catalog_er.service.healthcheck``: exit 0 when the service answers SERVING, 1 otherwise.

The container's HEALTHCHECK runs it (standard ``grpc.health.v1`` check; no extra binary in the image). It reads
the variables ``catalog-er serve`` reads, so one set configures both; flags override them:

- ``CATALOG_ER_PORT`` (default 50051) and ``CATALOG_ER_HOST`` (default 127.0.0.1). A wildcard bind address
  (``0.0.0.0``, ``::``) is checked on the loopback, where the check runs.
- ``CATALOG_ER_TLS_CERT``: when set, the check connects over TLS and trusts that certificate (a self-signed one
  is the usual case in a container). The name checked against it is ``CATALOG_ER_TLS_SERVER_NAME`` when set,
  else the first name the certificate carries (DNS name, then IP address, then common name), so a certificate
  made for ``catalog.example.org`` still checks out on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import sys
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

DEFAULT_PORT = 50051
DEFAULT_HOST = "127.0.0.1"
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})
"""Bind addresses that mean "every interface": the check then connects on the loopback."""


def _port_from_environment() -> int:
    value = os.environ.get("CATALOG_ER_PORT", "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SystemExit(f"healthcheck: CATALOG_ER_PORT={value!r} is not a port number (1-65535)")
    return int(value)


def _parser() -> argparse.ArgumentParser:
    environment = os.environ
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=environment.get("CATALOG_ER_HOST") or DEFAULT_HOST,
                        help="address of the service (env CATALOG_ER_HOST; default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="gRPC port (env CATALOG_ER_PORT; default 50051)")
    parser.add_argument("--tls-cert", metavar="CERT.pem", default=environment.get("CATALOG_ER_TLS_CERT") or None,
                        help="connect over TLS trusting this certificate (env CATALOG_ER_TLS_CERT)")
    parser.add_argument("--server-name", default=environment.get("CATALOG_ER_TLS_SERVER_NAME") or None,
                        help="name to check the certificate against (env CATALOG_ER_TLS_SERVER_NAME; "
                             "default: the certificate's first name)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds")
    return parser


def target(host: str, port: int) -> str:
    """The gRPC target for ``host``/``port``: wildcards become the loopback, IPv6 literals get brackets."""
    host = DEFAULT_HOST if host in WILDCARD_HOSTS else host
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def certificate_names(address: str, certificate: Path, *, timeout: float) -> list[str]:
    """The names of the certificate served at ``address`` (``host:port``), which must verify against
    ``certificate``: DNS names, then IP addresses, then the common name, in that order.

    The names are read from a TLS handshake (the standard library decodes only verified peer certificates).
    """
    host, _, port = address.rpartition(":")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # the name is what we are asking for; the chain is still verified
    context.load_verify_locations(cafile=certificate)
    context.set_alpn_protocols(["h2"])
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as raw, \
            context.wrap_socket(raw) as tls:
        peer: dict[str, Any] = dict(tls.getpeercert() or {})
    alternatives: tuple[tuple[str, str], ...] = peer.get("subjectAltName", ())
    subject: tuple[tuple[tuple[str, str], ...], ...] = peer.get("subject", ())
    dns = [value for kind, value in alternatives if kind == "DNS"]
    addresses = [value for kind, value in alternatives if kind == "IP Address"]
    common = [value for relative_name in subject for key, value in relative_name if key == "commonName"]
    return [*dns, *addresses, *common]


def open_channel(address: str, *, tls_cert: Path | None, server_name: str | None, timeout: float) -> grpc.Channel:
    """A plaintext channel, or a TLS one trusting ``tls_cert`` and checking ``server_name`` (default: the first
    name of the served certificate)."""
    if tls_cert is None:
        return grpc.insecure_channel(address)
    if server_name is None:
        names = certificate_names(address, tls_cert, timeout=timeout)
        server_name = names[0] if names else None
    options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
    credentials = grpc.ssl_channel_credentials(root_certificates=tls_cert.read_bytes())
    return grpc.secure_channel(address, credentials, options=options)


def main(argv: list[str] | None = None) -> int:
    """Check once; 0 when the service answers SERVING, 1 otherwise."""
    args = _parser().parse_args(argv)
    address = target(args.host, args.port if args.port is not None else _port_from_environment())
    tls_cert = Path(args.tls_cert) if args.tls_cert else None
    if tls_cert is not None and not tls_cert.is_file():
        print(f"unhealthy: TLS certificate {tls_cert} does not exist", file=sys.stderr)
        return 1
    try:
        with open_channel(address, tls_cert=tls_cert, server_name=args.server_name, timeout=args.timeout) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=args.timeout)
    except grpc.RpcError as error:
        print(f"unhealthy: {address}: {error.code().name} {error.details()}", file=sys.stderr)
        return 1
    except OSError as error:  # the TLS handshake that reads the certificate's names (ssl.SSLError included)
        print(f"unhealthy: {address}: {error}", file=sys.stderr)
        return 1
    serving = answer.status == health_pb2.HealthCheckResponse.SERVING
    print("serving" if serving else health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main())
