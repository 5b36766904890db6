"""Run Splink (DuckDB backend) on a ``tracks.parquet``, set up as a careful Splink user would.

This is the *peer* for the catalog-er benchmark: the tool a user would otherwise reach for. It uses no
catalog-er code at all, only DuckDB SQL for feature preparation and Splink's own training, prediction and
clustering, so the benchmark can put F1, calibration, wall time and peak memory side by side.

Usage::

    python tests/benchmarks/splink_peer.py --tracks T.parquet --out DIR [--threshold 0.5] [--seed S]

Outputs (in ``DIR``):

* ``splink_pairs.parquet``: ``left_id, right_id, match_probability`` for every pair Splink scored
  (all pairs produced by the prediction blocking rules), ``left_id < right_id``; rows are not sorted.
* ``splink_clusters.parquet``: ``track_id, cluster_id`` (sorted by track_id) from Splink's
  ``cluster_pairwise_predictions_at_threshold`` at ``--threshold``; singletons included.
* ``splink_summary.json``: seconds per phase (prepare, train, predict, cluster, write, total), number of
  scored pairs, pairs per blocking rule, versions, the settings and training choices used, and
  ``preparation``: how ``duration_ms`` was read and how many rows each messy-dump repair below changed.
* ``splink_model.json``: the trained Splink model (settings plus m/u parameters), for inspection.

Everything runs in this one process with an in-memory DuckDB (``--threads``, default: the CPUs this process
may use), so the caller can read peak memory from the child's ``ru_maxrss``. DuckDB's default
``memory_limit`` is 80 % of RAM and it fills it as cache on big inputs; pass ``--memory-limit`` to cap it
(DuckDB then spills to a temporary directory inside ``DIR``, removed at the end). Splink >= 4 is required
(``pip install -e '.[bench]'``); the Splink 4 and 5 entry points differ and both are handled here.

Messy dumps (several sources, each writing the same facts its own way; text columns as a CSV export gives
them). What a careful user does after looking at such a dump, in SQL (``prepare_tracks``). The steps are built to
leave a clean, typed catalog alone: on ``make bench``'s 10k and 100k catalogs ``tracks_prepared`` is identical,
row for row, to what the peer prepared before they existed.

* placeholders are null: a whole cell of artist, album or duration that reads "N/A", "n/a", "-", "--", "—",
  "?", "unk.", "unknown", "Unknown Artist/Album/Label", "[unknown]", "(none)", "none", "null", "nil", "TBA" or
  "TBD" (any case) counts as missing;
* ``duration_ms`` as text (the column's type says so; an integer column is milliseconds as before): "4:05" and
  "04:05" are minutes:seconds, "4m 5sec" / "4 min 5 s" likewise; a plain number is read by its magnitude, as a
  histogram of the column suggests (``PLAIN_NUMBER_RULE``): below 30 no duration (the "0" of a lost duration),
  30-999 seconds, 1,000-19,999 minutes with three decimals written without the point ("4085" = 4.085 min =
  245.1 s), 20,000 and more milliseconds; a decimal below 30 is minutes. Anything else (a price or a genre
  that a scraped page left in the column) is no duration;
* the artist written into the title: where the artist is missing and the title reads "X - rest", "X – rest",
  "X / rest" or "X: rest" with X (normalized like ``artist_norm``) an artist that another record names in its
  artist column, X becomes the artist and the rest the title — unless the rest is a version note ("Last Gold -
  sped up", "Song - Radio Edit": an artist may share a title's words);
* a track number glued before the title ("007-", "03. ", "Track 3 - ", "3 - ", "03 ") is removed (a bare number
  needs its leading zero: "99 Problems" keeps its number);
* the album appended to the title as "Title - Album", where Album is the record's own album, is removed from
  ``title_base`` (``title_norm`` and ``version_tag`` keep it: "Song - Live in Chicago" on the album "Live in
  Chicago" stays a live version);
* not done: ``release_date`` is not in the model (as before; its many formats would only feed a year that
  re-releases make weak evidence), and the *scraped* records (title, artist, album, genre, price, length and
  date run together in one field, in a layout per store) are left as they are — splitting them needs a parser
  per store layout, which is no longer data preparation; Splink compares their whole text as the title.
* the ISRC prior keeps its assumed recall (``--isrc-recall``) even where most sources carry no ISRCs: scaling it
  by the squared ISRC coverage lowered F1 on a development catalog (seed 3, not a benchmark seed).

Model choices (see ``build_settings`` and ``train``):

* features, prepared in SQL after the repairs above: lower-case, accents stripped (``strip_accents``),
  punctuation collapsed to spaces; ``title_norm`` (whole title), ``title_base`` (bracketed parts,
  " - Remastered"-style suffixes and "feat. X" removed), ``artist_norm`` (primary credit: "feat./ft./with/x
  ..." removed), ``album_norm`` (brackets removed), ``isrc_norm`` (upper-case, no hyphens/spaces, must look
  like an ISRC), ``duration_s`` and ``version_tag`` (live/remix/acoustic/... keywords; only used by
  ``--version-aware``);
* comparisons: title (exact ``title_norm`` with term-frequency adjustment / exact ``title_base`` with TF /
  Jaro-Winkler of ``title_base`` >= 0.92 / >= 0.80 / else), artist (exact with TF / JW >= 0.92 / >= 0.80 /
  else), duration (|diff| <= 2 s / 5 s / 15 s / else), ISRC exact, album exact (weak);
* prediction blocking: ISRC; ``title_base``; ``artist_norm``; first 4 chars of ``title_base`` and of
  ``artist_norm`` together (catches pairs with a typo in both title and artist);
* training: prior from the deterministic rule "same ISRC" with an assumed recall (Splink's
  ``estimate_probability_two_random_records_match``), u by random sampling (hash-based, seeded with
  ``--seed``), m by EM on ISRC blocks (trains title, artist, duration, album) then on exact
  ``title_norm`` + ``artist_norm`` blocks (trains ISRC, duration, album). The second rule is strict on
  purpose: EM on bare ``title_base`` blocks folds live/remix/instrumental versions of a song into the
  "match" class and learns that differing ISRCs and durations are normal for matches.

Determinism: same input, seed and thread count give the same clusters; match probabilities can differ
in the last bit (DuckDB's parallel sums are not order-stable), and the row order of the pairs file varies.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

INSTALL_HINT = "pip install -e '.[bench]'"

DEFAULT_ISRC_RECALL = 0.7
"""Assumed share of true duplicate pairs that share a normalized ISRC. Catalog dumps often lack ISRCs
or carry a re-release's code, so "same ISRC" finds most but not all duplicates; Splink's docs use a
recall guess of this order for a high-precision deterministic rule."""

DEFAULT_U_MAX_PAIRS = 5e7
"""Random pairs sampled to estimate u. Splink suggests 1e7 for model development and 1e8-1e9 for a final
model; 5e7 keeps this phase to well under a minute on two cores while every level gets many counts."""

# Punctuation, symbols and whitespace runs become a single space. Letters (any script), digits and
# combining marks are kept, so Cyrillic, Japanese and Korean titles survive normalization.
_NON_WORD = r"[^\p{L}\p{N}\p{M}]+"
# Any (...), [...] or {...} part: "(Remastered 2011)", "[Deluxe Edition]", "(Live)", "(feat. X)".
_BRACKETS = r"\s*[\(\[\{][^\)\]\}]*[\)\]\}]"
# " - Remastered 2011", " - Radio Edit", " – Live" style suffixes.
_DASH_SUFFIX = (
    r"\s+[-–—]\s+[^-–—]*\b(remaster(ed)?|edit|version|mix|remix|live|mono|stereo|acoustic|demo|"
    r"instrumental|single|bonus)\b.*$"
)
# Unbracketed featuring credit in a title ("Song feat. X"). Not "with": "Stay With Me" is a title.
_FEAT_TITLE = r"\s+(feat\.?|ft\.?|featuring)\s+.*$"
# Secondary credits in an artist string ("A feat. B", "A ft. B", "A with B", "A x B"); "&" is kept
# because it is part of many band names.
_FEAT_ARTIST = r"\s+(feat\.?|ft\.?|featuring|with|x)\s+.*$"
# A well-formed ISRC once hyphens/spaces are gone: country, registrant, year, designation.
_ISRC = r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}"
# Version keywords inside a bracketed or dash-suffixed part: these mark a *different* recording.
_VERSION = (
    r"[\(\[\{\-–—][^\)\]\}]*?\b(live|remix|mix|acoustic|unplugged|instrumental|karaoke|demo|"
    r"cover|reprise|remake|orchestral|sped up|slowed)\b"
)

# --- messy dumps (text columns, several sources' habits); each a no-op on a clean, typed catalog -------------
# What sources write for a missing value, matched on the whole lower-cased, trimmed cell: read as null.
_PLACEHOLDER = (r"(?:n/?a|-+|—|\?+|unk\.?|unknown|unknown (artist|album|label|title)|\[unknown\]|\(none\)|none|null|"
                r"nil|tb[ad])")
# The artist written before the title ("Artist - Title", "Artist – Title", "Artist / Title", "Artist: Title"):
# group 1 is the lead, group 3 the rest. Taken as the artist only where the artist column is empty and the lead
# is an artist some other record names in its artist column.
_ARTIST_LEAD = r"^(.+?)(\s[-–—/]\s|:\s)(.+)$"
# ... unless the rest is a version note ("Last Gold - sped up", "Song - Radio Edit", "Song - 2011 Remaster"):
# then the lead is the title, whatever artist shares its words. Case-insensitive.
_VERSION_NOTE = (r"^(\d{4}\s+)?(remaster(ed)?|radio|edit|version|mix|remix|live|mono|stereo|acoustic|demo|"
                 r"instrumental|single|bonus|sped up|slowed|reverb)\b")
# A track number glued before the title: "007-Title", "03. Title", "Track 3 - Title", "3 - Title", "03 Title"
# (a bare number needs a leading zero: "99 Problems" keeps its number). Case-insensitive.
_TRACK_NUMBER = r"^(track\s*\d{1,3}\s*[-.:]\s*|\d{1,3}\.\s+|\d{1,3}\s+[-–]\s+|\d{3}-|0\d\s+)"
# Durations written as text: "4:05" / "04:05", "4m 5sec" / "4 min 5 s", or a plain number read by magnitude.
_CLOCK = r"\d{1,3}:\d{2}"
_MINUTES_SECONDS = r"\d{1,3}\s*m(in)?\s*\d{1,2}\s*s(ec)?"
PLAIN_NUMBER_RULE = (
    "below 30: no duration (0, or too short to be a track); 30 to 999: seconds; 1,000 to 19,999: minutes with "
    "three decimals written without the point (4085 = 4.085 min); 20,000 and more: milliseconds; a decimal below "
    "30: minutes"
)
"""How a plain number in a text duration column is read (see ``_DURATION_SQL``): the units overlap little for
songs of 30 s to 16 min, which is what a user would see in a histogram of the column."""

_MACROS_SQL = """
CREATE OR REPLACE MACRO splink_peer_norm(s) AS
    nullif(trim(regexp_replace(strip_accents(lower(s)), '{non_word}', ' ', 'g')), '');
CREATE OR REPLACE MACRO splink_peer_value(s) AS
    CASE WHEN regexp_full_match(lower(trim(s)), '{placeholder}') THEN NULL ELSE nullif(trim(s), '') END;
CREATE OR REPLACE MACRO splink_peer_artist(s) AS
    splink_peer_norm(regexp_replace(regexp_replace(lower(s), '{brackets}', '', 'g'), '{feat_artist}', ''));
CREATE OR REPLACE MACRO splink_peer_number_s(x) AS
    CASE WHEN x < 30 THEN NULL WHEN x < 1000 THEN x WHEN x < 20000 THEN x * 0.06 ELSE x / 1000.0 END;
CREATE OR REPLACE MACRO splink_peer_duration_s(d) AS
    CASE
        WHEN regexp_full_match(d, '{clock}')
        THEN TRY_CAST(split_part(d, ':', 1) AS DOUBLE) * 60 + TRY_CAST(split_part(d, ':', 2) AS DOUBLE)
        WHEN regexp_full_match(d, '{minutes_seconds}')
        THEN TRY_CAST(regexp_extract(d, '^(\\d+)', 1) AS DOUBLE) * 60
             + TRY_CAST(regexp_extract(d, '(\\d+)\\s*s(ec)?$', 1) AS DOUBLE)
        WHEN regexp_full_match(d, '\\d+') THEN splink_peer_number_s(TRY_CAST(d AS DOUBLE))
        WHEN regexp_full_match(d, '\\d+\\.\\d+') AND TRY_CAST(d AS DOUBLE) < 30 THEN TRY_CAST(d AS DOUBLE) * 60
    END;
"""

_READ_SQL = """
CREATE OR REPLACE TEMP TABLE splink_peer_read AS
SELECT
    CAST(track_id AS VARCHAR) AS track_id,
    CAST(title AS VARCHAR) AS title,
    CAST(artist AS VARCHAR) AS artist_raw,
    splink_peer_value(CAST(artist AS VARCHAR)) AS artist,
    CAST(album AS VARCHAR) AS album_raw,
    splink_peer_value(CAST(album AS VARCHAR)) AS album,
    CAST(isrc AS VARCHAR) AS isrc,
    CAST(duration_ms AS VARCHAR) AS duration_raw,
    {duration_s} AS duration_s,
    nullif(regexp_extract(CAST(title AS VARCHAR), '{artist_lead}', 1), '') AS title_lead,
    nullif(regexp_extract(CAST(title AS VARCHAR), '{artist_lead}', 3), '') AS title_rest
FROM read_parquet('{path}');

CREATE OR REPLACE TEMP TABLE splink_peer_repaired AS
WITH known_artists AS (
    SELECT DISTINCT splink_peer_artist(artist) AS name FROM splink_peer_read WHERE artist IS NOT NULL
),
split AS (
    SELECT r.*, k.name IS NOT NULL AS artist_from_title
    FROM splink_peer_read r
    LEFT JOIN known_artists k
        ON r.artist IS NULL AND r.title_lead IS NOT NULL AND NOT regexp_matches(r.title_rest, '{version_note}', 'i')
           AND splink_peer_artist(r.title_lead) = k.name
),
numbered AS (
    SELECT *,
        CASE WHEN artist_from_title THEN title_lead ELSE artist END AS artist_clean,
        CASE WHEN artist_from_title THEN title_rest ELSE title END AS title_unsplit
    FROM split
),
unnumbered AS (
    SELECT *, regexp_replace(title_unsplit, '{track_number}', '', 'i') AS title_unnumbered FROM numbered
)
SELECT *,
    CASE
        WHEN album IS NOT NULL AND length(title_unnumbered) > length(album) + 3
             AND ends_with(lower(title_unnumbered), ' - ' || lower(album))
        THEN left(title_unnumbered, length(title_unnumbered) - length(album) - 3)
        ELSE title_unnumbered
    END AS title_clean
FROM unnumbered;
"""

_PREPARE_SQL = """
CREATE OR REPLACE TABLE tracks_prepared AS
SELECT
    track_id,
    splink_peer_norm(title_unnumbered) AS title_norm,
    splink_peer_norm(regexp_replace(regexp_replace(regexp_replace(
        lower(title_clean), '{brackets}', '', 'g'), '{dash_suffix}', ''), '{feat_title}', '')) AS title_base,
    splink_peer_artist(artist_clean) AS artist_norm,
    splink_peer_norm(regexp_replace(lower(album), '{brackets}', '', 'g')) AS album_norm,
    CASE
        WHEN regexp_full_match(upper(regexp_replace(isrc, '[\\s\\-]', '', 'g')), '{isrc}')
        THEN upper(regexp_replace(isrc, '[\\s\\-]', '', 'g'))
    END AS isrc_norm,
    duration_s,
    coalesce(nullif(array_to_string(list_sort(list_distinct(
        regexp_extract_all(lower(title_unnumbered), '{version}', 1))), ' '), ''), 'none') AS version_tag
FROM splink_peer_repaired;
"""

_REPAIRS_SQL = """
SELECT
    count(*) FILTER (WHERE artist_raw IS NOT NULL AND artist IS NULL),
    count(*) FILTER (WHERE album_raw IS NOT NULL AND album IS NULL),
    count(*) FILTER (WHERE splink_peer_value(duration_raw) IS NULL AND duration_raw IS NOT NULL
                     AND trim(duration_raw) <> ''),
    count(*) FILTER (WHERE artist_from_title),
    count(*) FILTER (WHERE title_unnumbered <> title_unsplit),
    count(*) FILTER (WHERE title_clean <> title_unnumbered),
    count(*) FILTER (WHERE splink_peer_value(duration_raw) IS NOT NULL AND duration_s IS NULL)
FROM splink_peer_repaired
"""
_REPAIR_NAMES = ("artist_placeholder_as_null", "album_placeholder_as_null", "duration_placeholder_as_null",
                 "artist_taken_from_title", "track_number_removed", "album_removed_from_title",
                 "duration_text_not_read")


class PeerError(RuntimeError):
    """The input cannot be run through Splink (missing columns, empty file, ...)."""


def _log(msg: str) -> None:
    """Progress line on stderr (stdout stays free for the caller)."""
    print(f"[splink_peer] {msg}", file=sys.stderr, flush=True)


def import_splink() -> tuple[ModuleType, ModuleType]:
    """Import ``splink`` and ``duckdb`` or exit with an install hint."""
    try:
        import duckdb
        import splink
    except ImportError as exc:
        raise SystemExit(
            f"splink_peer: Splink with the DuckDB backend is not installed ({exc}).\n"
            f"Install the benchmark extra: {INSTALL_HINT}"
        ) from exc
    major = int(str(splink.__version__).split(".")[0])
    if major < 4:
        raise SystemExit(f"splink_peer: Splink {splink.__version__} is too old (need >= 4). Install: {INSTALL_HINT}")
    return splink, duckdb


def splink_major(splink: ModuleType) -> int:
    """Major version of the imported Splink."""
    return int(str(splink.__version__).split(".")[0])


def _sql_text(value: str) -> str:
    """``value`` inside a single-quoted SQL string literal."""
    return value.replace("'", "''")


def prepare_tracks(con: Any, tracks_path: Path, *, duration_is_text: bool) -> dict[str, Any]:
    """Build ``tracks_prepared`` (Splink's input table) from ``tracks.parquet``; return what was repaired.

    ``duration_is_text``: ``duration_ms`` is a text column (a CSV-like dump: read its forms, see
    ``PLAIN_NUMBER_RULE``); otherwise it holds integer milliseconds. The result has one count per name in
    ``_REPAIR_NAMES`` (rows changed) and the duration reading used.
    """
    patterns = {"non_word": _NON_WORD, "brackets": _BRACKETS, "dash_suffix": _DASH_SUFFIX, "feat_title": _FEAT_TITLE,
                "feat_artist": _FEAT_ARTIST, "version": _VERSION, "isrc": _ISRC, "placeholder": _PLACEHOLDER,
                "artist_lead": _ARTIST_LEAD, "version_note": _VERSION_NOTE, "track_number": _TRACK_NUMBER,
                "clock": _CLOCK, "minutes_seconds": _MINUTES_SECONDS}
    patterns = {name: _sql_text(pattern) for name, pattern in patterns.items()}
    duration_s = ("splink_peer_duration_s(lower(splink_peer_value(CAST(duration_ms AS VARCHAR))))"
                  if duration_is_text else "CAST(duration_ms AS DOUBLE) / 1000.0")
    con.execute(_MACROS_SQL.format(**patterns))
    con.execute(_READ_SQL.format(**patterns, duration_s=duration_s, path=_sql_path(tracks_path)))
    con.execute(_PREPARE_SQL.format(**patterns))
    counts = con.execute(_REPAIRS_SQL).fetchall()[0]
    con.execute("DROP TABLE splink_peer_repaired; DROP TABLE splink_peer_read")
    return {"duration_ms_read_as": f"text: m:ss, XmYsec or a plain number ({PLAIN_NUMBER_RULE})"
            if duration_is_text else "integer milliseconds",
            "rows_changed": dict(zip(_REPAIR_NAMES, map(int, counts), strict=True))}


def check_input(con: Any, tracks_path: Path) -> tuple[int, bool]:
    """Validate the columns of ``tracks.parquet``; return its row count and whether ``duration_ms`` is text."""
    path = _sql_path(tracks_path)
    types = {row[0]: str(row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    missing = {"track_id", "title", "artist", "album", "duration_ms", "isrc"} - set(types)
    if missing:
        raise PeerError(f"{tracks_path} lacks columns {sorted(missing)}")
    n_rows, n_ids = con.execute(f"SELECT count(*), count(DISTINCT track_id) FROM read_parquet('{path}')").fetchall()[0]
    if n_rows < 2:
        raise PeerError(f"{tracks_path} has {n_rows} rows; need at least 2")
    if n_ids != n_rows:
        raise PeerError(f"{tracks_path}: track_id is not unique ({n_rows} rows, {n_ids} distinct ids)")
    return int(n_rows), types["duration_ms"] == "VARCHAR"


def prediction_blocking_rules(splink: ModuleType) -> list[Any]:
    """Blocking rules for prediction, cheapest and most precise first."""
    block_on = splink.block_on
    return [
        block_on("isrc_norm"),
        block_on("title_base"),
        block_on("artist_norm"),
        block_on("substr(title_base, 1, 4)", "substr(artist_norm, 1, 4)"),
    ]


VERSION_DIFFERS_M = 0.01
"""Fixed m of the "similar title but different version keyword" level: share of true duplicate pairs in
which one side says e.g. "(Live)" and the other does not. EM cannot learn it (the level is essentially
never seen inside the training blocks), so it is set from domain knowledge and frozen."""


def build_settings(splink: ModuleType, version_aware: bool = False) -> Any:
    """The Splink model: comparisons, prediction blocking rules, output options.

    With ``version_aware`` the title comparison gets one extra level, checked before the plain title
    levels: "base titles similar (Jaro-Winkler >= 0.8) but the version keywords differ" (``version_tag``:
    "live", "remix", "acoustic", ... found in bracketed or dash-suffixed title parts; "none" if absent).
    Its m is fixed at ``VERSION_DIFFERS_M``. This keeps "Song (Live)" / "Song (X Remix)" from getting the
    strong "same base title" weight; it is the one piece of music-domain knowledge a careful user adds
    after looking at their false positives. Without it the title levels are exactly those of the brief.
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    version_levels: list[Any] = []
    if version_aware:
        version_levels = [
            cll.And(
                cll.JaroWinklerLevel("title_base", 0.80),
                cll.Not(cll.ExactMatchLevel("version_tag")),
            ).configure(
                m_probability=VERSION_DIFFERS_M,
                fix_m_probability=True,
                label_for_charts="Similar base title, different version keyword (live/remix/...)",
            )
        ]
    title = cl.CustomComparison(
        output_column_name="title",
        comparison_description="normalized title, then title without bracketed/featuring parts",
        comparison_levels=[
            cll.NullLevel("title_base"),
            cll.ExactMatchLevel("title_norm", term_frequency_adjustments=True),
            *version_levels,
            cll.ExactMatchLevel("title_base", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("title_base", 0.92),
            cll.JaroWinklerLevel("title_base", 0.80),
            cll.ElseLevel(),
        ],
    )
    artist = cl.JaroWinklerAtThresholds("artist_norm", [0.92, 0.80]).configure(term_frequency_adjustments=True)
    duration = cl.CustomComparison(
        output_column_name="duration_s",
        comparison_description="absolute duration difference in seconds",
        comparison_levels=[
            cll.NullLevel("duration_s"),
            cll.AbsoluteDifferenceLevel("duration_s", 2),
            cll.AbsoluteDifferenceLevel("duration_s", 5),
            cll.AbsoluteDifferenceLevel("duration_s", 15),
            cll.ElseLevel(),
        ],
    )
    return splink.SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="track_id",
        comparisons=[
            title,
            artist,
            duration,
            cl.ExactMatch("isrc_norm"),
            cl.ExactMatch("album_norm"),
        ],
        blocking_rules_to_generate_predictions=prediction_blocking_rules(splink),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
        em_convergence=0.0001,
    )


def blocking_report(con: Any) -> dict[str, dict[str, int]]:
    """Per prediction rule: pairs before de-duplication across rules, and the largest block."""
    keys = {
        "isrc_norm": "isrc_norm",
        "title_base": "title_base",
        "artist_norm": "artist_norm",
        "substr4(title_base)+substr4(artist_norm)": (
            "CASE WHEN title_base IS NOT NULL AND artist_norm IS NOT NULL "
            "THEN substr(title_base, 1, 4) || chr(31) || substr(artist_norm, 1, 4) END"
        ),
    }
    report: dict[str, dict[str, int]] = {}
    for name, expr in keys.items():
        pairs, largest = con.execute(
            f"""
            SELECT coalesce(sum(n * (n - 1) // 2), 0), coalesce(max(n), 0)
            FROM (SELECT count(*) AS n FROM tracks_prepared WHERE ({expr}) IS NOT NULL GROUP BY {expr})
            """
        ).fetchall()[0]
        report[name] = {"pairs_before_dedup": int(pairs), "largest_block": int(largest)}
    return report


def make_linker(splink: ModuleType, db_api: Any, settings: Any, verbose: bool) -> Any:
    """Create a Linker over the ``tracks_prepared`` table, for Splink 4 or 5."""
    if splink_major(splink) >= 5:
        sdf = db_api.register("tracks_prepared")
        return splink.Linker(sdf, settings, log_level=logging.INFO if verbose else logging.WARNING)
    linker = splink.Linker("tracks_prepared", settings, db_api, set_up_basic_logging=verbose)
    if not verbose:
        logging.getLogger("splink").setLevel(logging.WARNING)
    return linker


def train(
    splink: ModuleType, linker: Any, con: Any, seed: int, isrc_recall: float, u_max_pairs: float
) -> dict[str, Any]:
    """Estimate the prior, u (random sampling) and m (EM); return what was done, for the summary."""
    block_on = splink.block_on
    isrc_pairs = con.execute(
        "SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM "
        "(SELECT count(*) AS n FROM tracks_prepared WHERE isrc_norm IS NOT NULL GROUP BY isrc_norm)"
    ).fetchall()[0][0]
    if isrc_pairs > 0:
        prior_rules = [block_on("isrc_norm")]
        prior_desc = "isrc_norm exact"
        em_rules = [
            ("isrc_norm", block_on("isrc_norm")),
            ("title_norm+artist_norm", block_on("title_norm", "artist_norm")),
        ]
    else:
        # No shared ISRC anywhere: fall back to exact title+artist as the deterministic rule.
        prior_rules = [block_on("title_base", "artist_norm")]
        prior_desc = "title_base + artist_norm exact (no shared ISRC in input)"
        em_rules = [("artist_norm", block_on("artist_norm")), ("title_base", block_on("title_base"))]

    linker.training.estimate_probability_two_random_records_match(prior_rules, recall=isrc_recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    for _, rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    prior = float(linker._settings_obj._probability_two_random_records_match)
    return {
        "prior_rule": prior_desc,
        "prior_rule_recall": isrc_recall,
        "probability_two_random_records_match": prior,
        "u_max_pairs": u_max_pairs,
        "u_seed": seed,
        "em_blocking_rules": [name for name, _ in em_rules],
    }


def _sql_path(p: Path) -> str:
    return str(p.resolve()).replace("'", "''")


def write_pairs(con: Any, predict_table: str, path: Path) -> int:
    """Write every scored pair with ``left_id < right_id``; return the count.

    Rows are not sorted: at 1M tracks there are >1e8 pairs and a global sort roughly doubles the write
    time and DuckDB's memory. Row order may therefore vary between runs; the set of rows does not.
    """
    con.execute(
        f"""
        COPY (
            SELECT least(track_id_l, track_id_r) AS left_id,
                   greatest(track_id_l, track_id_r) AS right_id,
                   CAST(match_probability AS DOUBLE) AS match_probability
            FROM {predict_table}
        ) TO '{_sql_path(path)}' (FORMAT parquet)
        """
    )
    return int(con.execute(f"SELECT count(*) FROM {predict_table}").fetchall()[0][0])


def write_clusters(con: Any, cluster_table: str, path: Path) -> int:
    """Write ``track_id, cluster_id`` sorted by track_id; return the number of clusters."""
    con.execute(
        f"""
        COPY (
            SELECT CAST(track_id AS VARCHAR) AS track_id, CAST(cluster_id AS VARCHAR) AS cluster_id
            FROM {cluster_table}
            ORDER BY track_id
        ) TO '{_sql_path(path)}' (FORMAT parquet)
        """
    )
    return int(con.execute(f"SELECT count(DISTINCT cluster_id) FROM {cluster_table}").fetchall()[0][0])


def pairwise_scores(con: Any, clusters_path: Path, truth_path: Path) -> dict[str, float | int]:
    """Pairwise precision/recall/F1 of the written clusters against ``truth(track_id, recording_id)``."""
    c, t = _sql_path(clusters_path), _sql_path(truth_path)
    tp, pred, true = con.execute(
        f"""
        WITH j AS (
            SELECT c.cluster_id, t.recording_id
            FROM read_parquet('{c}') c JOIN read_parquet('{t}') t USING (track_id)
        )
        SELECT
            (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM
                (SELECT count(*) n FROM j GROUP BY cluster_id, recording_id)),
            (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) n FROM j GROUP BY cluster_id)),
            (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) n FROM j GROUP BY recording_id))
        """
    ).fetchall()[0]
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "true_positive_pairs": int(tp),
        "predicted_pairs": int(pred),
        "true_pairs": int(true),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


@contextmanager
def _phase(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - start, 3)
        _log(f"{name}: {timings[name]:.2f} s")


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Prepare, train, predict, cluster and write; return the summary dict (also written to JSON)."""
    t_start = time.perf_counter()
    splink, duckdb = import_splink()
    tracks_path = Path(args.tracks)
    if not tracks_path.is_file():
        raise PeerError(f"no such file: {tracks_path}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    spill_dir = Path(tempfile.mkdtemp(prefix="duckdb_spill_", dir=out_dir))
    timings: dict[str, float] = {}
    summary: dict[str, Any] = {}
    try:
        config: dict[str, Any] = {"threads": args.threads, "temp_directory": str(spill_dir)}
        if args.memory_limit:
            config["memory_limit"] = args.memory_limit
        con = duckdb.connect(":memory:", config=config)
        from splink import DuckDBAPI

        db_api = DuckDBAPI(connection=con)

        with _phase(timings, "prepare"):
            n_rows, duration_is_text = check_input(con, tracks_path)
            preparation = prepare_tracks(con, tracks_path, duration_is_text=duration_is_text)
            blocking = blocking_report(con)
            settings = build_settings(splink, version_aware=args.version_aware)
            linker = make_linker(splink, db_api, settings, args.verbose)
        _log(f"{n_rows} tracks; blocking (pairs before cross-rule dedup): {json.dumps(blocking)}")

        with _phase(timings, "train"):
            training = train(splink, linker, con, args.seed, args.isrc_recall, args.u_max_pairs)

        with _phase(timings, "predict"):
            # Pairs below --pairs-min-probability are dropped inside Splink's predict SQL, before they are
            # materialised; clusters are unaffected because they only use pairs >= --threshold.
            min_p = args.pairs_min_probability
            df_predict = linker.inference.predict(threshold_match_probability=min_p if min_p > 0 else None)
        with _phase(timings, "cluster"):
            df_clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                df_predict, threshold_match_probability=args.threshold
            )
        with _phase(timings, "write"):
            pairs_path = out_dir / "splink_pairs.parquet"
            clusters_path = out_dir / "splink_clusters.parquet"
            n_pairs = write_pairs(con, df_predict.physical_name, pairs_path)
            n_clusters = write_clusters(con, df_clusters.physical_name, clusters_path)
            n_above = int(
                con.execute(
                    f"SELECT count(*) FROM {df_predict.physical_name} "
                    f"WHERE match_probability >= {float(args.threshold)}"
                ).fetchall()[0][0]
            )
            linker.misc.save_model_to_json(str(out_dir / "splink_model.json"), overwrite=True)
        timings["total"] = round(time.perf_counter() - t_start, 3)

        summary = {
            "tool": "splink",
            "splink_version": str(splink.__version__),
            "duckdb_version": str(duckdb.__version__),
            "tracks": str(tracks_path),
            "n_tracks": n_rows,
            "threshold": args.threshold,
            "pairs_min_probability": args.pairs_min_probability,
            "seed": args.seed,
            "threads": args.threads,
            "memory_limit": args.memory_limit,
            "model": "version-aware" if args.version_aware else "plain",
            "seconds": timings,
            "n_pairs": n_pairs,
            "n_pairs_at_or_above_threshold": n_above,
            "n_clusters": n_clusters,
            "preparation": preparation,
            "blocking": blocking,
            "training": training,
            "outputs": {
                "pairs": pairs_path.name,
                "clusters": clusters_path.name,
                "model": "splink_model.json",
            },
        }
        if args.truth:
            summary["pairwise_vs_truth"] = pairwise_scores(con, clusters_path, Path(args.truth))
            _log(f"pairwise vs truth: {json.dumps(summary['pairwise_vs_truth'])}")
        con.close()
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)
    (out_dir / "splink_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _log(f"{n_pairs} scored pairs, {n_clusters} clusters; total {timings['total']:.2f} s")
    return summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line interface."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--tracks", required=True, help="tracks.parquet to deduplicate")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--threshold", type=float, default=0.5, help="match probability to cluster at")
    p.add_argument("--seed", type=int, default=0, help="seed for u random sampling")
    p.add_argument("--threads", type=int, default=_default_threads(), help="DuckDB threads")
    p.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. '6GB' (default: DuckDB's)")
    p.add_argument("--isrc-recall", type=float, default=DEFAULT_ISRC_RECALL, help="assumed recall of the ISRC rule")
    p.add_argument("--u-max-pairs", type=float, default=DEFAULT_U_MAX_PAIRS, help="pairs sampled for u")
    p.add_argument("--truth", default=None, help="optional truth parquet (track_id, recording_id) for P/R/F1")
    p.add_argument(
        "--pairs-min-probability",
        type=float,
        default=0.0,
        help="keep only scored pairs at or above this probability (default 0: every blocked pair)",
    )
    p.add_argument(
        "--version-aware",
        action="store_true",
        help="add a fixed-m title level 'similar base title, different version keyword' (see build_settings)",
    )
    p.add_argument("--verbose", action="store_true", help="show Splink's INFO logging")
    args = p.parse_args(argv)
    if not 0.0 < args.threshold < 1.0:
        p.error("--threshold must be in (0, 1)")
    if not 0.0 <= args.pairs_min_probability <= args.threshold:
        p.error("--pairs-min-probability must be in [0, --threshold]")
    if not 0.0 < args.isrc_recall <= 1.0:
        p.error("--isrc-recall must be in (0, 1]")
    return args


def main(argv: list[str] | None = None, runner: Callable[[argparse.Namespace], Any] = run) -> int:
    """Entry point; returns a process exit code."""
    args = parse_args(argv)
    try:
        runner(args)
    except PeerError as exc:
        _log(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
