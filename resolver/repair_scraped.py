"""Scraped records for :mod:`resolver.repair`: a title that holds a whole store page, split back into fields.

A scraped dump writes title, artist, album, genre, price, length and date into one field ("Harbour Lights ( feat .
Ola ) Nina Vale Northern Tides Pop , Music $ 1.29 3:55 17-Mar-08"). :func:`parse_scraped` recognises the fields
that have a shape (:data:`SCRAPED_FIELDS`), then finds the artist and album among the words before them by the
names the catalog knows (:class:`KnownNames`), in the order a store's page lists them: title, artist, album.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    "price": (r"(?:[$€£¥]\s?\d{1,4}(?:[.,]\d{2})?|\b\d{1,4}[.,]\d{2}\s?(?:[€£¥]|usd\b|eur\b|gbp\b)"
              r"|\b(?:usd|eur|gbp)\s?\d{1,4}[.,]\d{2})"),
    "length": r"\b\d{1,2}:[0-5]\d(?::[0-5]\d)?\b",
    "date": (rf"\b(?:\d{{1,2}}[-/ ]{_MONTH}[-/ ]\d{{2,4}}|{_MONTH} ?\d{{1,2}}(?:st|nd|rd|th)? ?, ?\d{{4}}"
             r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})\b"),
    "genres": rf"\b{_GENRE}(?: ?, ?{_GENRE})+\b",
}
"""What a scraped title holds besides title, artist and album (RE2 syntax, matched case-insensitively)."""
SCRAPED_SHAPE = "(?i)" + "|".join(SCRAPED_FIELDS.values())
"""Any field of :data:`SCRAPED_FIELDS` (RE2 pre-selection)."""
_FRAGMENT = re.compile(rf"(?i)(?:{'|'.join(SCRAPED_FIELDS.values())}|{_GENRE})")


def is_field_fragment(value: str | None) -> bool:
    """Whether a column value is only a price, a length, a date or genres ("$ 0.99", "4:15", "Rock"): in a scraped
    record, a piece of the store page that landed in the wrong column, not a name."""
    return value is not None and len(value) <= 60 and _FRAGMENT.fullmatch(value.strip()) is not None


_MAX_TOKENS = 40  # words of a scraped title searched for names
_CREDIT_JOINERS = frozenset({"&", "and", "x", "with", "feat", "feat.", "ft", "ft.", "featuring", "vs", "vs.", ","})


@dataclass(frozen=True)
class KnownNames:
    """Name keys (:func:`resolver.repair_titles.name_key`) a catalog knows, and for each first word the most words
    a key starting with it has (so a search for names stops early)."""

    keys: frozenset[str]
    most_words: Mapping[str, int]

    @classmethod
    def of(cls, keys: pa.Array) -> KnownNames:
        """The names ``keys`` (string array; nulls and empty keys are dropped)."""
        keys = pc.unique(keys).drop_null()
        keys = keys.filter(pc.not_equal(keys, ""))
        words = pa.table({"first": pc.list_element(pc.split_pattern(keys, " ", max_splits=1), 0),
                          "words": pc.add(pc.count_substring(keys, " "), 1)})
        most = words.group_by("first").aggregate([("words", "max")])
        return cls(frozenset(keys.to_pylist()),
                   dict(zip(most["first"].to_pylist(), most["words_max"].to_pylist(), strict=True)))

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    def longest_at(self, token_words: list[list[str]], start: int) -> int | None:
        """The end (exclusive token index) of the longest run of whole tokens from ``start`` that is a known
        name, or None."""
        if start >= len(token_words) or not token_words[start]:
            return None
        limit = self.most_words.get(token_words[start][0])
        if limit is None:
            return None
        words: list[str] = []
        best = None
        for stop in range(start + 1, len(token_words) + 1):
            words.extend(token_words[stop - 1])
            if len(words) > limit:
                break
            if token_words[stop - 1] and " ".join(words) in self.keys:
                best = stop
        return best


@dataclass(frozen=True)
class FieldSpans:
    """Where each of :data:`SCRAPED_FIELDS` first occurs in each of some titles: the UTF-8 byte offset of its
    start in the title's first :data:`resolver.repair_titles.MAX_TITLE_CHARS` characters (-1 where absent), and
    for the fields whose value is kept (length, date) the text matched."""

    starts: Mapping[str, np.ndarray]
    texts: Mapping[str, list[str | None]]

    def kinds(self) -> np.ndarray:
        """``(n,)`` int: how many kinds of field each title holds."""
        return sum((starts >= 0).astype(np.int64) for starts in self.starts.values())  # type: ignore[return-value]

    def row(self, i: int) -> dict[str, tuple[int, str | None]]:
        """The fields of title ``i``: kind → (start, kept text or None)."""
        return {kind: (int(starts[i]), self.texts[kind][i] if kind in self.texts else None)
                for kind, starts in self.starts.items() if starts[i] >= 0}


def find_fields(titles: pa.Array) -> FieldSpans:
    """:class:`FieldSpans` of ``titles`` (string array), vectorized (RE2: linear in the text)."""
    text = pc.utf8_slice_codeunits(titles, 0, MAX_TITLE_CHARS)
    starts = {kind: np.asarray(pc.fill_null(pc.find_substring_regex(text, f"(?i){pattern}"), -1)
                               .to_numpy(zero_copy_only=False), dtype=np.int64)
              for kind, pattern in SCRAPED_FIELDS.items()}
    texts = {}
    for kind in ("length", "date"):
        matched = pc.extract_regex(text, f"(?i)(?P<value>{SCRAPED_FIELDS[kind]})")
        texts[kind] = pc.if_else(pc.is_valid(matched), pc.struct_field(matched, "value"),
                                 pa.scalar(None, pa.string())).to_pylist()
    return FieldSpans(starts, texts)


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


def parse_scraped(title: str, fields: Mapping[str, tuple[int, str | None]], *, source_is_scraped: bool, artist: str,
                  album: str, artists: KnownNames, albums: KnownNames,
                  is_album_of: Callable[[str, str], bool]) -> ScrapedFields | None:
    """Split a title that holds a whole record into its fields, or None. ``fields``: the fields found in it
    (:meth:`FieldSpans.row` of :func:`find_fields`).

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
    if not fields or (len(fields) < 2 and not source_is_scraped):
        return None
    head = title[:MAX_TITLE_CHARS].encode()[: min(start for start, _ in fields.values())].decode(errors="ignore")
    tokens = _Tokens.of(head)
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
        if len(fields) < 2 and found_album is None:
            return None
    title_words = tokens.text(0, title_stop)
    if not name_key(title_words):
        return None
    length, date = fields.get("length", (-1, None))[1], fields.get("date", (-1, None))[1]
    return ScrapedFields(title=title_words, artist=found_artist, album=found_album,
                         duration_ms=parse_duration_text(length) if length else None, release_date=date)


def _album_without_artist(tokens: _Tokens, first: int, albums: KnownNames, album: str) -> tuple[int, str | None]:
    """Where the title ends and the album it is followed by, when no artist was found: the known album after the
    first word that ends the words (a known album inside them is more likely a word of the title: "Hey Horizon
    - Slowed" is no song "Hey" on an album "Horizon"), starting with the column's fragment ``album``, longest,
    first."""
    best: tuple[tuple, int, int] | None = None
    for start in range(first + 1, len(tokens.raw)):
        stop = albums.longest_at(tokens.words, start) if tokens.depth[start] == 0 else None
        if stop is not None and stop == len(tokens.raw):
            rank = (bool(album) and tokens.key(start, stop).startswith(album), stop - start, -start)
            if best is None or rank > best[0]:
                best = (rank, start, stop)
    if best is None:
        return len(tokens.raw), None
    return best[1], tokens.text(best[1], best[2])
