"""Value repairs of single fields for :mod:`resolver.repair`: placeholders, release dates, durations.

Pure functions of one value (dates, duration text) or of one numeric column (duration units); the caller applies
them to the distinct values of the rows that may need them.

* **Placeholders** (:func:`placeholder_pattern`): a whole value that only says "unknown" ("[unknown]", "unk.",
  "N/A", "-", "?", "null", "Unknown Artist", "Various Artists" as an artist, "[non-album tracks]" as an album,
  "0000-00-00" as a date …), case-insensitive and surrounded by nothing but spaces. A value that merely contains
  such a word ("Unknown Pleasures", "N/A Blues") is no placeholder.
* **Release dates** (:func:`parse_release_date`): ``"1996"``, ``"96"``, ``"'96"``, ``"1996-03-17"``,
  ``"1996/03"``, ``"19960317"``, ``"03/17/1996"``, ``"17.03.1996"``, ``"March 17 , 1996"``, ``"17-Mar-96"``,
  ``"Mar 1996"``, ``"℗ 1996 Some Label"`` → ``"YYYY-MM-DD"``, ``"YYYY-MM"`` or ``"YYYY"`` (as precise as the
  value). Two-digit years pivot on :data:`TWO_DIGIT_YEAR_PIVOT`; a numeric date whose day and month are both
  ≤ 12 keeps only its year unless the source's other dates show its order. Anything else is unparseable.
* **Duration text** (:func:`parse_duration_text`): ``"4:05"``, ``"1:02:03"``, ``"4m 5sec"``, ``"4 min 5 s"``,
  ``"245s"``, ``"PT4M5S"`` → milliseconds.
* **Duration units** (:func:`duration_factors`): see :class:`DurationEvidence`.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

import numpy as np

# --- placeholders ---------------------------------------------------------------------------------------

_PLACEHOLDER_ANY = (
    r"unknown|unk\.?|n/?a|n\.a\.|null|none|nil|nan|undefined|tbd|tba|not available|-+|–|—|\?+|\.+"
    r"|[\[(<]\s*(?:unknown|none|null|n/?a|empty|blank)\s*[\])>]"
    r"|unknown (?:title|track|artist|album|label|date)"
)
_PLACEHOLDER_IN_COLUMN = {
    "artist": r"various(?: artists)?|va|v/a|v\.a\.|unknown artists|no artist|\[(?:various artists|no artist)\]",
    "album": r"\[?non[- ]album (?:tracks?|singles?)\]?|no album|\[no album\]",
    "label": r"\[?no label\]?|not on label",
    "release_date": r"0{1,4}(?:[-/.]0{1,2}){0,2}",
}
PLACEHOLDER_COLUMNS = ("title", "artist", "album", "isrc", "release_date", "label")
"""Text columns whose placeholders become null (the title, which is required, becomes ``""``)."""


def placeholder_pattern(column: str) -> str:
    """The regular expression (RE2 and Python syntax alike) of a whole placeholder value of ``column``."""
    extra = _PLACEHOLDER_IN_COLUMN.get(column)
    body = _PLACEHOLDER_ANY if extra is None else f"{_PLACEHOLDER_ANY}|{extra}"
    return rf"(?i)^\s*(?:{body})\s*$"


# --- release dates --------------------------------------------------------------------------------------

TWO_DIGIT_YEAR_PIVOT = 30
"""Two-digit years below this are 20xx, the others 19xx ("'96" → 1996, "08" → 2008, "29" → 2029): fixed, so a
result never depends on the day it is computed."""
EARLIEST_YEAR, LATEST_YEAR = 1850, 2100
"""Years a release date may name; a four-digit number outside is no year."""
CANONICAL_DATE = r"^[12]\d{3}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$"
"""``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``: what a repaired date looks like (RE2 and Python syntax alike)."""

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTH_WORD = r"(?P<month>[A-Za-z]{3,9})\.?"
_YEAR = r"(?P<year>\d{4}|['’]?\d{2})"
_DATE_FORMS = tuple(re.compile(form, re.IGNORECASE) for form in (
    r"^(?P<year>\d{4})[-/. ](?P<month>\d{1,2})(?:[-/. ](?P<day>\d{1,2}))?(?:[T ].*)?$",  # 1996-03-17
    r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$",  # 19960317
    rf"^(?P<day>\d{{1,2}})(?:st|nd|rd|th)?[-/. ]*{_MONTH_WORD}[-/., ]*{_YEAR}$",  # 17-Mar-96, 17 March 1996
    rf"^{_MONTH_WORD}[-/. ]*(?P<day>\d{{1,2}})(?:st|nd|rd|th)?[ ,]+{_YEAR}$",  # March 17 , 1996
    rf"^{_MONTH_WORD}[-/., ]*{_YEAR}$",  # March 1996, Mar-96
    rf"^{_YEAR}$",  # 1996, 96, '96
))
_NUMERIC_DATE = re.compile(r"^(?P<first>\d{1,2})[-/.](?P<second>\d{1,2})[-/.](?P<year>\d{4}|\d{2})$")
_DIGIT_RUNS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_LONE_YEAR_CHARS = 40  # a longer text with one year in it is more likely a note than a date


def _full_year(text: str) -> int | None:
    digits = text.lstrip("'’")
    if len(digits) == 2:
        short = int(digits)
        return 2000 + short if short < TWO_DIGIT_YEAR_PIVOT else 1900 + short
    year = int(digits)
    return year if EARLIEST_YEAR <= year <= LATEST_YEAR else None


def _month_number(word: str) -> int | None:
    """1–12 for a month number or an English month name or abbreviation ("Mar", "Sept", "March"), 0 for an
    unknown month ("00"), else None."""
    word = word.lower()
    if word.isdigit():  # 0 or 00: the month is unknown, only the year is kept
        return int(word) if int(word) <= 12 else None
    matches = [number for name, number in _MONTHS.items() if len(word) >= 3 and name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def _format_date(year: int, month: int | None, day: int | None) -> str | None:
    """``YYYY-MM-DD`` / ``YYYY-MM`` / ``YYYY``; a month or day of 0 drops that precision; None if impossible."""
    if not month:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if not day:
        return f"{year:04d}-{month:02d}"
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_release_date(text: str, *, day_first: bool | None = None) -> str | None:
    """``text`` as ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` (see the module docstring), or None if unparseable.

    ``day_first``: the order of a numeric date whose first two numbers are both ≤ 12 ("03/04/1996"): True for
    day/month, False for month/day, None when unknown (then only the year is kept).
    """
    cleaned = _SPACES.sub(" ", text.strip().replace(" ,", ",").replace(" .", "."))
    numeric = _NUMERIC_DATE.match(cleaned)
    if numeric:
        year = _full_year(numeric["year"])
        first, second = int(numeric["first"]), int(numeric["second"])
        if year is None:
            return None
        if first > 12 or (day_first and second <= 12):
            return _format_date(year, second, first)
        if second > 12 or day_first is False:
            return _format_date(year, first, second)
        return f"{year:04d}"  # 03/04/1996: March 4th or 3rd April, only the year is sure
    for form in _DATE_FORMS:
        match = form.match(cleaned)
        if match is None:
            continue
        fields = match.groupdict()
        year = _full_year(fields["year"])
        month = _month_number(fields["month"]) if fields.get("month") else None
        if year is None or (fields.get("month") is not None and month is None):
            return None
        return _format_date(year, month, int(fields["day"]) if fields.get("day") else None)
    runs = _DIGIT_RUNS.findall(cleaned)
    if len(runs) == 1 and len(runs[0]) == 4 and len(cleaned) <= _LONE_YEAR_CHARS:  # "℗ 1996 Some Label"
        year = _full_year(runs[0])
        return None if year is None else f"{year:04d}"
    return None


def numeric_date_order(first: np.ndarray, second: np.ndarray) -> bool | None:
    """Whether a source writes numeric dates day first, from the first two numbers of its ``dd/mm/yyyy`` or
    ``mm/dd/yyyy`` dates (int arrays): True when only the first ever exceeds 12, False when only the second
    does, None when neither or both (no evidence, or a source that mixes orders)."""
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    return day_first if day_first != month_first else None


# --- durations ------------------------------------------------------------------------------------------

_CLOCK = re.compile(r"^(?:(?P<hours>\d{1,2}):)?(?P<minutes>\d{1,3}):(?P<seconds>[0-5]\d)"
                    r"(?:[.,](?P<fraction>\d{1,3}))?$")
_WORDS = re.compile(
    r"^(?:(?P<hours>\d{1,2})\s*h(?:ours?|rs?)?\s*)?(?:(?P<minutes>\d{1,3})\s*m(?:in(?:utes?|s)?)?\s*)?"
    r"(?:(?P<seconds>\d{1,5})(?:[.,](?P<fraction>\d{1,3}))?\s*s(?:ec(?:onds?|s)?)?)?$",
    re.IGNORECASE,
)
_ISO_DURATION = re.compile(
    r"^PT(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)(?:\.(?P<fraction>\d{1,3}))?S)?$", re.IGNORECASE)


def parse_duration_text(text: str) -> int | None:
    """Milliseconds of a duration written as text ("4:05", "1:02:03", "4m 5sec", "4 min 5 s", "245s", "PT4M5S"),
    or None when ``text`` is none of these (a bare number has no unit: see :func:`duration_factors`)."""
    cleaned = text.strip()
    for form in (_CLOCK, _WORDS, _ISO_DURATION):
        match = form.match(cleaned)
        if match is None or not any(match.group(name) for name in ("hours", "minutes", "seconds")):
            continue
        parts = {name: int(match.group(name) or 0) for name in ("hours", "minutes", "seconds")}
        fraction = (match.group("fraction") or "").ljust(3, "0")
        total = ((parts["hours"] * 60 + parts["minutes"]) * 60 + parts["seconds"]) * 1000 + int(fraction or 0)
        return total if total > 0 else None
    return None


DURATION_UNITS = ("ms", "seconds", "minutes_x1000")
"""How a source writes ``duration_ms``: milliseconds (245000), seconds (245), minutes × 1000 (4.085 minutes as
4085)."""
UNIT_EVIDENCE_SHARE = 0.05
"""A source writes a unit when at least this share of its durations lie where only that unit reads them as a
song (5 %: far above the skits and glitches of a clean catalog, far below any real habit)."""
# Raw values that only one unit reads as a song of 20 s – 40 min (the bands overlap between them):
MIN_UNIT_EVIDENCE = 3
"""Values a unit's band must hold before the unit counts as written (a tiny source proves nothing)."""
_SECONDS_ONLY = (20, 333)  # as seconds 20 s – 5.5 min; as minutes × 1000 under 20 s; as ms under 0.4 s
_MINUTES_ONLY = (2400, 20_000)  # as minutes × 1000 2.4 – 20 min; as seconds over 40 min; as ms 2.4 – 20 s
_MS_ONLY = 40_000  # and up: as ms 40 s and longer; as minutes × 1000 over 40 min
_SECONDS_OR_MINUTES_SPLIT = 980
"""Between the seconds-only and minutes-only bands a value is read in the unit that makes it closer to a
4-minute song (√(240 × 4000) ≈ 980): 400 is 6.7 min as seconds rather than 24 s, 2000 is 2 min rather than 33."""
_TOO_SHORT = 20  # no unit we read makes a song of fewer than 20 raw units


@dataclass(frozen=True)
class DurationEvidence:
    """Which units one source writes, from the shares of its positive durations in each unit's own band.

    The rule per value ``v`` (the factor turns it into milliseconds; "unchanged" means read as ms):

    * ``v ≤ 0`` or ``v < 20``: unknown → null (no unit makes it a song);
    * ``20 ≤ v < 333``: seconds (as ms it would last under 0.4 s);
    * ``333 ≤ v < 2400``: seconds or minutes × 1000 — the unit the source writes, or when it writes both or
      neither, seconds below 980 and minutes × 1000 from there;
    * ``2400 ≤ v < 20000``: minutes × 1000 when the source writes them, seconds when it writes seconds and no
      ms, else unchanged (a 2.4–20 s skit in ms);
    * ``20000 ≤ v < 40000``: minutes × 1000 when the source writes them and no ms, else unchanged;
    * ``v ≥ 40000``: milliseconds, unchanged.

    Without evidence (an unseen source, a catalog of one unit) only the first three rules change anything, and
    those only touch values that are no song length in milliseconds.
    """

    seconds: bool = False
    minutes_x1000: bool = False
    ms: bool = True

    @classmethod
    def from_values(cls, values: np.ndarray) -> DurationEvidence:
        """Evidence from one source's raw ``duration_ms`` values (int64, nulls removed): a unit is written when
        :data:`UNIT_EVIDENCE_SHARE` of the positive values, and at least :data:`MIN_UNIT_EVIDENCE` of them, lie
        in its own band (milliseconds also when no other unit is written)."""
        counts, total = _unit_counts(values)
        used = {unit: count >= max(MIN_UNIT_EVIDENCE, UNIT_EVIDENCE_SHARE * total) for unit, count in counts.items()}
        other = used["seconds"] or used["minutes_x1000"]
        return cls(seconds=used["seconds"], minutes_x1000=used["minutes_x1000"], ms=used["ms"] or not other)

    def units(self) -> list[str]:
        """The units this source writes (names of :data:`DURATION_UNITS`)."""
        return [unit for unit, used in zip(DURATION_UNITS, (self.ms, self.seconds, self.minutes_x1000), strict=True)
                if used]


def _unit_counts(values: np.ndarray) -> tuple[dict[str, int], int]:
    """How many positive ``values`` lie in each unit's own band, and how many are positive."""
    positive = values[values > 0]
    counts = {
        "ms": int((positive >= _MS_ONLY).sum()),
        "seconds": int(((positive >= _SECONDS_ONLY[0]) & (positive < _SECONDS_ONLY[1])).sum()),
        "minutes_x1000": int(((positive >= _MINUTES_ONLY[0]) & (positive < _MINUTES_ONLY[1])).sum()),
    }
    return counts, len(positive)


def unit_shares(values: np.ndarray) -> dict[str, float]:
    """Share of the positive ``values`` in each unit's own band (see :class:`DurationEvidence`)."""
    counts, total = _unit_counts(values)
    return {unit: counts[unit] / total if total else 0.0 for unit in DURATION_UNITS}


def duration_factors(values: np.ndarray, *, seconds: np.ndarray, minutes_x1000: np.ndarray,
                     ms: np.ndarray) -> np.ndarray:
    """``(n,)`` int64 factor turning each raw value into milliseconds: 1, 1000 (seconds), 60 (minutes × 1000),
    or 0 for unknown (the caller nulls it). ``values``: ``(n,)`` int64 raw durations; ``seconds``,
    ``minutes_x1000``, ``ms``: ``(n,)`` bool, what each value's source writes (:class:`DurationEvidence`)."""
    factor = np.ones(len(values), dtype=np.int64)
    factor[values < _TOO_SHORT] = 0
    band = (values >= _SECONDS_ONLY[0]) & (values < _SECONDS_ONLY[1])
    factor[band] = 1000
    band = (values >= _SECONDS_ONLY[1]) & (values < _MINUTES_ONLY[0])
    as_minutes = np.where(seconds == minutes_x1000, values >= _SECONDS_OR_MINUTES_SPLIT, minutes_x1000)
    factor[band] = np.where(as_minutes[band], 60, 1000)
    band = (values >= _MINUTES_ONLY[0]) & (values < _MINUTES_ONLY[1])
    factor[band] = np.where(minutes_x1000[band], 60, np.where(seconds[band] & ~ms[band], 1000, 1))
    band = (values >= _MINUTES_ONLY[1]) & (values < _MS_ONLY)
    factor[band] = np.where(minutes_x1000[band] & ~ms[band], 60, 1)
    return factor
