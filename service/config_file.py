"""``--config CONFIG.json``: the resolver's thresholds read from a JSON file (``resolve`` and ``serve``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog_er.resolver.config import ConfigError, ResolverConfig
from catalog_er.service.errors import InputFileError

MAX_CONFIG_BYTES = 1024 * 1024
"""Largest config file read, in bytes: a config is two levels of a few dozen settings, under 2 KiB."""


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's ``pairs`` as a dict; a key given twice raises ``ValueError`` (JSON would keep the last)."""
    values: dict[str, Any] = {}
    for key, value in pairs:
        if key in values:
            raise ValueError(f"the key {key!r:.80} is given twice")
        values[key] = value
    return values


def _refuse_constant(name: str) -> float:
    """``NaN``/``Infinity`` are not JSON numbers (Python's reader accepts them): raises ``ValueError``."""
    raise ValueError(f"{name} is not a JSON number")


def _read_json(path: Path) -> object:
    """The JSON value in ``path``; every way the file can be unusable raises ``InputFileError`` naming it."""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise InputFileError(f"config file {path} is {path.stat().st_size:,} bytes; the limit is "
                                 f"{MAX_CONFIG_BYTES:,}", path=path)
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark, as Windows editors write, is skipped
    except FileNotFoundError as error:
        raise InputFileError(f"config file {path} does not exist", path=path) from error
    except UnicodeDecodeError as error:
        raise InputFileError(f"config file {path} is not UTF-8 text (byte {error.start})", path=path) from None
    except OSError as error:
        raise InputFileError(f"config file {path} cannot be read: {error.strerror or error}", path=path) from None
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
    except RecursionError:
        raise InputFileError(f"config file {path} is nested too deeply; a config is an object of sections, each "
                             "an object of settings", path=path) from None
    except ValueError as error:  # json.JSONDecodeError, a repeated key, NaN, an integer of over 4,300 digits
        reason = "a number has too many digits" if "integer string conversion" in str(error) else error
        raise InputFileError(f"config file {path} is not valid JSON: {reason}", path=path) from None


def load_config(path: str | Path | None) -> ResolverConfig:
    """The config in the JSON object at ``path`` (sections and keys of ``resolver/config.py``), or the defaults
    when ``path`` is None.

    Raises ``InputFileError`` naming the file when it is missing, unreadable, too large, not UTF-8, not JSON or
    not a JSON object, and ``ConfigError`` naming the file and the key when a value is unknown or out of range.
    """
    if path is None:
        return ResolverConfig()
    values = _read_json(Path(path))
    if not isinstance(values, dict):
        kind = "null" if values is None else {list: "an array", str: "a string", bool: "a boolean"}.get(
            type(values), "a number")
        raise InputFileError(f"config file {path} must hold a JSON object of sections, got {kind}", path=path)
    try:
        return ResolverConfig.from_mapping(values)
    except ConfigError as error:
        raise ConfigError(f"config file {path}: {error}") from None
