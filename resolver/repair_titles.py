"""Title repairs for :mod:`resolver.repair`: what a source glued onto its titles, taken off again.

Each function reads one title and what the caller knows about its record and catalog, and returns the repaired
parts, or None when the repair does not apply. Each names in its docstring the look-alikes it refuses. Work per
title is bounded: only the first :data:`MAX_TITLE_CHARS` characters are read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from catalog_er.resolver.normalize import qualifier_kind, split_credit

MAX_TITLE_CHARS = 500
"""Characters of a title the repairs read (a scraped title holds a whole record; a longer one is garbage)."""

KnownName = Callable[[str], bool]
"""Whether a name key (:func:`name_key`) is known to the catalog (an artist, or an album of the record's
artist)."""

_KEY_APOSTROPHES = re.compile(r"['’`´]")
_KEY_SEPARATORS = re.compile(r"[\W_]+")
_ASCII_KEY = str.maketrans({chr(c): (None if chr(c) in "'`" else " and " if chr(c) == "&" else " ")
                            for c in range(128) if not chr(c).isalnum()})


@lru_cache(maxsize=262_144)
def name_key(text: str) -> str:
    """The form in which the repairs compare names: lower case, accents dropped, "&" → "and", apostrophes
    dropped, every run of other characters that are no letter or digit one space.

    Equal to :func:`resolver.normalize.fold` on ASCII text; other scripts stay in their script (no
    transliteration), which keeps it cheap and vectorizable (:func:`resolver.repair_context.name_key_column`
    computes the same keys for whole columns). Keys are only compared with keys.
    """
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn")
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_KEY).split())
    text = _KEY_APOSTROPHES.sub("", text.lower().replace("&", " and "))
    return _KEY_SEPARATORS.sub(" ", text).strip()


_QUALIFIER_START = re.compile(r"\s*[(\[{（【]|\s[-–—]\s")
_ARTIST_SEPARATOR = re.compile(r"\s[-–—]\s|(?<=\S):\s")
"""Between an artist and the title after it: a spaced dash, or a colon ("Nina Vale: Harbour Lights")."""
_PIECE = re.compile(r"\s*[(\[{]([^)\]}]*)[)\]}]|\s+[-–—]\s+")


def _head(text: str) -> str:
    """``text`` up to its first bracket or spaced dash: what a qualifier check must look at."""
    match = _QUALIFIER_START.search(text)
    return text[: match.start()] if match else text


def _starts_with_word(text: str) -> bool:
    """A letter first, or an opening quote or bracket and then a letter."""
    return bool(text) and (text[0].isalpha() or (len(text) > 1 and text[0] in "\"'“‘([¿¡" and text[1].isalpha()))


# --- track numbers ----------------------------------------------------------------------------------------

_TRACK_NUMBER = re.compile(
    r"^\s*(?:(?P<word>(?i:track|trk|tr)\.?\s*(?:(?i:no)\.?\s*|#\s*)?\d{1,3})\s*[-–—.:)_]+"  # Track 3 - , Track 03:
    r"|[(\[](?P<bracketed>\d{1,3})[)\]](?:\s*[-–—.:_]+)?"  # (03) , [3] -
    r"|(?P<side>[A-D][1-9]\d?)\s*[-–—.:)_]+"  # A1. , B2 -  (vinyl sides)
    r"|(?P<number>\d{1,3})(?:\s*(?P<separator>[-–—.:)_]+)|(?=\s)))"  # 007- , 03. , 3 - , 03 (space)
    r"\s*(?P<rest>\S.*)$",
    re.DOTALL,
)
TRACK_NUMBER_SHAPE = r"^\s*(?:(?i:track|trk|tr)\.?\s*(?:(?i:no)\.?\s*|#\s*)?\d|[(\[]\d|[A-D][1-9]|\d{1,3}[-–—.:)_ ])"
"""A loose RE2 pre-selection of the titles :func:`numbered_title` may accept."""


@dataclass(frozen=True)
class NumberedTitle:
    """A title that starts with a track number: the number as written, the rest, and whether the number alone
    proves a numbering (zero padding or the word "Track", with a separator) or needs the source's habit."""

    prefix: str
    rest: str
    strong: bool


def _padded(number: str) -> bool:
    return len(number) >= 2 and number[0] == "0"


def numbered_title(title: str) -> NumberedTitle | None:
    """The track-number prefix of ``title``: ``"007-Title"``, ``"03. Title"``, ``"(03) Title"``,
    ``"Track 3 - Title"`` (strong); ``"3 - Title"``, ``"3. Title"``, ``"A1. Title"``, ``"03 Title"`` (weak).

    None for numbers that are the title: no separator or no word after it (``"Track 3"``, ``"99 Luftballons"``,
    ``"7 Seconds"``, ``"1979"``, ``"24K Magic"``, ``"3-2-1"``, ``"2 + 2 = 5"``).
    """
    match = _TRACK_NUMBER.match(title[:MAX_TITLE_CHARS])
    if match is None or not _starts_with_word(match["rest"]):
        return None
    rest = match["rest"] + title[MAX_TITLE_CHARS:]
    if match["word"]:
        return NumberedTitle(match["word"], rest, strong=True)
    if match["bracketed"]:
        return NumberedTitle(match["bracketed"], rest, strong=_padded(match["bracketed"]))
    if match["side"]:
        return NumberedTitle(match["side"], rest, strong=False)
    number = match["number"]
    if match["separator"]:
        return NumberedTitle(number, rest, strong=_padded(number))
    return NumberedTitle(number, rest, strong=False) if _padded(number) else None


def strip_track_number(title: str, *, source_numbers_titles: bool, credited: str,
                       is_known_artist: KnownName) -> str | None:
    """``title`` without its track number, or None.

    A weak number (:func:`numbered_title`) is stripped only when ``source_numbers_titles`` (the record's source
    numbers a good share of its titles). Never when the rest is only a version tag (``"Track 3 - Live"``) or the
    number is the credited artist (``credited``: its key) or any artist of the catalog (``"311 - Amber"``,
    ``"A1 - Caught in the Middle"``: the artist repair's business).
    """
    numbered = numbered_title(title)
    if numbered is None or not (numbered.strong or source_numbers_titles):
        return None
    if qualifier_kind(_head(numbered.rest)) is not None:
        return None
    prefix = name_key(numbered.prefix)
    if prefix == credited or is_known_artist(prefix):
        return None
    return numbered.rest


# --- "Artist - Title" -------------------------------------------------------------------------------------

SAME_CREDIT_SIMILARITY = 85.0
"""rapidfuzz token-sort ratio from which a title's prefix names the credited artist (typos, "The", order)."""


@lru_cache(maxsize=131_072)
def credit_names(key: str) -> tuple[str, ...]:
    """:func:`resolver.normalize.split_credit` of a name key, remembered."""
    return tuple(split_credit(key))


def _same_credit(prefix: str, names: tuple[str, ...], credited: str, credited_names: tuple[str, ...]) -> bool:
    if prefix == credited or names[0] == credited_names[0]:
        return True
    shorter = min(len(prefix), len(credited))
    return shorter >= 4 and fuzz.token_sort_ratio(" ".join(names), " ".join(credited_names)) >= SAME_CREDIT_SIMILARITY


def split_artist_prefix(title: str, *, credited: str, credited_names: tuple[str, ...], album: str,
                        is_known_artist: KnownName, source_puts_artists_in_titles: bool) -> tuple[str, str] | None:
    """``(artist, title)`` of a title written ``"Artist - Title"`` (or ``"Artist: Title"``), or None.

    ``credited``/``credited_names``: the key of the record's artist credit and its names (empty when the artist
    is missing); ``album``: the record's album key (:func:`album_key`, may be empty). With a credit the prefix
    must name it (fuzzily: :data:`SAME_CREDIT_SIMILARITY`). Without one it must be a known artist of the
    catalog or the record's source must write its artists into titles (``source_puts_artists_in_titles``), and
    when the rest is the record's album ("Stay - Northern Tides" on "Northern Tides": a song by Stay, or the album
    of a song called Stay?) it must be both. Never when the part after the dash is only a version tag
    (``"Bohemian Rhapsody - Remastered 2011"``, ``"Ain't No Sunshine - Live"``).
    """
    text = title[:MAX_TITLE_CHARS]
    match = _ARTIST_SEPARATOR.search(text)
    if match is None:
        return None
    prefix, rest = text[: match.start()].strip(), (text[match.end():] + title[MAX_TITLE_CHARS:]).strip()
    if not prefix or not rest or qualifier_kind(_head(rest)) is not None:
        return None
    key = name_key(prefix)
    names = credit_names(key)
    if not names:
        return None
    if credited_names:
        return (prefix, rest) if _same_credit(key, names, credited, credited_names) else None
    known = is_known_artist(key) or is_known_artist(names[0])
    if not (known or source_puts_artists_in_titles):
        return None
    if album and same_album(album_key(rest), album) and not (known and source_puts_artists_in_titles):
        return None
    return prefix, rest


# --- albums in titles -------------------------------------------------------------------------------------

EDITION_WORDS = (r"deluxe|expanded|special|limited|collectors?|anniversary|bonus(?: tracks?)?|remaster(?:ed)?"
                 r"|edition|version|reissue|single|ep|\d{4}")
EDITION_GROUP = rf"(?i)\s*(?:[(\[][^)\]]*\b(?:{EDITION_WORDS})\b[^)\]]*[)\]]|\s[-–—]\s(?:{EDITION_WORDS})\b.*$)"
"""An album's edition tag, bracketed or after a dash (RE2 and Python syntax alike)."""
EDITION_TAIL = rf"(?:\s(?:{EDITION_WORDS}))+$"
"""Edition words ending an album's key (RE2 and Python syntax alike)."""
_EDITION_GROUP, _EDITION_TAIL = re.compile(EDITION_GROUP), re.compile(EDITION_TAIL)
SAME_ALBUM_SIMILARITY = 90.0
"""rapidfuzz ratio from which two album keys of 8+ characters name the same album (a typo, a truncation)."""


@lru_cache(maxsize=131_072)
def album_key(text: str) -> str:
    """The album's name key without edition tags: ``"Northern Tides (Deluxe Edition)"`` → ``"northern tides"``."""
    return _EDITION_TAIL.sub("", name_key(_EDITION_GROUP.sub(" ", text))).strip()


def same_album(key: str, other: str) -> bool:
    """Whether two album keys name the same album: equal, or nearly so when both are long."""
    return key == other or (min(len(key), len(other)) >= 8 and fuzz.ratio(key, other) >= SAME_ALBUM_SIMILARITY)


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    text: str


def _qualifier_groups(title: str) -> list[_Group]:
    """The bracketed groups and dash suffixes of a title, in order, with their spans."""
    groups: list[_Group] = []
    dash: tuple[int, int] | None = None
    for match in _PIECE.finditer(title):
        if dash is not None:
            if title[dash[1]: match.start()].strip():
                groups.append(_Group(dash[0], match.start(), title[dash[1]: match.start()]))
            dash = None
        if match.group(1) is not None:
            groups.append(_Group(match.start(), match.end(), match.group(1)))
        else:
            dash = (match.start(), match.end())
    if dash is not None and title[dash[1]:].strip():
        groups.append(_Group(dash[0], len(title), title[dash[1]:]))
    return groups


def strip_album_suffix(title: str, *, album: str, is_known_album: KnownName) -> tuple[str, str] | None:
    """``(title, suffix)``: ``title`` without the bracket or dash suffix that names its album, or None.

    ``album``: the record's album key (:func:`album_key`); when empty, the suffix must instead be an album the
    catalog knows for the record's artist (``is_known_album`` of the suffix's key). Edition tags go with it,
    inside the suffix or right after it (``"Title (Album Deluxe Edition)"``, ``"Title (Album) [Deluxe]"``).
    Never when the suffix is a version tag or credit (``"Song (Live at Wembley)"`` on the album "Live at
    Wembley"), nor when no title would remain.
    """
    text = title[:MAX_TITLE_CHARS]
    groups = _qualifier_groups(text)
    if not groups or not text[: groups[0].start].strip():
        return None
    for i, group in enumerate(groups):
        if qualifier_kind(group.text):  # a version tag or a credit; an edition tag may hold the album's name
            continue
        key = album_key(group.text)
        if not key or not (same_album(key, album) if album else is_known_album(key)):
            continue
        end = group.end
        for later in groups[i + 1:]:
            if qualifier_kind(later.text) != "":
                break
            end = later.end
        return (text[: group.start] + text[end:]).strip() + title[MAX_TITLE_CHARS:], group.text.strip()
    return None
