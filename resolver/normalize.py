"""Text normalization for titles, artist credits, version tags and ISRCs.

Everything here works on one string at a time and is applied to the *distinct* values of a column by
:mod:`resolver.features`, so the cost is per distinct title or credit, not per track.

Folding: Unicode NFKC (full-width → ASCII forms), transliteration of every script to Latin with
``anyascii`` (a maintained table covering Cyrillic, Greek, kana, Hangul, CJK …), lower case, "&" → "and",
apostrophes dropped, every other non-alphanumeric character → one space.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
from anyascii import anyascii

from catalog_er.resolver.regex_kernels import regex_replace

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"['’`´]")

ISRC_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
"""ISO 3901: country (2 letters), registrant (3 alphanumerics), year (2 digits), designation (5 digits)."""


def fold(text: str) -> str:
    """Fold ``text`` to lower-case ASCII words separated by single spaces (see the module docstring)."""
    ascii_text = anyascii(unicodedata.normalize("NFKC", text)).lower()
    ascii_text = _APOSTROPHES.sub("", ascii_text.replace("&", " and "))
    return _NON_ALNUM.sub(" ", ascii_text).strip()


def fold_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`fold` of every value of a string column (nulls stay null), vectorized: ASCII values with Arrow
    kernels (the same steps: NFKC and transliteration leave ASCII alone), the others through :func:`fold`, once
    per distinct value."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    ascii_only = pc.fill_null(pc.string_is_ascii(values), True)
    folded = pc.replace_substring(pc.ascii_lower(values), "&", " and ")
    folded = regex_replace(folded, "['`]", "")
    folded = pc.utf8_trim(regex_replace(folded, "[^a-z0-9]+", " "), " ")
    if pc.all(ascii_only).as_py():
        return folded
    others = values.filter(pc.invert(ascii_only))
    distinct = pc.unique(others)
    folded_distinct = pa.array([fold(value) for value in distinct.to_pylist()], pa.string())
    found = pc.take(folded_distinct, pc.index_in(values, value_set=distinct))
    return pc.if_else(ascii_only, folded, found)


def normalize_isrc(raw: str | None) -> str | None:
    """Return the 12-character ISRC in canonical form, or ``None`` when ``raw`` is missing or invalid.

    Hyphens, spaces, dots and case are ignored: ``"us-rc1-76-07839"`` → ``"USRC17607839"``.
    """
    if raw is None:
        return None
    compact = re.sub(r"[\s\-_.]", "", raw).upper()
    return compact if ISRC_PATTERN.match(compact) else None


# --- version tags -------------------------------------------------------------------------------------

# Qualifiers that name the same recording in another package: ignored when comparing titles.
_REISSUE = re.compile(
    r"\b(remaster(ed)?|deluxe|edition|album version|single version|original( mix| version)?|bonus( track)?"
    r"|explicit|clean|mono|stereo|anniversary|expanded|reissue|digitally|lp version|main version)\b"
)
# Qualifiers that name a *different* recording, checked in this order (first match wins).
_VERSION_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("radio_edit", re.compile(r"\b(radio (edit|version|mix)|single edit|edit)\b")),
    ("extended", re.compile(r"\b(extended|club mix|12 inch|long version)\b")),
    ("sped_up", re.compile(r"\b(sped up|speed up|nightcore)\b")),
    ("slowed", re.compile(r"\b(slowed|reverb)\b")),
    ("acoustic", re.compile(r"\b(acoustic|unplugged|stripped)\b")),
    ("instrumental", re.compile(r"\b(instrumental|karaoke|off vocal)\b")),
    ("demo", re.compile(r"\b(demo|rough mix|early version)\b")),
    ("rerecording", re.compile(r"\b(re ?record(ed|ing)?|(19|20)[0-9]{2} version|[a-z]+s version)\b")),
    ("live", re.compile(r"\b(live|in concert|concert)\b")),
    ("remix", re.compile(r"\b(remix(ed)?|rmx|mix|rework|bootleg|vip)\b")),
)
_VERSION_PATTERNS = dict(_VERSION_KINDS)
_FEATURING = re.compile(r"^(feat|ft|featuring|with|starring)\b\s*(.*)$")
_INLINE_FEATURING = re.compile(r"\s(?:feat|ft|featuring)\s(.+)$")
_BRACKETED = re.compile(r"[(\[{（【]([^)\]}）】]*)([)\]}）】]|$)")
"""A bracketed group: an opening bracket, then anything up to the first closing one. An opening bracket with no
closing one after it matches up to the end (``$``) and is no group: every later one has none either, so the scan
ends there instead of trying each of them again (linear time; ``"(" * n`` would otherwise cost n² steps)."""
_DASH_SUFFIX = re.compile(r"\s[-–—]\s")
_DETAIL_STOPWORDS = frozenset({"at", "from", "in", "the", "on", "live", "remix", "mix", "remixed", "version"})


@dataclass(frozen=True)
class ParsedTitle:
    """A title split into what identifies the song and what qualifies the recording.

    ``core``: folded title without version, reissue or featuring qualifiers.
    ``version_kind``: ``""`` for the plain recording, else kinds like ``"live"`` or ``"live|remix"``.
    ``version_detail``: the distinguishing words of a live or remix tag (venue, remixer), may be ``""``.
    ``featured``: folded names credited with feat./ft./with inside the title.
    """

    core: str
    version_kind: str
    version_detail: str
    featured: tuple[str, ...]


def version_pattern(kind: str) -> str | None:
    """The pattern (RE2 and Python syntax alike) of the words of version ``kind`` (None for a combined kind such
    as ``"live|remix"``): a smeared record's tag may sit in the middle of its text, where :func:`parse_title`
    does not look."""
    pattern = _VERSION_PATTERNS.get(kind)
    return None if pattern is None else pattern.pattern


def _classify_qualifier(folded: str) -> tuple[str, str] | None:
    """Return ``(kind, detail)`` for a version qualifier, ``("", "")`` for a reissue one, else None."""
    for kind, pattern in _VERSION_KINDS:
        match = pattern.search(folded)
        if match is None:
            continue
        if kind == "remix" and _REISSUE.search(folded):
            return ("", "")
        if kind in ("live", "remix"):
            detail = " ".join(w for w in folded.split() if w not in _DETAIL_STOPWORDS)
            return (kind, detail)
        return (kind, "")
    if _REISSUE.search(folded):
        return ("", "")
    return None


VERSION_WORDS = "|".join([*(pattern.pattern for _, pattern in _VERSION_KINDS), r"^(feat|ft|featuring|with|starring)\b"])
"""Words that make a folded text a version tag or a featuring credit for :func:`qualifier_kind` (RE2 and Python
syntax alike), for pre-selecting rows in vectorized code."""
QUALIFIER_WORDS = f"{_REISSUE.pattern}|{VERSION_WORDS}"
""":data:`VERSION_WORDS` and the reissue tags: any qualifier :func:`qualifier_kind` recognises."""


@lru_cache(maxsize=65_536)
def qualifier_kind(text: str) -> str | None:
    """What a title qualifier says on its own: the version kind (``"live"`` for ``"Live at Wembley"``), ``""``
    for a reissue tag (``"Remastered 2011"``), ``"featuring"`` for a credit (``"feat. Ola"``), ``None`` when
    ``text`` is no qualifier (an album name, a subtitle): the rule :func:`parse_title` applies to each bracket
    and dash suffix."""
    folded = fold(text)
    if not folded:
        return None
    if _FEATURING.match(folded):
        return "featuring"
    classified = _classify_qualifier(folded)
    return None if classified is None else classified[0]


@lru_cache(maxsize=200_000)
def parse_title(raw: str) -> ParsedTitle:
    """Split a raw catalog title into core title, version tag and featured artists.

    Bracketed groups anywhere and everything after a spaced dash are qualifiers; a qualifier that is
    neither a version, reissue nor featuring credit stays part of the core (``"(I Can't Get No)"``).
    """
    qualifiers, text = _bracketed_groups(unicodedata.normalize("NFKC", raw))
    head, *tails = _DASH_SUFFIX.split(text)
    qualifiers.extend(tails)
    core_parts = [head]
    kinds: set[str] = set()
    details: list[str] = []
    featured: list[str] = []
    for qualifier in qualifiers:
        folded = fold(qualifier)
        if not folded:
            continue
        feat = _FEATURING.match(folded)
        if feat:
            featured.extend(split_credit(feat.group(2)))
            continue
        classified = _classify_qualifier(folded)
        if classified is None:
            core_parts.append(qualifier)
        elif classified[0]:
            kinds.add(classified[0])
            if classified[1]:
                details.append(classified[1])
    core = fold(" ".join(core_parts))
    inline = _INLINE_FEATURING.search(" " + core)
    if inline:
        featured.extend(split_credit(inline.group(1)))
        core = core[: max(inline.start() - 1, 0)].strip()
    if not core:  # a title that is only a qualifier, e.g. "(Intro)": keep its words
        core = fold(raw)
    return ParsedTitle(core, "|".join(sorted(kinds)), " ".join(details), tuple(featured))


def _bracketed_groups(text: str) -> tuple[list[str], str]:
    """The text inside each closed bracketed group of ``text`` (:data:`_BRACKETED`), and ``text`` with each of
    those groups replaced by a space (an unclosed bracket and what follows it stay)."""
    groups: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if not match.group(2):  # unclosed: kept as it is
            return match.group(0)
        groups.append(match.group(1))
        return " "

    return groups, _BRACKETED.sub(replace, text)


_PLACEHOLDER_TITLE = re.compile(
    r"^(track|piste|titel|pista|traccia|audio track|trk|untitled|unknown( title)?)( ?[0-9]+)?$"
)
_PLACEHOLDER_ARTIST = re.compile(r"^(various( artists)?|va|unknown( artist)?|artist|n ?a)$")


def is_placeholder_title(core: str) -> bool:
    """``True`` for titles a delivery system fills in when it knows nothing ("Track 07", "Untitled")."""
    return bool(_PLACEHOLDER_TITLE.match(core))


def is_placeholder_artist(folded: str) -> bool:
    """``True`` for credits that name nobody ("Various Artists", "Unknown Artist")."""
    return bool(_PLACEHOLDER_ARTIST.match(folded))


# --- artist credits ------------------------------------------------------------------------------------

_CREDIT_SEPARATORS = re.compile(r"(?<=\s)(?:feat|ft|featuring|with|x|and|vs|versus|presents|pres)(?=\s)|[,;/+]")


def split_credit(folded_credit: str) -> list[str]:
    """Split an already folded credit into artist names; "the" is dropped wherever it stands.

    ``"daft punk feat pharrell williams"`` → ``["daft punk", "pharrell williams"]``;
    ``"weeknd, the"`` → ``["weeknd"]``.
    """
    names = []
    for part in _CREDIT_SEPARATORS.split(f" {folded_credit} "):
        words = [w for w in part.split() if w != "the"]
        if words:
            names.append(" ".join(words))
    return names


@lru_cache(maxsize=200_000)
def parse_artist_credit(raw: str) -> tuple[str, ...]:
    """Folded artist names of a display credit, primary first (see :func:`split_credit`); placeholder
    credits ("Various Artists") give no names."""
    folded = fold(raw)
    return () if is_placeholder_artist(folded) else tuple(split_credit(folded))
