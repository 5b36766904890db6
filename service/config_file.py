"""``--config CONFIG.json``: the resolver's thresholds read from a JSON file (``resolve`` and ``serve``)."""

from __future__ import annotations

import json
from pathlib import Path

from catalog_er.resolver.config import ResolverConfig
from catalog_er.service.errors import InputFileError


def load_config(path: str | Path | None) -> ResolverConfig:
    """The config in the JSON object at ``path`` (sections and keys of ``resolver/config.py``), or the defaults
    when ``path`` is None.

    Raises ``InputFileError`` naming the file when it is missing, unreadable or not a JSON object, and
    ``ConfigError`` naming the key when a value is unknown or out of range.
    """
    if path is None:
        return ResolverConfig()
    try:
        values = json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise InputFileError(f"config file {path} does not exist", path=path) from error
    except json.JSONDecodeError as error:
        raise InputFileError(f"config file {path} is not valid JSON: {error}", path=path) from error
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"config file {path} cannot be read: {error}", path=path) from error
    if not isinstance(values, dict):
        raise InputFileError(f"config file {path} must hold a JSON object of sections, got {type(values).__name__}",
                             path=path)
    return ResolverConfig.from_mapping(values)
