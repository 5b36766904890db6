"""How one source writes one field: the renderings of :mod:`resolver.synthetic.sources`' habits.

Each function takes the clean value (and, where it draws, a seeded ``random.Random``) and returns the value
as a source with that habit writes it. Durations are milliseconds in, text out; dates are ``YYYY-MM-DD`` in.
The variant names each function accepts are listed beside it (``*_VARIANTS``); a source draws one of each.

Pure: no I/O, printing or env reads.
"""

from __future__ import annotations

import random
import re

from catalog_er.resolver.synthetic.spelling import typo

__all__ = [
    "ALBUM_IN_TITLE_VARIANTS", "ARTIST_SEPARATORS", "DATE_VARIANTS", "DURATION_TEXT_VARIANTS", "EDITION_TAGS",
    "PLACEHOLDERS", "TOKENIZATION_VARIANTS", "TRACK_NUMBER_VARIANTS", "TRUNCATION_MARKERS", "album_in_title",
    "artist_in_title", "date_text", "duration_minutes", "duration_seconds", "duration_text", "edition_tag",
    "placeholder", "tokenize", "track_number", "truncate", "typo",
]

ARTIST_SEPARATORS = (" - ", " - ", " - ", " \u2013 ", " / ", ": ")
"""How ``artist_in_title`` joins the artist before the title ("Nina Vale - Harbour Lights")."""
ALBUM_IN_TITLE_VARIANTS = ("parentheses", "dash", "parentheses_note")
"""``Title (Album)``, ``Title - Album``, ``Title (Album) [Deluxe]`` (the note drawn per record)."""
_RELEASE_NOTES = ("[Deluxe]", "[Explicit]", "[Remastered]", "[Bonus Track]", "[Album Version]")
TRACK_NUMBER_VARIANTS = ("{n:03d}-{title}", "{n:02d}. {title}", "Track {n} - {title}", "{n} - {title}",
                         "{n:02d} {title}")
"""``track_number`` formats: ``007-Title``, ``03. Title``, ``Track 3 - Title``, ``3 - Title``, ``03 Title``."""
PLACEHOLDERS = ("[unknown]", "unk.", "N/A", "-", "?", "unknown", "n/a", "NULL", "none", "--", "(none)",
                "Unknown {Field}")
"""What a source writes for a missing value; each source has its own (see :func:`placeholder`)."""
DURATION_TEXT_VARIANTS = ("m:ss", "mm:ss", "XmYsec")
"""``4:05``, ``04:05``, ``4m 5sec``."""
DATE_VARIANTS = ("year", "two_digit", "apostrophe", "month_name", "day_mon_yy", "dotted")
"""``1996``, ``96``, ``'96``, ``March 17 , 1996``, ``17-Mar-96``, ``17.03.1996`` (the clean form is ``1996-03-17``)."""
EDITION_TAGS = ("(Deluxe Edition)", "[Deluxe]", "(Deluxe Version)", "(Special Edition)", "(Expanded Edition)",
                "- Deluxe Edition", "(Bonus Track Version)")
"""What ``edition_tag`` appends to an album without one (an album with one loses it)."""
TRUNCATION_MARKERS = ("", "", "...", "\u2026")
"""What a source writes after a value it cut."""
TOKENIZATION_VARIANTS = ("spaced", "stripped", "spaced_words")
"""``( feat . Ola )``; punctuation dropped (``feat Ola``); spaced and words expanded (``Volumee 1``, ``featuring``)."""

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_EDITION = re.compile(
    r"\s*(?:[(\[][^()\[\]]*\b(?:deluxe|expanded|special|anniversary|remaster(?:ed)?|edition|bonus)\b[^()\[\]]*[)\]]"
    r"|-\s+(?:deluxe|special|expanded)\s+edition)\s*$",
    re.IGNORECASE,
)
_PUNCTUATION = r"[()\[\]!?&;/]|(?<!\d)[.,:]|[.,:](?!\d)"  # not the "." of "1.29" nor the ":" of "3:55"
_SPACED = re.compile(r"\s*(" + _PUNCTUATION + r")\s*")
_STRIPPED = re.compile(_PUNCTUATION)
_WORDS = ((re.compile(r"\bVol\b", re.IGNORECASE), ("Volumee", "Volume", "Vol")),
          (re.compile(r"\bfeat\b", re.IGNORECASE), ("featuring", "Feat", "ft")),
          (re.compile(r"&"), ("and", "n", "&")))


# --- title composition ------------------------------------------------------------------------------------
def artist_in_title(title: str, artist: str, separator: str) -> str:
    """``Artist - Title`` (the artist column is then left empty by the caller)."""
    return f"{artist}{separator}{title}"


def album_in_title(rnd: random.Random, title: str, album: str, variant: str) -> str:
    """The album appended to the title in the style ``variant`` (one of :data:`ALBUM_IN_TITLE_VARIANTS`)."""
    if variant == "parentheses":
        return f"{title} ({album})"
    if variant == "dash":
        return f"{title} - {album}"
    if variant == "parentheses_note":
        return f"{title} ({album}) {rnd.choice(_RELEASE_NOTES)}"
    raise ValueError(f"unknown album_in_title variant {variant!r}; expected one of {ALBUM_IN_TITLE_VARIANTS}")


def track_number(rnd: random.Random, title: str, variant: str) -> str:
    """A track number (1–24, small ones likelier) glued on in the format ``variant`` (``{n}``, ``{title}``)."""
    number = 1 + min(int(rnd.expovariate(1 / 7)), 23)
    return variant.format(n=number, title=title)


# --- durations (milliseconds in, the text a CSV cell would hold out) --------------------------------------
def duration_seconds(duration_ms: int) -> str:
    """Whole seconds: 245123 ms → ``"245"``."""
    return str(round(duration_ms / 1000))


def duration_minutes(duration_ms: int) -> str:
    """Minutes with three decimals stored as if milliseconds: 245123 ms = 4.085 min → ``"4085"``."""
    return str(round(duration_ms / 60))


def duration_text(duration_ms: int, variant: str) -> str:
    """Minutes and seconds as text in the style ``variant`` (one of :data:`DURATION_TEXT_VARIANTS`)."""
    minutes, seconds = divmod(round(duration_ms / 1000), 60)
    if variant == "m:ss":
        return f"{minutes}:{seconds:02d}"
    if variant == "mm:ss":
        return f"{minutes:02d}:{seconds:02d}"
    if variant == "XmYsec":
        return f"{minutes}m {seconds}sec"
    raise ValueError(f"unknown duration_text variant {variant!r}; expected one of {DURATION_TEXT_VARIANTS}")


# --- dates --------------------------------------------------------------------------------------------------
def date_text(iso_date: str, variant: str) -> str:
    """A ``YYYY-MM-DD`` date written in the style ``variant`` (one of :data:`DATE_VARIANTS`); other text
    (not an ISO date) is returned unchanged."""
    if len(iso_date) != 10 or iso_date[4] != "-" or iso_date[7] != "-":
        return iso_date
    year, month, day = iso_date[:4], int(iso_date[5:7]), int(iso_date[8:10])
    if variant == "year":
        return year
    if variant == "two_digit":
        return year[2:]
    if variant == "apostrophe":
        return f"'{year[2:]}"
    if variant == "month_name":
        return f"{_MONTHS[month - 1]} {day} , {year}"
    if variant == "day_mon_yy":
        return f"{day:02d}-{_MONTHS[month - 1][:3]}-{year[2:]}"
    if variant == "dotted":
        return f"{day:02d}.{month:02d}.{year}"
    raise ValueError(f"unknown date variant {variant!r}; expected one of {DATE_VARIANTS}")


# --- missing values ----------------------------------------------------------------------------------------
_FIELD_WORDS = {"artist": "Artist", "album": "Album", "label": "Label"}


def placeholder(token: str, field: str) -> str:
    """What a source with placeholder ``token`` writes for a missing ``field``: the token, with ``{Field}``
    filled by the field's name (``Unknown Artist``, ``Unknown Album``; other fields just ``Unknown``)."""
    return " ".join(token.replace("{Field}", _FIELD_WORDS.get(field, "")).split())


# --- text noise -----------------------------------------------------------------------------------------------
def edition_tag(album: str, tag: str) -> str:
    """``album`` without its edition tag when it has one, else with ``tag`` appended."""
    stripped = _EDITION.sub("", album)
    return stripped if stripped and stripped != album else f"{album} {tag}"


def truncate(rnd: random.Random, text: str, marker: str) -> str:
    """``text`` cut to 40–85 % of its length (at least 3 characters), then ``marker``."""
    keep = max(3, int(len(text) * rnd.uniform(0.40, 0.85)))
    return text[:keep].rstrip() + marker


def tokenize(rnd: random.Random, text: str, variant: str) -> str:
    """Tokenization noise of the style ``variant`` (one of :data:`TOKENIZATION_VARIANTS`): spaces around
    punctuation, punctuation dropped, or spaced with words expanded; the punctuation inside numbers
    (``1.29``, ``3:55``) is kept. Text without punctuation may come back unchanged."""
    if variant == "stripped":
        return " ".join(_STRIPPED.sub(" ", text.replace("'", "")).split())
    if variant not in ("spaced", "spaced_words"):
        raise ValueError(f"unknown tokenization variant {variant!r}; expected one of {TOKENIZATION_VARIANTS}")
    if variant == "spaced_words":
        for pattern, words in _WORDS:
            text = pattern.sub(rnd.choice(words), text)
    return " ".join(_SPACED.sub(r" \1 ", text).split())
