"""Stage timing shared by the pipelines: each stage's wall seconds, and a callback when one starts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

StageCallback = Callable[[str], None]
"""Called with a stage name when that stage starts (the CLI shows it as progress)."""


class StageTimer:
    """Times named stages (``seconds``: name → wall seconds) and reports each start to ``on_stage``."""

    def __init__(self, on_stage: StageCallback | None) -> None:
        self.seconds: dict[str, float] = {}
        self._on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block as stage ``name``."""
        if self._on_stage is not None:
            self._on_stage(name)
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
