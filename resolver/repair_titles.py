"""Title repairs for :mod:`resolver.repair`: what a source glued onto its titles, taken off again.

Each function reads one title and what the caller knows about its record and catalog, and returns the repaired
parts, or None when the repair does not apply. Each names in its docstring the look-alikes it refuses. Work per
title is bounded: only the first :data:`MAX_TITLE_CHARS` characters are read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
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


_QUALIFIER_OPENERS = "([{（【"
_QUALIFIER_START = re.compile(r"[(\[{（【]|\s[-–—]\s")
_ARTIST_SEPARATOR = re.compile(r"\s[-–—]\s|(?<=\S):\s")
"""Between an artist and the title after it: a spaced dash, or a colon ("Nina Vale: Harbour Lights")."""
_OPENERS, _CLOSERS, _DASHES = "([{", ")]}", "-–—"
_CLOSER = re.compile(r"[)\]}]")
_SPACES = re.compile(r"\s*")


def _head(text: str) -> str:
    """``text`` up to its first bracket (and the spaces before it) or spaced dash: what a qualifier check must look
    at. Found in linear time (a pattern starting with ``\\s*`` would retry every space of a long run)."""
    match = _QUALIFIER_START.search(text)
    if match is None:
        return text
    head = text[: match.start()]
    return head.rstrip() if text[match.start()] in _QUALIFIER_OPENERS else head


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
EDITION_GROUP = rf"(?is)(?:[(\[][^)\]]*\b(?:{EDITION_WORDS})\b[^)\]]*[)\]]|\s[-–—]\s(?:{EDITION_WORDS})\b.*$)"
"""An album's edition tag: a bracket up to the first closing one, holding an edition word; or a dash, spaced, and an
edition word, up to the end (RE2 syntax; :func:`_without_edition_groups` is the same rule in linear time for
Python, whose engine would search an unclosed bracket for a word, and the rest for a closing one, at every
character)."""
EDITION_TAIL = rf"(?:\s(?:{EDITION_WORDS}))+$"
"""Edition words ending an album's key (RE2 syntax; :func:`_without_edition_tail` is the same rule in linear
time for Python, whose engine would try each word of a long run of them as the start of the tail)."""
_EDITION_WORD = re.compile(EDITION_WORDS)
_EDITION_IN_GROUP = re.compile(rf"(?i)\b(?:{EDITION_WORDS})\b")
_EDITION_AFTER_DASH = re.compile(rf"(?i)\s[-–—]\s(?:{EDITION_WORDS})\b")
_GROUP_OPENER, _GROUP_CLOSER = re.compile(r"[(\[]"), re.compile(r"[)\]]")
SAME_ALBUM_SIMILARITY = 90.0
"""rapidfuzz ratio from which two album keys of 8+ characters name the same album (a typo, a truncation)."""


@lru_cache(maxsize=131_072)
def album_key(text: str) -> str:
    """The album's name key without edition tags: ``"Northern Tides (Deluxe Edition)"`` → ``"northern tides"``."""
    return _without_edition_tail(name_key(_without_edition_groups(text))).strip()


def _without_edition_groups(text: str) -> str:
    """``re.sub(EDITION_GROUP, " ", text)`` (:data:`EDITION_GROUP`) in linear time: every character is looked at
    a bounded number of times.

    A bracket's group ends at the first closing bracket after it; when it holds no edition word, neither does the
    group of any bracket opened inside it (the same text, shorter), so the search goes on after its end."""
    kept: list[str] = []
    copied = scan = 0
    dash = _EDITION_AFTER_DASH.search(text)
    while True:
        if dash is not None and dash.start() < scan:  # inside a group taken out: look again after it
            dash = _EDITION_AFTER_DASH.search(text, scan)
        opener = _GROUP_OPENER.search(text, scan, dash.start() if dash is not None else len(text))
        closer = _GROUP_CLOSER.search(text, opener.end()) if opener is not None else None
        if opener is None or closer is None:  # no group before the dash: the dash's tag (if any) ends the text
            if dash is not None:
                kept += [text[copied: dash.start()], " "]
                copied = len(text)
            break
        if _EDITION_IN_GROUP.search(text, opener.end(), closer.start()):
            kept += [text[copied: opener.start()], " "]
            copied = closer.end()
        scan = closer.end()
    kept.append(text[copied:])
    return "".join(kept)


def _without_edition_tail(key: str) -> str:
    """A name key (words between single spaces) without the edition words that end it, but its first word
    (:data:`EDITION_TAIL`): ``"northern tides deluxe 2011"`` → ``"northern tides"``, ``"deluxe"`` stays."""
    words = key.split(" ")
    kept = len(words)
    while kept > 1:
        if _EDITION_WORD.fullmatch(words[kept - 1]):
            kept -= 1
        elif kept > 2 and _EDITION_WORD.fullmatch(f"{words[kept - 2]} {words[kept - 1]}"):  # "bonus tracks"
            kept -= 2
        else:
            break
    return " ".join(words[:kept])


def same_album(key: str, other: str) -> bool:
    """Whether two album keys name the same album: equal, or nearly so when both are long."""
    return key == other or (min(len(key), len(other)) >= 8 and fuzz.ratio(key, other) >= SAME_ALBUM_SIMILARITY)


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    text: str


def _pieces(title: str) -> Iterator[tuple[int, int, str | None]]:
    """``(start, end, inside)`` of each piece of ``title``, left to right: a bracketed group with the spaces before
    it (``inside``: its text), or a dash with spaces on both sides (``inside``: None). The same spans as
    ``re.finditer(r"\\s*[(\\[{]([^)\\]}]*)[)\\]}]|\\s+[-–—]\\s+", title)``, in linear time: that pattern retries
    every space of a run and every unclosed bracket, n² steps on a long run of either."""
    last_closer = max(title.rfind(closer) for closer in _CLOSERS)
    position, length = 0, len(title)
    while position < length:
        run_end = _SPACES.match(title, position).end()  # type: ignore[union-attr]  # \s* always matches
        if run_end < length and title[run_end] in _OPENERS and run_end < last_closer:
            close = _CLOSER.search(title, run_end + 1).start()  # type: ignore[union-attr]  # one is left: found
            yield position, close + 1, title[run_end + 1: close]
            position = close + 1
            continue
        if position < run_end < length and title[run_end] in _DASHES:
            after = _SPACES.match(title, run_end + 1).end()  # type: ignore[union-attr]
            if after > run_end + 1:
                yield position, after, None
                position = after
                continue
        position = run_end + 1  # no piece starts in this run of spaces nor at the character after it


def _qualifier_groups(title: str) -> list[_Group]:
    """The bracketed groups and dash suffixes of a title, in order, with their spans."""
    groups: list[_Group] = []
    dash: tuple[int, int] | None = None
    for start, end, inside in _pieces(title):
        if dash is not None:
            if title[dash[1]: start].strip():
                groups.append(_Group(dash[0], start, title[dash[1]: start]))
            dash = None
        if inside is not None:
            groups.append(_Group(start, end, inside))
        else:
            dash = (start, end)
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
