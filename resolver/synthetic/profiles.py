"""Per-source habit profiles for :mod:`resolver.synthetic.sources`: which habits, at which shares, which variant.

Sources differ the way real feeds do: each writes durations in one unit (milliseconds, seconds, ``m:ss`` text
or minutes x 1000; the units are dealt out so that K >= 4 sources use all four), dates in its own format,
its own placeholder, and has its own mix of the optional habits, each on a drawn share of the records it
can change (never all of them, bar ``no_isrc``: a source that has no ISRCs has none). Several sources carry
no ISRCs; when K >= 4 one is scraped (most of its records in the scraped form; two from K >= 8, or as many as
asked for) and every habit appears in some source.

Pure: no I/O, printing or env reads.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from catalog_er.resolver.synthetic import habits as habits
from catalog_er.resolver.synthetic.scraped import ScrapedStyle, draw_scraped_style

__all__ = ["DURATION_UNITS", "HABITS", "Habit", "SourceProfile", "default_scraped_sources", "draw_profiles",
           "source_name"]

HABITS = ("artist_in_title", "album_in_title", "track_number", "placeholder", "duration_seconds", "duration_text",
          "duration_minutes", "duration_zero", "year_format", "scraped", "typo", "truncation", "edition_tag",
          "tokenization", "no_isrc")
"""The habit vocabulary (issue 11), in the order ground truth lists them."""
DURATION_UNITS = ("duration_seconds", "duration_text", "duration_minutes")
"""The duration habits that write another unit; a source without one writes milliseconds."""

# --- knobs: optional habit → (chance a source has it, range of its share; the why after the value) --------
OPTIONAL_HABITS: dict[str, tuple[float, tuple[float, float]]] = {
    "artist_in_title": (0.45, (0.30, 0.95)),  # feeds without an artist column put it in most titles
    "album_in_title": (0.35, (0.10, 0.70)),  # a release note on some titles
    "track_number": (0.35, (0.30, 0.90)),  # file-name-derived titles: most of that source's
    "placeholder": (0.60, (0.50, 0.98)),  # of the records with a missing value: usually the house style
    "duration_zero": (0.35, (0.02, 0.12)),  # "0" for an unknown or lost duration
    "year_format": (0.75, (0.50, 0.98)),  # most sources do not write ISO dates
    "truncation": (0.50, (0.03, 0.20)),  # fixed-width exports cut the long values
    "edition_tag": (0.50, (0.05, 0.35)),  # album with/without "(Deluxe Edition)"
    "tokenization": (0.45, (0.10, 0.70)),  # "( feat . X )"
}
TYPO_SHARE = (0.02, 0.15)  # every source mistypes some records (besides the clean catalog's own typos)
DURATION_UNIT_SHARE = (0.85, 0.98)  # a source's unit, on most of its records (aggregated feeds mix)
SCRAPED_SHARE = (0.70, 0.95)  # a scraped source: most of its records in the scraped form
NO_ISRC_SOURCE_SHARE = 0.6  # sources without ISRCs (at least one when K >= 2)
SCRAPED_FROM_SOURCES = 4  # one scraped source from this many sources on (two from twice as many)
COVERAGE_FROM_SOURCES = 4  # from this many sources on, every habit appears in some source
MIN_OPTIONAL_HABITS = 2  # no source is clean


@dataclass(frozen=True)
class Habit:
    """A habit of one source: ``share`` of the records it can change, in one ``variant`` ("" for none)."""

    share: float
    variant: str = ""


@dataclass(frozen=True)
class SourceProfile:
    """One source: its name, its weight (share of deliveries, before a recording's deliveries are spread over
    distinct sources), its habits and, for a scraped source, its page layout."""

    name: str
    weight: float
    habits: Mapping[str, Habit]  # habit name (HABITS) → setting; absent habits are not done
    scraped_style: ScrapedStyle | None = None

    def share(self, habit: str) -> float:
        """The share of its changeable records that this source applies ``habit`` to (0 when it has not)."""
        setting = self.habits.get(habit)
        return 0.0 if setting is None else setting.share

    @cached_property
    def duration_unit(self) -> str | None:
        """The source's duration habit among :data:`DURATION_UNITS`, or None (milliseconds)."""
        return next((unit for unit in DURATION_UNITS if unit in self.habits), None)

    def describe(self) -> str:
        """One line per source: each habit with its share and variant, in vocabulary order."""
        parts = []
        for name in HABITS:
            if name in self.habits:
                setting = self.habits[name]
                variant = f" {setting.variant!r}" if setting.variant else ""
                parts.append(f"{name} {setting.share:.0%}{variant}")
        layout = f"; scraped layout: {self.scraped_style.describe()}" if self.scraped_style else ""
        return f"{self.name} (weight {self.weight:.0%}): {', '.join(parts)}{layout}"


def source_name(index: int) -> str:
    """The ``source`` value of the source at 0-based ``index``: ``src1``, ``src2``, …"""
    return f"src{index + 1}"


def default_scraped_sources(n_sources: int) -> int:
    """How many of ``n_sources`` sources are scraped stores unless asked otherwise: one from
    :data:`SCRAPED_FROM_SOURCES` sources on, two from twice as many."""
    return int(n_sources >= SCRAPED_FROM_SOURCES) + int(n_sources >= 2 * SCRAPED_FROM_SOURCES)


def draw_profiles(rng: np.random.Generator, n_sources: int, *,
                  scraped_sources: int | None = None) -> tuple[SourceProfile, ...]:
    """``n_sources`` (>= 1) distinct, seeded source profiles (see the module docstring).

    ``scraped_sources``: how many of them are scraped stores, 0 to ``n_sources``; None: the default rule
    (:func:`default_scraped_sources`). The other draws do not depend on it, so the default gives the profiles
    an explicit count equal to the rule's gives.
    """
    n_scraped = default_scraped_sources(n_sources) if scraped_sources is None else scraped_sources
    if not 0 <= n_scraped <= n_sources:
        raise ValueError(f"scraped_sources must be between 0 and the number of sources ({n_sources}), "
                         f"got {scraped_sources}")
    rnd = random.Random(int(rng.integers(0, 2**62)))
    weights = 0.5 / n_sources + 0.5 * rng.dirichlet(np.full(n_sources, 2.0))
    order = rnd.sample(range(n_sources), n_sources)
    n_no_isrc = max(0 if n_sources == 1 else max(1, round(NO_ISRC_SOURCE_SHARE * n_sources)), n_scraped)
    scraped, no_isrc = set(order[:n_scraped]), set(order[:n_no_isrc])  # scraped sources carry no ISRCs
    units = _dealt(rnd, (None, *DURATION_UNITS), n_sources)
    date_variants = _dealt(rnd, habits.DATE_VARIANTS, n_sources)
    tokens = _dealt(rnd, habits.PLACEHOLDERS, n_sources)
    drawn: list[dict[str, Habit]] = []
    for _ in range(n_sources):
        chosen = {name for name, (chance, _) in OPTIONAL_HABITS.items() if rnd.random() < chance}
        while len(chosen) < MIN_OPTIONAL_HABITS:
            chosen.add(rnd.choice(list(OPTIONAL_HABITS)))
        drawn.append({name: Habit(0.0) for name in chosen})
    if n_sources >= COVERAGE_FROM_SOURCES:
        for name in OPTIONAL_HABITS:
            if not any(name in source for source in drawn):
                drawn[rnd.randrange(n_sources)][name] = Habit(0.0)
    profiles = []
    for s in range(n_sources):
        settings = {name: Habit(_share(rnd, OPTIONAL_HABITS[name][1]),
                                _variant(rnd, name, date_variants[s], tokens[s])) for name in sorted(drawn[s])}
        settings["typo"] = Habit(_share(rnd, TYPO_SHARE))
        unit = units[s]
        if unit is not None:
            settings[unit] = Habit(_share(rnd, DURATION_UNIT_SHARE),
                                   rnd.choice(habits.DURATION_TEXT_VARIANTS) if unit == "duration_text" else "")
        style = None
        if s in scraped:
            style = draw_scraped_style(rnd)
            settings["scraped"] = Habit(_share(rnd, SCRAPED_SHARE), "store page")
        if s in no_isrc:
            settings["no_isrc"] = Habit(1.0)
        ordered = {name: settings[name] for name in HABITS if name in settings}
        profiles.append(SourceProfile(source_name(s), float(weights[s]), ordered, style))
    return tuple(profiles)


def _dealt(rnd: random.Random, options: tuple, n: int) -> list:
    """``n`` options dealt from shuffled decks of ``options``: all differ until every option is used."""
    dealt: list = []
    while len(dealt) < n:
        deck = list(options)
        rnd.shuffle(deck)
        dealt += deck
    return dealt[:n]


def _share(rnd: random.Random, bounds: tuple[float, float]) -> float:
    """A share drawn uniformly in ``bounds``, rounded to whole percent (reports quote it exactly)."""
    return round(rnd.uniform(*bounds), 2)


def _variant(rnd: random.Random, habit: str, date_variant: str, token: str) -> str:
    """The variant a source uses for an optional ``habit`` (date format and placeholder are dealt)."""
    options = {
        "artist_in_title": habits.ARTIST_SEPARATORS, "album_in_title": habits.ALBUM_IN_TITLE_VARIANTS,
        "track_number": habits.TRACK_NUMBER_VARIANTS, "truncation": habits.TRUNCATION_MARKERS,
        "edition_tag": habits.EDITION_TAGS, "tokenization": habits.TOKENIZATION_VARIANTS,
    }
    if habit == "year_format":
        return date_variant
    if habit == "placeholder":
        return token
    return rnd.choice(options[habit]) if habit in options else ""
