"""Comparisons: how a pair's raw signals fall into ordered levels, each level's label beside its cut point.

As in splink, a comparison cuts one signal (or, for signals that are strongly dependent, two signals jointly)
into ordered *levels*, from "clearly different" up to "exact"; null when a side lacks the value. Every
level is one object holding its label and the cut point that defines it (:class:`Level`), so a label can
never drift from its rule, and :meth:`Comparison.definition` gives the whole rule as JSON: the model saves
it with its parameters (:mod:`resolver.fellegi_sunter`) and refuses parameters fitted on other rules.

The track comparisons are defined here (:data:`TRACK_COMPARISONS`); the artist ones in
:mod:`resolver.artists.comparisons`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from catalog_er.resolver.audio_evidence import AUDIO_LEVELS
from catalog_er.resolver.compare import MISSING


@dataclass(frozen=True)
class Level:
    """One level of a numeric scale: values at or beyond ``cut`` (and short of the next level's cut) fall in it;
    ``cut`` None is the catch-all first level. ``label`` names the level in evidence."""

    label: str
    cut: float | None = None


def at_least(cut: float, label: str | None = None) -> Level:
    """A level of an ascending scale holding values ``>= cut``; labelled ``">=0.85"`` unless ``label`` is given."""
    return Level(label if label is not None else f">={cut:.2f}", float(cut))


@dataclass(frozen=True)
class NumericScale:
    """A float signal cut into ordered levels, weakest first.

    ``signal``: the name of the pair-signal array (``(n_pairs,)`` floats, NaN when a side lacks the value).
    ``levels``: the first has no cut; ascending scales put a value in the last level whose cut it reaches
    (``value >= cut``), descending ones (``smaller_is_closer``, e.g. a duration difference in ms) in the last
    level whose cut it does not exceed (``value <= cut``). ``missing``: when given, a missing value is a level
    of its own (the first, with this label) instead of null."""

    signal: str
    levels: tuple[Level, ...]
    smaller_is_closer: bool = False
    missing: str | None = None

    def __post_init__(self) -> None:
        cuts = [level.cut for level in self.levels[1:]]
        if not self.levels or self.levels[0].cut is not None or any(cut is None for cut in cuts):
            raise ValueError(f"scale {self.signal!r}: only the first level has no cut point")
        ordered = sorted(cuts, reverse=self.smaller_is_closer)  # type: ignore[type-var]
        if cuts != ordered or len(set(cuts)) != len(cuts):
            raise ValueError(f"scale {self.signal!r}: cut points {cuts} must be strictly "
                             f"{'decreasing' if self.smaller_is_closer else 'increasing'}")

    @property
    def labels(self) -> tuple[str, ...]:
        """Label of every level, in code order (the missing level first when it has one)."""
        return ((self.missing,) if self.missing is not None else ()) + tuple(level.label for level in self.levels)

    def codes(self, signals: Any) -> np.ndarray:
        """``(n_pairs,)`` int8 level of each pair; -1 for a missing value unless it has a level of its own."""
        values = np.asarray(getattr(signals, self.signal), dtype=np.float64)
        cuts = np.array([level.cut for level in self.levels[1:]], dtype=np.float64)
        if self.smaller_is_closer:
            out = np.searchsorted(-cuts, -values, side="right").astype(np.int8)
        else:
            out = np.searchsorted(cuts, values, side="right").astype(np.int8)
        missing = np.isnan(values)
        if self.missing is None:
            out[missing] = MISSING
            return out
        out += 1
        out[missing] = 0
        return out

    def definition(self) -> dict[str, Any]:
        """The scale as JSON-ready data (see :meth:`Comparison.definition`)."""
        return {"signal": self.signal, "kind": "numeric", "smaller_is_closer": self.smaller_is_closer,
                "missing": self.missing, "levels": [[level.label, level.cut] for level in self.levels]}


@dataclass(frozen=True)
class CategoricalScale:
    """A signal that already is a level code (``(n_pairs,)`` int8: -1 missing, then ``0 .. len(labels) - 1``),
    e.g. ``isrc_match`` with labels ``("different", "same")``."""

    signal: str
    categories: tuple[str, ...]
    missing: str | None = None
    """When given, a missing value is a level of its own (the first, with this label) instead of null."""

    @property
    def labels(self) -> tuple[str, ...]:
        """Label of every level, in code order (the missing level first when it has one)."""
        return ((self.missing,) if self.missing is not None else ()) + self.categories

    def codes(self, signals: Any) -> np.ndarray:
        """``(n_pairs,)`` int8 level of each pair: the signal itself (shifted past the missing level if any)."""
        codes = np.asarray(getattr(signals, self.signal)).astype(np.int8)
        return codes if self.missing is None else (np.maximum(codes, -1) + 1).astype(np.int8)

    def definition(self) -> dict[str, Any]:
        """The scale as JSON-ready data (see :meth:`Comparison.definition`)."""
        return {"signal": self.signal, "kind": "categorical", "labels": list(self.categories),
                "missing": self.missing}


Scale = NumericScale | CategoricalScale


@dataclass(frozen=True)
class Comparison:
    """One comparison: a scale, or two scales combined into one level per pair of levels.

    A joint comparison's level is ``first · len(second) + second`` and its label ``label_format`` filled with
    both labels: title and artist agreement are strongly dependent among different recordings (a same-titled
    song by the same artist is rare, each alone is common), so they form one comparison with a level per
    combination instead of two independent ones whose weights would double count. A pair is null when any
    scale is null, and (``null_when_all_missing``) when every scale is at its own missing level.
    """

    name: str
    scales: tuple[Scale, ...]
    label_format: str = "{0}"
    null_when_all_missing: bool = False
    fixed_m: tuple[float, ...] | None = None
    """m-probabilities set by definition instead of learned (EM leaves them alone). A level whose fixed m is at or
    below :data:`resolver.fellegi_sunter.VETO_M` is a *veto*: a pair in it is never a duplicate, whatever else
    agrees."""
    fixed_u: tuple[float, ...] | None = None
    """u-probabilities set by definition (a property of the measuring instrument, e.g. how often the fingerprint
    verifier aligns two different recordings), for levels too rare among different recordings for EM to count;
    only together with ``fixed_m``."""
    monotone_groups: tuple[tuple[int, ...], ...] = ()
    """Runs of levels ordered by strength of agreement, whose weights must not decrease along the run: after
    EM, adjacent levels that violate that are pooled (pool-adjacent-violators). A top level too rare in
    the catalog for EM to see among duplicates ("the two ids share over half their audience") then weighs
    at least as much as the level below instead of nothing."""
    observed_when: tuple[tuple[str, bool], ...] = ()
    """``(signal, present)`` conditions under which the comparison is observed (null elsewhere): each signal must
    be present (a float not NaN, a flag set) or not, as given. Comparisons of one kind split this way into strata
    that get their own weights: the title alone where a side has no credit; field comparisons of pairs with a
    restructured record apart from those of sound pairs."""
    default_m: tuple[float, ...] | None = None
    """m-probabilities held when no anchor observes this comparison (a catalog without ISRCs): for a physical
    quantity whose agreement among duplicates does not depend on the catalog (the length of a recording), so
    that EM cannot fold pairs that disagree on it into the match class."""
    hold_m: bool = True
    """Whether anchors hold this comparison's m (:class:`Anchor`); False: they only start EM, which then learns m
    from all candidates. False for a stratum the anchors do not represent well (pairs with a scraped record:
    scraped stores carry no ISRCs)."""

    def __post_init__(self) -> None:
        if len(self.scales) not in (1, 2):
            raise ValueError(f"comparison {self.name!r} combines {len(self.scales)} scales; expected 1 or 2")
        if self.fixed_u is not None and self.fixed_m is None:
            raise ValueError(f"comparison {self.name!r}: fixed u needs fixed m (an instrument's rates come as a pair)")
        for kind, given in (("fixed", self.fixed_m), ("fixed u", self.fixed_u), ("default", self.default_m)):
            if given is not None and len(given) != len(self.level_labels):
                raise ValueError(f"comparison {self.name!r}: {len(given)} {kind} m for "
                                 f"{len(self.level_labels)} levels")

    @cached_property
    def level_labels(self) -> tuple[str, ...]:
        """Label of every level, in level order."""
        if len(self.scales) == 1:
            return tuple(self.label_format.format(label) for label in self.scales[0].labels)
        first, second = self.scales
        return tuple(self.label_format.format(a, b) for a in first.labels for b in second.labels)

    def levels(self, signals: Any) -> np.ndarray:
        """``(n_pairs,)`` int8 level of each pair (-1 = null)."""
        codes = [scale.codes(signals) for scale in self.scales]
        if len(codes) == 1:
            joint = codes[0]
        else:
            first, second = codes
            joint = (first.astype(np.int16) * len(self.scales[1].labels) + second).astype(np.int8)
            joint[(first < 0) | (second < 0)] = MISSING
            if self.null_when_all_missing:
                joint[(first == 0) & (second == 0)] = MISSING
        for signal, present in self.observed_when:
            joint[_present(getattr(signals, signal)) != present] = MISSING
        return joint

    def definition(self) -> dict[str, Any]:
        """The comparison as JSON-ready data: everything that decides a pair's level and a level's meaning."""
        return {"name": self.name, "scales": [scale.definition() for scale in self.scales],
                "label_format": self.label_format, "null_when_all_missing": self.null_when_all_missing,
                "fixed_m": None if self.fixed_m is None else list(self.fixed_m),
                "fixed_u": None if self.fixed_u is None else list(self.fixed_u),
                "monotone_groups": [list(group) for group in self.monotone_groups],
                "observed_when": [list(condition) for condition in self.observed_when], "hold_m": self.hold_m,
                "default_m": None if self.default_m is None else list(self.default_m)}


def comparison_levels(signals: Any, comparisons: Sequence[Comparison]) -> np.ndarray:
    """``(n_pairs, n_comparisons)`` int8 level matrix (-1 = null) of a pair-signal record."""
    if len(signals) == 0:
        return np.empty((0, len(comparisons)), dtype=np.int8)
    return np.column_stack([c.levels(signals) for c in comparisons]).astype(np.int8)


def _present(values: np.ndarray) -> np.ndarray:
    """``(n_pairs,)`` bool: where a signal is present — a float not NaN, a flag set."""
    if values.dtype.kind == "f":
        return ~np.isnan(values)
    return values.astype(bool)


@dataclass(frozen=True)
class Anchor:
    """Candidate pairs whose status one comparison settles: ``same_levels`` of comparison ``name`` are
    duplicates, ``different_levels`` are not (or mostly not). EM holds m on them
    (see :func:`resolver.fellegi_sunter.train_model`)."""

    name: str
    same_levels: tuple[int, ...]
    different_levels: tuple[int, ...]
    hold_m: bool = True
    """Hold m at the anchors' level distribution (False: only start EM there), for anchors whose pairs are
    a biased sample of all duplicates."""
    fallback: Anchor | None = None
    """The anchor to start EM from when this one settles too few pairs (a catalog without ISRCs)."""


def _same_or_not(name: str, signal: str, **options: Any) -> Comparison:
    return Comparison(name, (CategoricalScale(signal, ("different", "same")),), **options)


_TITLE = NumericScale("title_similarity", (Level("<0.70"), at_least(0.70), at_least(0.85), at_least(0.95),
                                           at_least(1.0, "exact")))
"""A placeholder title ("Track 07") is missing, so the joint comparison is null whatever the artist."""
_ARTIST = NumericScale("artist_similarity", (Level("<0.50"), at_least(0.50), at_least(0.80), at_least(0.95),
                                             at_least(1.0, "exact")))

_SOUND, _SMEARED = ("restructured", False), ("restructured", True)
_CREDITED, _UNCREDITED = ("artist_similarity", True), ("artist_similarity", False)

TRACK_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("title_artist", (_TITLE, _ARTIST), label_format="title {0} / artist {1}", observed_when=(_SOUND,)),
    # Where a side has no credit, the title alone: a missing credit is no evidence either way (it is a habit of
    # the record's source), so it gets no level of its own, whose m the anchors' sources would set.
    Comparison("title", (_TITLE,), label_format="title {0} (no artist)", observed_when=(_SOUND, _UNCREDITED)),
    # The same where a side was restructured (a scraped record, an artist or album pulled out of a title): its
    # title and credit were repaired or found in the other record's text (resolver.compare), and how often that
    # agrees among duplicates is learned from such pairs, not from the ISRC anchors' mostly sound ones.
    Comparison("title_artist_smeared", (_TITLE, _ARTIST), label_format="title {0} / artist {1} (smeared)",
               observed_when=(_SMEARED, _CREDITED), hold_m=False),
    Comparison("title_smeared", (_TITLE,), label_format="title {0} (no artist, smeared)",
               observed_when=(_SMEARED, _UNCREDITED), hold_m=False),
    # The whole record as one bag of words, where a side's fields may be smeared (no credit, an overlong title):
    # a title holding the artist and the album still matches its twin (null for records with sound fields).
    Comparison("record", (NumericScale("record_similarity", (Level("<0.30"), at_least(0.30), at_least(0.50),
                                                             at_least(0.70), at_least(0.85))),),
               label_format="words {0}", monotone_groups=((0, 1, 2, 3, 4),)),
    _same_or_not("isrc", "isrc_match"),
    Comparison("duration", (NumericScale("duration_delta_ms", (
        Level(">15s"), Level("<=15s", 15_000), Level("<=6s", 6_000), Level("<=3s", 3_000), Level("<=1s", 1_000)),
        smaller_is_closer=True),),
        # Without anchors: duplicates' lengths agree within a few seconds (the ISRC-anchored m of the benchmark
        # catalogs: ≤1 s 0.70–0.98, ≤3 s most of the rest, beyond 15 s under 1%)
        default_m=(0.005, 0.01, 0.035, 0.25, 0.70)),
    # A live take, remix, instrumental or re-recording is a different recording by definition: the
    # conflict level's m is fixed near zero so that no other agreement can outweigh it.
    Comparison("version", (CategoricalScale("version_match", ("conflict", "same")),), fixed_m=(1e-6, 1.0 - 1e-6)),
    # The recording itself (resolver.audio_evidence): two usable recordings that do not align are two recordings —
    # a reversed or re-cut copy, another take — whatever the metadata says (a copy carries any tag one likes), so
    # "no alignment" is a veto. m and u are the verifier's, from the fingerprint benchmarks, not learned: among
    # duplicates nearly all deliveries are copies of one master (a speed or tempo change or an excerpt is a partial
    # alignment); two different recordings never aligned there (0 of 125k pairs), and too few candidates of a
    # catalog have audio for EM to learn otherwise.
    Comparison("audio", (CategoricalScale("audio_match", AUDIO_LEVELS),),
               fixed_m=(1e-6, 0.03, 0.97 - 1e-6), fixed_u=(1.0 - 1.1e-4, 1e-4, 1e-5)),
    # Songs of one album share its year: among different recordings album and year agree together, so they form
    # one comparison (two would count one fact twice). Either may be missing, not both.
    Comparison("album_year", (CategoricalScale("album_match", ("different", "same"), missing="null"),
                              CategoricalScale("release_year_match", ("different", "same"), missing="null")),
               label_format="album {0} / year {1}", null_when_all_missing=True),
)

def _title_artist_anchor(name: str, fallback: Anchor | None = None, *, hold_m: bool = True) -> Anchor:
    """Same title and credit vs a clearly different title, on title-and-artist comparison ``name``."""
    labels = next(c for c in TRACK_COMPARISONS if c.name == name).level_labels
    return Anchor(name, same_levels=tuple(k for k, label in enumerate(labels)
                                          if label.startswith("title exact / artist exact")),
                  different_levels=tuple(k for k, label in enumerate(labels) if label.startswith("title <0.70")),
                  hold_m=hold_m, fallback=fallback)


TITLE_ARTIST_ANCHOR = _title_artist_anchor("title_artist", _title_artist_anchor("title_artist_smeared", hold_m=False))
"""Tracks without ISRCs: same title and credit are mostly one recording (versions are vetoed apart), a clearly
different title another one. On sound pairs it holds m of what it observes (duration, album and year): without
it EM drifts to another split of the candidates ("same artist", or "same album and year": songs of one album
agree on both). Where sound pairs are too few (a catalog of scraped stores) the restructured pairs' title and
credit levels only start EM: an exact agreement there depends on a repair having worked, a biased few."""
ISRC_ANCHOR = Anchor("isrc", same_levels=(1,), different_levels=(0,), fallback=TITLE_ARTIST_ANCHOR)
"""Tracks: two deliveries sharing a valid ISRC carry one recording; two different ISRCs, two recordings."""
