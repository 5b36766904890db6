"""What ``catalog-er serve`` checks before it opens anything: the bearer token (never empty, sendable, from a
private file), whether an address reaches beyond this machine, and whether gRPC could serve TLS with the given
certificate and key. Every refusal is a :class:`SettingsError` naming the setting or file and what to give
instead (exit 2 in the CLI); a token is never shown in a message.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import stat
from dataclasses import dataclass
from pathlib import Path

from catalog_er.service.errors import CatalogInputError

LOOPBACK = "127.0.0.1"
"""Default address of the gRPC and metrics listeners: this machine only."""
MAX_TOKEN_CHARS = 4096
"""Longest bearer token accepted, in characters: the ``authorization`` header must fit gRPC's default 8 KiB
of request metadata."""
MAX_PEM_BYTES = 1024 * 1024
"""Largest ``--tls-cert``/``--tls-key``/``--token-file`` read, in bytes (a certificate chain is a few KiB)."""
_PRIVATE_KEY_MARKER = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_CERTIFICATE_MARKER = b"-----BEGIN CERTIFICATE-----"


class SettingsError(CatalogInputError):
    """A ``serve`` setting that cannot be used, or not safely: the message names it and says what to give."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` reaches this machine only: ``localhost``, 127.0.0.0/8 or ``::1`` (brackets allowed).
    Any other name or address, wildcards (``0.0.0.0``, ``::``) included, may be reachable from elsewhere."""
    name = host.strip().removeprefix("[").removesuffix("]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_token(token: str, origin: str) -> None:
    """Refuse a bearer token that would turn authentication off or that no client could send: empty, longer
    than ``MAX_TOKEN_CHARS``, or with a character outside printable ASCII or a space. ``origin`` names where
    it came from (``--token``, ``$CATALOG_ER_TOKEN``, a file) for the message; the token is never shown."""
    if not token:
        raise SettingsError(f"{origin} is empty: an empty token would turn authentication off; give a token, or "
                            "none at all to serve on the loopback without one")
    if len(token) > MAX_TOKEN_CHARS:
        raise SettingsError(f"{origin} is {len(token):,} characters long; the limit is {MAX_TOKEN_CHARS:,}")
    position = next((index for index, character in enumerate(token) if not "!" <= character <= "~"), None)
    if position is not None:
        raise SettingsError(f"{origin} holds a space, a control character or a character beyond ASCII at position "
                            f"{position}: a token is printable ASCII without spaces (gRPC metadata carries nothing "
                            "else)")


@dataclass(frozen=True)
class Exposure:
    """Who can reach a server and what they need: the settings the security rules are about, checked when built.

    A token is checked (:func:`check_token`); ``token_for_reads`` needs one; a ``host`` beyond the loopback with
    neither token nor ``tls``, or a ``metrics_port`` on a non-loopback ``metrics_host`` (plain HTTP, never
    authenticated), raises ``SettingsError`` unless ``insecure``."""

    host: str
    token: str | None
    tls: bool
    token_for_reads: bool = False
    metrics_port: int | None = None
    metrics_host: str = LOOPBACK
    insecure: bool = False

    def __post_init__(self) -> None:
        if self.token is not None:
            check_token(self.token, "the bearer token")
        if self.token_for_reads and self.token is None:
            raise SettingsError("--token-for-reads needs a token ($CATALOG_ER_TOKEN, --token-file or --token)")
        if self.insecure:
            return
        if not is_loopback(self.host) and self.token is None and not self.tls:
            raise SettingsError(
                f"--host {self.host} takes connections from other machines, and with neither a token nor TLS anyone "
                "who reaches it could change the catalog: set $CATALOG_ER_TOKEN (or --token-file) and "
                "--tls-cert/--tls-key, or add --insecure to serve it open anyway")
        if self.metrics_port is not None and not is_loopback(self.metrics_host):
            raise SettingsError(
                f"--metrics-host {self.metrics_host} would serve metrics to other machines over plain HTTP with no "
                f"authentication: add --insecure to allow it, or keep the metrics on {LOOPBACK} (the default)")

    def warnings(self) -> list[str]:
        """What a listener beyond the loopback leaves open (logged when the server starts)."""
        warnings = []
        if not is_loopback(self.host):
            if self.token is None:
                warnings.append(f"--host {self.host}: no token, so anyone who reaches the port can change the catalog")
            elif not self.tls:
                warnings.append(f"--host {self.host}: no TLS, so the bearer token crosses the network in clear text")
            if self.token is not None and not self.token_for_reads:
                warnings.append(f"--host {self.host}: look-ups need no token (add --token-for-reads to require it)")
        if self.metrics_port is not None and not is_loopback(self.metrics_host):
            warnings.append(f"--metrics-host {self.metrics_host}: metrics are served over plain HTTP to anyone")
        return warnings


def _read_small_file(path: Path, what: str) -> bytes:
    """The bytes of ``path``, a regular file of at most ``MAX_PEM_BYTES``; ``what`` names it in messages."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise SettingsError(f"{what} {path} is not a regular file")
        if status.st_size > MAX_PEM_BYTES:
            raise SettingsError(f"{what} {path} is {status.st_size:,} bytes; the limit is {MAX_PEM_BYTES:,}")
        return path.read_bytes()
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise SettingsError(f"{what} {path} cannot be read: {reason}") from None


def read_token_file(path: Path) -> str:
    """The bearer token in the file at ``path`` (surrounding whitespace and the final newline dropped).

    The file must not be readable or writable by other users (``chmod 600``; mode 0640 with a group is fine):
    a token every local user can read is as exposed as one on the command line. Raises ``SettingsError``."""
    origin = f"token file {path}"
    data = _read_small_file(path, "token file")
    mode = path.stat().st_mode
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise SettingsError(f"{origin} can be read or written by every user (mode {stat.S_IMODE(mode):o}); "
                            f"make it private: chmod 600 {path}")
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError as error:
        raise SettingsError(f"{origin} holds a byte that is not ASCII at position {error.start}: a token is "
                            "printable ASCII") from None
    check_token(token, origin)
    return token


def _ssl_reason(error: ssl.SSLError) -> str:
    """OpenSSL's reason for ``error``, without the ``(_ssl.c:NNNN)`` location."""
    text = str(error.args[-1]) if error.args else str(error)
    return re.sub(r"^\[\w+\]\s*|\s*\(_ssl\.c:\d+\)$", "", text)


class _EncryptedKey(Exception):
    """Raised from the passphrase callback: the key is encrypted (gRPC cannot ask for a passphrase)."""


def _no_passphrase() -> str:
    raise _EncryptedKey


def check_tls_files(cert: Path, key: Path) -> None:
    """Refuse a certificate chain or private key gRPC could not serve with, naming the file: not readable, not
    PEM, undecodable, an encrypted key, or a key that does not belong to the certificate. (gRPC itself only
    says "failed to bind".) Raises ``SettingsError``."""
    cert_text = _read_small_file(cert, "TLS certificate")
    if _CERTIFICATE_MARKER not in cert_text:
        raise SettingsError(f"TLS certificate {cert} holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' "
                            "line)")
    if not _PRIVATE_KEY_MARKER.search(_read_small_file(key, "TLS key")):
        raise SettingsError(f"TLS key {key} holds no PEM private key (no '-----BEGIN ... PRIVATE KEY-----' line)")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cadata=cert_text.decode("latin-1").encode("ascii", "replace").decode())
    except ssl.SSLError as error:
        raise SettingsError(f"TLS certificate {cert} holds a certificate that cannot be decoded (OpenSSL: "
                            f"{_ssl_reason(error)})") from None
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except _EncryptedKey:
        raise SettingsError(f"TLS key {key} is encrypted with a passphrase, which gRPC cannot ask for; decrypt it "
                            f"(openssl pkey -in {key} -out KEY.pem) and keep that file private") from None
    except ssl.SSLError as error:
        if error.reason == "KEY_VALUES_MISMATCH":
            raise SettingsError(f"TLS key {key} is not the private key of the certificate in {cert}") from None
        raise SettingsError(f"TLS key {key} holds a private key that cannot be decoded (OpenSSL: "
                            f"{_ssl_reason(error)})") from None
