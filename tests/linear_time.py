"""Does a routine's work grow linearly with its input? Measured on hostile text, in a child process that a hang
guard kills.

Not a speed test: no absolute time is asserted. The growth of a routine is the ratio of its time on a text
:data:`GROWTH` times longer to its time on the shorter one, both measured in the same run, interleaved, as the best
of several tries: about ``GROWTH`` (16) when the work is linear, ``GROWTH²`` (256) when it is quadratic. The verdict
takes the middle (:data:`MAX_GROWTH`, 4× from either), so a busy machine that slows one side of a measurement
fourfold still cannot turn one into the other; a measurement over it is taken again before it counts, and runs of
microseconds (:data:`NOISE_FLOOR_SECONDS`) are too short to judge.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

import pytest

GROWTH = 16
"""How many times longer the long text is than the short one."""
MAX_GROWTH = 64
"""Largest time ratio taken as linear (the geometric middle of GROWTH and GROWTH²)."""
ATTEMPTS = 3
"""Measurements of one case before a ratio over MAX_GROWTH counts."""
TRIES = 2
"""Runs of each size per measurement (the fastest counts)."""
NOISE_FLOOR_SECONDS = 0.002
"""A long run faster than this counts as linear whatever the ratio: timer and scheduler noise dominates a run of
microseconds, and quadratic work on ``GROWTH × length`` characters (256 million steps at 16,000) takes far
longer."""
HANG_GUARD_SECONDS = 300.0
"""How long all the cases of one check may take before the child is killed (the linear ones take seconds)."""

HOSTILE_UNITS: dict[str, str] = {
    "opening brackets": "(",
    "square brackets": "[",
    "curly brackets": "{",
    "full-width brackets": "（【",
    "bracket, space": "( ",
    "space, bracket": " (",
    "hyphens": "-",
    "spaced hyphens": " - ",
    "spaced dashes": " —",
    "spaces": " ",
    "tabs and newlines": "\t\n",
    "digits": "1",
    "spaced digits": "1 ",
    "digit, hyphen": "0-",
    "combining marks": "\u0301",
    "ligature U+FDFA": "\ufdfa",
    "square word U+337F": "\u337f",
    "CJK": "漢",
    "emoji": "\U0001f600",
    "featuring": "feat ",
    "edition words in brackets": "(deluxe ",
    "edition words": " deluxe",
    "version tags": "(Live ",
    "dashed edition": " - 2011",
    "colons": "a: ",
    "ampersands": "&",
    "dots": ".",
    "words": "ab ",
}
"""Repeated units that a text routine may handle in more than linear time."""


def hostile_texts(length: int, units: Sequence[str] | None = None) -> dict[str, str]:
    """Each of ``units`` (names of :data:`HOSTILE_UNITS`; all by default) repeated to about ``length`` characters,
    alone and between words (a pattern anchored at the start or the end meets the run elsewhere):
    ``{"spaces": ..., "spaces, between words": ...}``."""
    texts = {}
    for name in units or HOSTILE_UNITS:
        unit = HOSTILE_UNITS[name]
        run = unit * max(1, length // len(unit))
        texts[name] = run
        texts[f"{name}, between words"] = f"a {run} z"
    return texts


@dataclass(frozen=True)
class Growth:
    """One case's measured growth: its name, the fastest time of each size (seconds) and their ratio."""

    case: str
    short_seconds: float
    long_seconds: float

    @property
    def ratio(self) -> float:
        return self.long_seconds / max(self.short_seconds, 1e-7)

    @property
    def linear(self) -> bool:
        """At most :data:`MAX_GROWTH`, or too fast for the ratio to mean anything (:data:`NOISE_FLOOR_SECONDS`)."""
        return self.ratio <= MAX_GROWTH or self.long_seconds < NOISE_FLOOR_SECONDS


def _fastest_pair(run: Callable[[str], object], short: str, long: str) -> tuple[float, float]:
    """The fastest of :data:`TRIES` interleaved runs on ``short`` and on ``long`` (seconds each)."""
    best = [float("inf"), float("inf")]
    for _ in range(TRIES):
        for k, text in enumerate((short, long)):
            started = time.perf_counter()
            run(text)
            best[k] = min(best[k], time.perf_counter() - started)
    return best[0], best[1]


def measure_growth(run: Callable[[str], object], length: int, units: Sequence[str] | None = None) -> list[Growth]:
    """The growth of ``run`` on the hostile texts of ``units`` (:func:`hostile_texts`), from ``length`` to
    ``GROWTH × length`` characters; a ratio over :data:`MAX_GROWTH` is measured again, up to :data:`ATTEMPTS`
    times, and the lowest kept."""
    shorts, longs = hostile_texts(length, units), hostile_texts(GROWTH * length, units)
    results = []
    gc.disable()
    try:
        for case in shorts:
            run(shorts[case])  # warm-up (imports, caches of other values)
            growth = Growth(case, *_fastest_pair(run, shorts[case], longs[case]))
            for _ in range(ATTEMPTS - 1):
                if growth.linear:
                    break
                again = Growth(case, *_fastest_pair(run, shorts[case], longs[case]))
                growth = min(growth, again, key=lambda g: g.ratio)
            results.append(growth)
    finally:
        gc.enable()
    return results


def _child(check: Callable[[], object], connection: Connection) -> None:
    try:
        connection.send(("ok", check()))
    except BaseException:  # reported to the parent, which fails the test with it
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


def within_hang_guard(check: Callable[[], object], *, seconds: float = HANG_GUARD_SECONDS) -> object:
    """``check()`` run in a forked child process, its result returned; the test fails when the child does not
    answer within ``seconds`` (it is killed: a regular expression stuck in C cannot be interrupted otherwise)."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(check, sender), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            pytest.fail(f"no answer within {seconds:.0f} s: the work is not linear (or it hangs)")
        status, value = receiver.recv()
    finally:
        child.kill()
        child.join()
    if status == "error":
        pytest.fail(f"the check failed in the child process:\n{value}")
    return value


def assert_linear(run: Callable[[str], object], *, length: int, units: Sequence[str] | None = None) -> None:
    """Fail unless ``run`` grows linearly on the hostile texts of ``units`` (all by default; see the module
    docstring), within the hang guard."""
    results: Sequence[Growth] = within_hang_guard(  # type: ignore[assignment]
        lambda: measure_growth(run, length, units))
    worst = [g for g in results if not g.linear]
    assert not worst, "super-linear: " + "; ".join(
        f"{g.case}: {g.short_seconds * 1e3:.2f} ms at {length} chars, {g.long_seconds * 1e3:.2f} ms at "
        f"{GROWTH * length} (×{g.ratio:.0f})" for g in worst)
