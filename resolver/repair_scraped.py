"""Scraped records for :mod:`resolver.repair`: a title that holds a whole store page, split back into fields.

A scraped dump writes title, artist, album, genre, price, length and date into one field ("Harbour Lights ( feat .
Ola ) Nina Vale Northern Tides Pop , Music $ 1.29 3:55 17-Mar-08"). :func:`parse_scraped` recognises the fields
that have a shape (:data:`SCRAPED_FIELDS`), then finds the artist and album among the words before them by the
names the catalog knows (:class:`KnownNames`), in the order a store's page lists them: title, artist, album.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from catalog_er.resolver.normalize import split_credit
from catalog_er.resolver.repair_fields import parse_duration_text
from catalog_er.resolver.repair_titles import MAX_TITLE_CHARS, name_key

GENRES = (
    "pop", "rock", "music", "dance", "electronic", "electronica", "hip-hop", "hip hop", "hip-hop/rap", "rap",
    "r&b", "r&b/soul", "rnb", "soul", "jazz", "blues", "country", "folk", "classical", "alternative", "indie",
    "indie rock", "indie pop", "metal", "heavy metal", "hard rock", "soft rock", "punk", "reggae", "latin",
    "world", "soundtrack", "singer/songwriter", "singer-songwriter", "christian", "gospel", "christian & gospel",
    "k-pop", "j-pop", "j-rock", "easy listening", "house", "techno", "trance", "ambient", "new age", "funk",
    "disco", "instrumental", "vocal", "children's music", "holiday", "comedy", "opera", "dubstep",
    "drum & bass", "drum and bass", "edm", "grunge", "emo", "chanson", "schlager", "fitness & workout", "anime",
    "enka", "tango", "salsa", "bossa nova", "samba", "flamenco", "afrobeat", "afrobeats", "dancehall", "trap",
    "lo-fi", "lounge", "rock & roll", "oldies", "adult contemporary", "dance pop", "synth-pop", "electro",
    "experimental", "progressive", "bluegrass", "americana", "celtic", "reggaeton", "ska", "soundtracks",
)
"""Genre names a store writes beside a record ("Pop , Music"): recognised only as a comma-separated list."""
_GENRE = "(?:" + "|".join(re.escape(g).replace(r"\ ", " ") for g in sorted(GENRES, key=len, reverse=True)) + ")"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
SCRAPED_FIELDS = {
    "price": r"(?:[$€£¥]\s?\d{1,4}(?:[.,]\d{2})?|\b\d{1,4}[.,]\d{2}\s?(?:[€£¥]|usd\b|eur\b|gbp\b))",
    "length": r"\b\d{1,2}:[0-5]\d(?::[0-5]\d)?\b",
    "date": (rf"\b(?:\d{{1,2}}[-/ ]{_MONTH}[-/ ]\d{{2,4}}|{_MONTH} ?\d{{1,2}}(?:st|nd|rd|th)? ?, ?\d{{4}}"
             r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})\b"),
    "genres": rf"\b{_GENRE}(?: ?, ?{_GENRE})+\b",
}
"""What a scraped title holds besides title, artist and album (case-insensitive; RE2 and Python syntax alike)."""
SCRAPED_SHAPE = "(?i)" + "|".join(SCRAPED_FIELDS.values())
"""RE2 pre-selection: any field of :data:`SCRAPED_FIELDS`."""
_SCRAPED_FIELDS = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in SCRAPED_FIELDS.items()}
_COMMA = re.compile(" ?, ?")
_GENRE_REACH = max(map(len, GENRES)) + 2  # characters a genre list's first name starts before its first comma
_MAX_TOKENS = 40  # words of a scraped title searched for names
_CREDIT_JOINERS = frozenset({"&", "and", "x", "with", "feat", "feat.", "ft", "ft.", "featuring", "vs", "vs.", ","})


@dataclass(frozen=True)
class KnownNames:
    """Name keys (:func:`resolver.repair_titles.name_key`) a catalog knows, indexed by their first word."""

    keys: frozenset[str]
    first_words: frozenset[str]
    most_words: int

    @classmethod
    def of(cls, keys: Iterable[str]) -> KnownNames:
        """The names ``keys`` (empty keys are dropped)."""
        kept = frozenset(key for key in keys if key)
        split = [key.split(" ") for key in kept]
        return cls(kept, frozenset(words[0] for words in split), max((len(words) for words in split), default=0))

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    def longest_at(self, token_words: list[list[str]], start: int) -> int | None:
        """The end (exclusive token index) of the longest run of whole tokens from ``start`` that is a known
        name, or None."""
        if start >= len(token_words) or not token_words[start] or token_words[start][0] not in self.first_words:
            return None
        words: list[str] = []
        best = None
        for stop in range(start + 1, len(token_words) + 1):
            words.extend(token_words[stop - 1])
            if len(words) > self.most_words:
                break
            if token_words[stop - 1] and " ".join(words) in self.keys:
                best = stop
        return best


def _scraped_fields(text: str) -> dict[str, re.Match[str]]:
    """The first occurrence of each of :data:`SCRAPED_FIELDS` in ``text`` (a genre list is only looked for around
    commas: the long alternation of genre names is costly to try at every position)."""
    found = {}
    for kind, pattern in _SCRAPED_FIELDS.items():
        if kind != "genres":
            match = pattern.search(text)
        else:
            windows = (pattern.search(text, max(0, comma.start() - _GENRE_REACH)) for comma in _COMMA.finditer(text))
            match = next((window for window in windows if window is not None), None)
        if match is not None:
            found[kind] = match
    return found


def scraped_kinds(title: str) -> list[str]:
    """Which :data:`SCRAPED_FIELDS` occur in ``title``."""
    return list(_scraped_fields(title[:MAX_TITLE_CHARS]))


@dataclass(frozen=True)
class ScrapedFields:
    """What a scraped title held: the title words, and the artist, album, length (ms) and date found (None where
    absent)."""

    title: str
    artist: str | None
    album: str | None
    duration_ms: int | None
    release_date: str | None


@dataclass(frozen=True)
class _Tokens:
    """The words before a scraped title's first field: raw tokens, their keys' words, bracket depth before each."""

    raw: list[str]
    words: list[list[str]]
    depth: list[int]

    @classmethod
    def of(cls, head: str) -> _Tokens:
        raw = head.split()[:_MAX_TOKENS]
        depth = [0] * len(raw)
        if "(" in head or "[" in head:
            level = 0
            for i, token in enumerate(raw):
                depth[i] = level
                level = max(0, level + token.count("(") + token.count("[") - token.count(")") - token.count("]"))
        return cls(raw, [name_key(token).split() for token in raw], depth)

    def text(self, start: int, stop: int) -> str:
        return " ".join(self.raw[start:stop])

    def key(self, start: int, stop: int) -> str:
        return " ".join(word for words in self.words[start:stop] for word in words)


def _credit_end(tokens: _Tokens, stop: int, artists: KnownNames) -> int:
    """Extend an artist run ending at ``stop`` over joined names ("Nina Vale & Ola", "Nina Vale, Ola")."""
    while stop < len(tokens.raw):
        joined_by_comma = tokens.raw[stop - 1].endswith(",")
        joiner = tokens.raw[stop].lower() in _CREDIT_JOINERS
        if not (joined_by_comma or joiner):
            return stop
        after = artists.longest_at(tokens.words, stop + (1 if joiner else 0))
        if after is None:
            return stop
        stop = after
    return stop


def parse_scraped(title: str, *, source_is_scraped: bool, artist: str, album: str, artists: KnownNames,
                  albums: KnownNames, is_album_of: Callable[[str, str], bool]) -> ScrapedFields | None:
    """Split a title that holds a whole record into its fields, or None.

    A title is scraped when it holds two of price, length, date and genre list (:data:`SCRAPED_FIELDS`), or one
    when ``source_is_scraped`` and a known artist or album is found. The words before the first field are title,
    artist and album in that order. The artist is a known name (``artists``, joined names included) after the
    first word and outside brackets (a name in brackets is a featured credit of the title) that starts with the
    column's fragment ``artist``, is followed by a known album, or ends the words; ranked by: the fragment; a known
    album of that artist (``is_album_of(artist key, album key)``) follows; any known album follows; it ends the
    words; it is longer; it comes first. The album is then the words after the artist. Without an artist, a known
    album after the first word ends the title. ``artist``/``album``: keys of the column values (may be fragments,
    or ""). Never for real titles with one such field ("3:16 am", "$ave Dat Money") or a genre without a list
    ("Pop Music").
    """
    text = title[:MAX_TITLE_CHARS]
    found = _scraped_fields(text)
    if not found or (len(found) < 2 and not source_is_scraped):
        return None
    tokens = _Tokens.of(text[: min(match.start() for match in found.values())])
    first = next((i for i, words in enumerate(tokens.words) if words), len(tokens.raw))
    best: tuple[tuple, int, int] | None = None
    for start in range(first + 1, len(tokens.raw)):
        stop = artists.longest_at(tokens.words, start) if tokens.depth[start] == 0 else None
        if stop is None:
            continue
        stop = _credit_end(tokens, stop, artists)
        key = tokens.key(start, stop)
        album_stop = albums.longest_at(tokens.words, stop)
        names = split_credit(key)
        own_album = album_stop is not None and bool(names) and is_album_of(names[0], tokens.key(stop, album_stop))
        fragment = bool(artist) and key.startswith(artist)
        rank = (fragment, own_album, album_stop is not None, stop == len(tokens.raw), stop - start, -start)
        if (fragment or any(rank[1:4])) and (best is None or rank > best[0]):
            best = (rank, start, stop)
    if best is not None:  # the artist, then the album up to the first field (its edition tags included)
        _, title_stop, artist_stop = best
        found_artist: str | None = tokens.text(title_stop, artist_stop)
        found_album = tokens.text(artist_stop, len(tokens.raw)) if tokens.key(artist_stop, len(tokens.raw)) else None
    else:
        found_artist = None
        title_stop, found_album = _album_without_artist(tokens, first, albums, album)
        if len(found) < 2 and found_album is None:
            return None
    title_words = tokens.text(0, title_stop)
    if not name_key(title_words):
        return None
    length, date = found.get("length"), found.get("date")
    return ScrapedFields(title=title_words, artist=found_artist, album=found_album,
                         duration_ms=parse_duration_text(length.group()) if length else None,
                         release_date=date.group() if date else None)


def _album_without_artist(tokens: _Tokens, first: int, albums: KnownNames, album: str) -> tuple[int, str | None]:
    """Where the title ends and the album it is followed by, when no artist was found: the known album after the
    first word that starts with the column's fragment ``album``, ends the words, is longest, comes first."""
    best: tuple[tuple, int, int] | None = None
    for start in range(first + 1, len(tokens.raw)):
        stop = albums.longest_at(tokens.words, start) if tokens.depth[start] == 0 else None
        if stop is not None:
            rank = (bool(album) and tokens.key(start, stop).startswith(album), stop == len(tokens.raw),
                    stop - start, -start)
            if best is None or rank > best[0]:
                best = (rank, start, stop)
    if best is None:
        return len(tokens.raw), None
    return best[1], tokens.text(best[1], best[2])
