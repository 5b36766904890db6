"""Scraped records for :mod:`resolver.repair`: a title that holds a whole store page, split back into fields.

A scraped dump writes title, artist, album, genre, price, length and date into one field ("Harbour Lights ( feat .
Ola ) Nina Vale Northern Tides Pop , Music $ 1.29 3:55 17-Mar-08"). :func:`parse_scraped` recognises the fields
that have a shape (:data:`SCRAPED_FIELDS`), then finds the artist and album among the words before them by the
names the catalog knows (:class:`KnownNames`), in the order a store's page lists them: title, artist, album.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.normalize import split_credit
from catalog_er.resolver.regex_kernels import regex_replace
from catalog_er.resolver.repair_fields import parse_duration_text
from catalog_er.resolver.repair_titles import MAX_TITLE_CHARS, album_key, name_key

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
"""Genre names a store writes beside a record ("Pop , Music", "Funk; Jazz", "Pop / Rock"): recognised only as a
list (comma, semicolon or slash between names)."""
_GENRE = "(?:" + "|".join(re.escape(g).replace(r"\ ", " ") for g in sorted(GENRES, key=len, reverse=True)) + ")"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
SCRAPED_FIELDS = {
    "price": (r"(?:[$€£¥]\s?\d{1,4}(?:[.,]\d{2})?|\b\d{1,4}[.,]\d{2}\s?(?:[€£¥]|usd\b|eur\b|gbp\b)"
              r"|\b(?:usd|eur|gbp)\s?\d{1,4}[.,]\d{2})"),
    "length": r"\b\d{1,2}:[0-5]\d(?::[0-5]\d)?\b",
    "date": (rf"\b(?:\d{{1,2}}[-/ ]{_MONTH}[-/ ]\d{{2,4}}|{_MONTH} ?\d{{1,2}}(?:st|nd|rd|th)? ?, ?\d{{4}}"
             r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})\b"),
    "genres": rf"\b{_GENRE}(?: ?[,;/] ?{_GENRE})+\b",
}
"""What a scraped title holds besides title, artist and album (RE2 syntax, matched case-insensitively)."""
SCRAPED_SHAPE = "(?i)" + "|".join(SCRAPED_FIELDS.values())
"""Any field of :data:`SCRAPED_FIELDS` (RE2 pre-selection)."""
_SEGMENT_BREAK = "\x1f"
"""Written where a field was, to cut a title into the texts between its fields."""
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
    start in the title's first :data:`resolver.repair_titles.MAX_TITLE_CHARS` characters (-1 where absent), for
    the fields whose value is kept (length, date) the text matched, and each title's ``segments``: the texts
    between its fields, in order (the first is what comes before the first field)."""

    starts: Mapping[str, np.ndarray]
    texts: Mapping[str, list[str | None]]
    segments: list[tuple[str, ...]]

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
    cut = pc.split_pattern(regex_replace(text, SCRAPED_SHAPE, _SEGMENT_BREAK), _SEGMENT_BREAK)
    segments = [tuple(parts) if parts is not None else () for parts in cut.to_pylist()]
    return FieldSpans(starts, texts, segments)



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
                  album: str, artists: KnownNames, albums: KnownNames, is_album_of: Callable[[str, str], bool],
                  segments: Sequence[str] = ()) -> ScrapedFields | None:
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

    ``segments`` (:attr:`FieldSpans.segments`): where a page lists artist or album after its fields ("Hey Train
    3:04 Greatest Hits USD 0.69 Indie Rock Bropo Paigoly"), a known name found there outranks a name that merely
    ends the title's words ("Train"): only the column's fragment or an album of that artist after it keeps a name
    inside the title's words. A record that starts with a field takes its title from the first words after it. A
    lone genre is never an artist (:data:`GENRES`), and the words before an artist with nothing after it may end
    with genres and an album of that artist, which are not the title's (:func:`_album_before`).
    """
    if not fields or (len(fields) < 2 and not source_is_scraped):
        return None
    parts = separated_parts(segments)
    if parts is not None:
        return _parse_parts(parts, fields, artist=artist, album=album, artists=artists, albums=albums,
                            is_album_of=is_album_of)
    head = title[:MAX_TITLE_CHARS].encode()[: min(start for start, _ in fields.values())].decode(errors="ignore")
    later = list(segments[1:])
    while not name_key(head) and later:  # the page starts with a field: the title is the first words after it
        head = later.pop(0)
    tokens = _Tokens.of(head)
    first = next((i for i, words in enumerate(tokens.words) if words), len(tokens.raw))
    best = _artist_in_words(tokens, first, artists, albums, artist, is_album_of)
    strong = best is not None and (best[0][0] or best[0][1])
    after = None if strong else _name_after_fields(later, artists, artist, exclude=_NO_NAMES)
    found_artist: str | None
    if after is not None:  # the page lists the artist after its fields: the title's words keep theirs
        found_artist = after[0]
        title_stop, found_album = _title_before_listed_artist(tokens, first, after[1], artists, albums, album,
                                                              is_album_of)
        if found_album is None:
            found_album = next(iter(_name_after_fields(later, albums, album, exclude=frozenset()) or ()), None)
    elif best is not None:  # the artist, then the album up to the first field (its edition tags included)
        _, title_stop, artist_stop = best
        found_artist = tokens.text(title_stop, artist_stop)
        found_album = tokens.text(artist_stop, len(tokens.raw)) if tokens.key(artist_stop, len(tokens.raw)) else None
        if found_album is None:  # nothing after the artist: the page may list album and genre before it
            title_stop, found_album = _album_before(tokens, first, title_stop, albums, album,
                                                    _albums_of(tokens.key(title_stop, artist_stop), is_album_of))
    else:
        found_artist = None
        listed_after = _name_after_fields(later, albums, album, exclude=frozenset())
        if listed_after is not None:  # the album too is listed after the fields: the title's words are all title
            title_stop, found_album = len(tokens.raw), listed_after[0]
        else:
            title_stop, found_album = _album_without_artist(tokens, first, albums, album)
        if len(fields) < 2 and found_album is None:
            return None
    title_words = tokens.text(0, title_stop)
    if not name_key(title_words):
        return None
    length, date = fields.get("length", (-1, None))[1], fields.get("date", (-1, None))[1]
    return ScrapedFields(title=title_words, artist=found_artist, album=found_album,
                         duration_ms=parse_duration_text(length) if length else None, release_date=date)


def _artist_in_words(tokens: _Tokens, first: int, artists: KnownNames, albums: KnownNames, artist: str,
                     is_album_of: Callable[[str, str], bool]) -> tuple[tuple, int, int] | None:
    """``(rank, start, stop)`` of the artist among a page's words before its first field, ranked as
    :func:`parse_scraped` says (the column's fragment, an album of that artist after it, any known album after it,
    it ends the words, longer, first), or None."""
    best: tuple[tuple, int, int] | None = None
    for start in range(first + 1, len(tokens.raw)):
        stop = artists.longest_at(tokens.words, start) if tokens.depth[start] == 0 else None
        if stop is None:
            continue
        stop = _credit_end(tokens, stop, artists)
        key = tokens.key(start, stop)
        # "Synth-Pop", "(Drum And) Bass", "Free": a genre or a price, even where an act is so named
        if _in_genre(tokens, start, stop) or key in _NO_NAMES:
            continue
        album_stop = albums.longest_at(tokens.words, stop)
        names = split_credit(key)
        own_album = album_stop is not None and bool(names) and is_album_of(names[0], tokens.key(stop, album_stop))
        fragment = bool(artist) and key.startswith(artist)
        rank = (fragment, own_album, album_stop is not None, stop == len(tokens.raw), stop - start, -start)
        if (fragment or any(rank[1:4])) and (best is None or rank > best[0]):
            best = (rank, start, stop)
    return best


_SEPARATOR_CHARS = " \t,;|/·•"
"""What a page may write between its parts (with spaces around): a comma, semicolon, bar, slash or bullet."""
_SPACE_BREAK = re.compile(r"[ \t]{2,}")
MIN_PART_BREAKS = 2
"""Field boundaries that must show one separator before a page's parts are taken whole."""


def page_separator(segments: Sequence[str]) -> str | None:
    """The separator a page (its :attr:`FieldSpans.segments`) writes between its parts, read where its fields
    stand: the run of separator characters (:data:`_SEPARATOR_CHARS`) that ends the text before a field and
    starts the text after it, when :data:`MIN_PART_BREAKS` boundaries show the same one (" , ", " | "; two
    spaces or more count as one kind, "  "); None for a page run together with single spaces."""
    seen: dict[str, int] = {}
    for k, segment in enumerate(segments):
        edges = []
        if k < len(segments) - 1:
            edges.append(segment[len(segment.rstrip(_SEPARATOR_CHARS)):])
        if k > 0:
            edges.append(segment[: len(segment) - len(segment.lstrip(_SEPARATOR_CHARS))])
        for edge in edges:
            if not edge.strip(" \t"):
                edge = "  " if len(edge) >= 2 else ""
            if edge and edge.strip(" \t") != edge.strip():  # spaced punctuation only; "x,y" is no separator
                continue
            if edge:
                seen[edge] = seen.get(edge, 0) + 1
    if not seen:
        return None
    separator, count = max(seen.items(), key=lambda item: (item[1], item[0]))
    return separator if count >= MIN_PART_BREAKS else None


def separated_parts(segments: Sequence[str]) -> list[str] | None:
    """The parts of a page that sets them apart (:func:`page_separator`): the texts between its fields cut at
    every separator, in order, empty ones dropped; None for a page run together with single spaces (split word
    by word instead)."""
    separator = page_separator(segments)
    if separator is None:
        return None
    pieces = ([_SPACE_BREAK.split(segment) for segment in segments] if not separator.strip()
              else [segment.split(separator.strip()) for segment in segments])
    return [piece.strip(_SEPARATOR_CHARS) for cut in pieces for piece in cut if name_key(piece)]


def _parse_parts(parts: list[str], fields: Mapping[str, tuple[int, str | None]], *, artist: str, album: str,
                 artists: KnownNames, albums: KnownNames, is_album_of: Callable[[str, str], bool]
                 ) -> ScrapedFields | None:
    """:func:`parse_scraped` of a page whose parts are set apart: each part is whole. Lone genres and prices are
    dropped; the artist is a part that starts with the column's fragment or that the catalog knows as a credit
    (the fragment first, then one that is not the first part); the title is the first part left (a single is
    often named like its song, so an album the catalog knows is no reason to skip it); the album is a known album
    among the rest (the artist's first)."""
    keys = [name_key(part) for part in parts]

    def credit_known(key: str) -> bool:
        names = split_credit(key)
        return key in artists or (bool(names) and all(name in artists for name in names))

    def ranked(candidates: list[int], fragment: str, preferred: Callable[[int], bool]) -> int | None:
        ranks = [((bool(fragment) and keys[i].startswith(fragment)), preferred(i), i > 0, -i) for i in candidates]
        return candidates[ranks.index(max(ranks))] if candidates else None

    free = [i for i, part in enumerate(parts) if not is_field_fragment(part)]
    named = [i for i in free if keys[i] not in _NO_NAMES
             and (credit_known(keys[i]) or (bool(artist) and keys[i].startswith(artist)))]
    artist_at = ranked(named, artist, lambda i: True)
    title_at = next((i for i in free if i != artist_at), None)
    if title_at is None:
        return None
    names = split_credit(keys[artist_at]) if artist_at is not None else []
    album_keys = {i: album_key(parts[i]) for i in free if i not in (artist_at, title_at)}
    album_at = ranked([i for i, key in album_keys.items() if key in albums], album,
                      lambda i: bool(names) and is_album_of(names[0], album_keys[i]))
    length, date = fields.get("length", (-1, None))[1], fields.get("date", (-1, None))[1]
    return ScrapedFields(title=parts[title_at], artist=None if artist_at is None else parts[artist_at],
                         album=None if album_at is None else parts[album_at],
                         duration_ms=parse_duration_text(length) if length else None, release_date=date)


def _albums_of(credit: str, is_album_of: Callable[[str, str], bool]) -> Callable[[str], bool]:
    """Whether an album key is one of the catalog's albums of the first name of ``credit`` (a name key)."""
    names = split_credit(credit)
    return lambda key: bool(names) and is_album_of(names[0], key)


def _title_before_listed_artist(tokens: _Tokens, first: int, credit: str, artists: KnownNames, albums: KnownNames,
                                album: str, is_album_of: Callable[[str, str], bool]) -> tuple[int, str | None]:
    """Where the title ends, and the album, when the artist (name key ``credit``) is listed after the page's
    fields: at that name if the title's words hold it too ("Thinkin' on a Dance (Live) Los Música Live"), the album
    being the words after it; otherwise before lone genres and an album of the artist that end the words
    (:func:`_album_before`)."""
    for start in range(first + 1, len(tokens.raw)):
        stop = artists.longest_at(tokens.words, start) if tokens.depth[start] == 0 else None
        if stop is not None and tokens.key(start, stop) == credit:
            return start, tokens.text(stop, len(tokens.raw)) if tokens.key(stop, len(tokens.raw)) else None
    return _album_before(tokens, first, len(tokens.raw), albums, album, _albums_of(credit, is_album_of))


def _album_before(tokens: _Tokens, first: int, stop: int, albums: KnownNames, album: str,
                  is_wanted: Callable[[str], bool]) -> tuple[int, str | None]:
    """Where the title ends when the words before ``stop`` (an artist's, or the end) may end with lone genres and an
    album ("Яркий белый мечта край Твой тишина Ambient Сярехе"): the genres dropped, then a known album
    (``is_wanted`` of its key: the artist's) that ends the rest, as :func:`_album_without_artist` finds it."""
    dropped = True
    while dropped:
        dropped = False
        for width in (3, 2, 1):
            if stop - width > first and tokens.key(stop - width, stop) in _GENRE_KEYS:
                stop -= width
                dropped = True
                break
    head = _Tokens(tokens.raw[:stop], tokens.words[:stop], tokens.depth[:stop])
    title_stop, found_album = _album_without_artist(head, first, albums, album, is_wanted)
    return (title_stop, found_album) if found_album is not None else (stop, None)


def _album_without_artist(tokens: _Tokens, first: int, albums: KnownNames, album: str,
                          is_wanted: Callable[[str], bool] = lambda key: True) -> tuple[int, str | None]:
    """Where the title ends and the album it is followed by, when no artist was found in the title's words: the
    known album (``is_wanted`` of its key) after the first word that ends the words (a known album inside them is
    more likely a word of the title: "Hey Horizon - Slowed" is no song "Hey" on an album "Horizon"), starting
    with the column's fragment ``album``, longest, first."""
    best: tuple[tuple, int, int] | None = None
    for start in range(first + 1, len(tokens.raw)):
        stop = albums.longest_at(tokens.words, start) if tokens.depth[start] == 0 else None
        if stop is not None and stop == len(tokens.raw) and is_wanted(tokens.key(start, stop)):
            rank = (bool(album) and tokens.key(start, stop).startswith(album), stop - start, -start)
            if best is None or rank > best[0]:
                best = (rank, start, stop)
    if best is None:
        return len(tokens.raw), None
    return best[1], tokens.text(best[1], best[2])


_GENRE_KEYS = frozenset(name_key(genre) for genre in GENRES)
"""A genre written alone after the fields ("… USD 0.99 Pop Lily Bexlow") is no artist, even one the catalog knows."""
_NO_NAMES = _GENRE_KEYS | {"free"}
"""Words of a page that are never its artist, whatever act the catalog knows by them: genres, and "Free" where a
store writes the price (a word too common in titles to be taken for a price field)."""


def _in_genre(tokens: _Tokens, start: int, stop: int) -> bool:
    """Whether the words ``start:stop`` are a genre's name (:data:`GENRES`) or its end ("Bass" of "Drum And Bass")."""
    return any(tokens.key(first, stop) in _GENRE_KEYS for first in range(max(0, start - 3), start + 1))


def _name_after_fields(segments: Sequence[str], names: KnownNames, fragment: str, *, exclude: frozenset[str]
                       ) -> tuple[str, str] | None:
    """``(text, key)`` of the known name (``names``; not one of ``exclude``) in the texts between a page's fields,
    outside brackets: the one starting with the column's ``fragment``, then the one that ends its text, the
    longest, the first."""
    best: tuple[tuple, str, str] | None = None
    for index, segment in enumerate(segments):
        tokens = _Tokens.of(segment)
        for start in range(len(tokens.raw)):
            stop = names.longest_at(tokens.words, start) if tokens.depth[start] == 0 else None
            if stop is None:
                continue
            key = tokens.key(start, stop)
            if key in exclude:
                continue
            rank = (bool(fragment) and key.startswith(fragment), stop == len(tokens.raw), stop - start, -index, -start)
            if best is None or rank > best[0]:
                best = (rank, tokens.text(start, stop), key)
    return None if best is None else (best[1], best[2])
