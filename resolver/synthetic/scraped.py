"""The scraped form for :mod:`resolver.synthetic.sources`: a store page's text run together into the title.

``Harbour Lights ( feat . Ola ) Nina Vale Northern Tides Pop , Music $ 1.29 3:55 17-Mar-08``: title, artist,
album, genre list, price, length and date in one field, in an order the source prefers (varied per record:
two neighbours swapped, or one part missing); the other columns empty or holding a fragment (the first words
of the artist or album, the year, a copyright line for the label) or another part's text (the genre list in
the album column). No ISRC and no artist ids: a store page shows neither.

Pure: no I/O, printing or env reads.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from catalog_er.resolver.synthetic.habits import date_text, duration_text, tokenize

__all__ = ["PARTS", "ScrapedStyle", "draw_scraped_style", "scrape"]

PARTS = ("title", "artist", "album", "genre", "price", "length", "date")
"""What a scraped title runs together (the title first unless a record's order is varied)."""
_SEPARATORS = (" ", " ", " ", "  ", " | ", " , ")
_PRICE_FORMATS = ("$ {}", "${}", "{} \u20ac", "\u00a3{}", "USD {}")
_PRICES = (0.69, 0.79, 0.89, 0.99, 1.09, 1.29)
_GENRE_STYLES = ("store", "single", "slash", "semicolon")
_SCRAPED_DATES = ("day_mon_yy", "month_name", "year", "iso")  # habits.DATE_VARIANTS names, or the clean form
_SWAP_RATE = 0.35  # records whose two neighbouring parts are swapped
_DROP_RATE = 0.15  # records missing one part (never the title)
_FREE_RATE = 0.03  # records priced "Free"
_PHONOGRAM = "\u2117"  # the sound-recording copyright sign


@dataclass(frozen=True)
class ScrapedStyle:
    """How one scraped source lays out its pages (drawn once per source by :func:`draw_scraped_style`)."""

    order: tuple[str, ...]  # a permutation of PARTS, title first
    separator: str
    price_format: str  # "{}" takes the price
    prices: tuple[float, ...]
    genre_style: str  # one of _GENRE_STYLES
    date_variant: str  # a habits.DATE_VARIANTS name, or "iso"
    spaced: bool  # spaces around punctuation over the whole text
    empty_rate: float  # share of the other columns left empty
    smear_rate: float  # share of the other columns holding another part's text

    def describe(self) -> str:
        """One line for reports: order, separator, price, genre and date styles."""
        price = self.price_format.format("/".join(f"{p:.2f}" for p in self.prices))
        return (f"order {' '.join(self.order)}, separator {self.separator!r}, price {price}, genres "
                f"{self.genre_style}, date {self.date_variant}{', spaced' if self.spaced else ''}, other columns "
                f"{self.empty_rate:.0%} empty / {self.smear_rate:.0%} another part")


def draw_scraped_style(rnd: random.Random) -> ScrapedStyle:
    """A scraped source's layout, prices and fragment rates."""
    rest = list(PARTS[1:])
    rnd.shuffle(rest)
    prices = tuple(sorted(rnd.sample(_PRICES, rnd.randint(1, 3))))
    empty = rnd.uniform(0.35, 0.75)
    return ScrapedStyle(order=("title", *rest), separator=rnd.choice(_SEPARATORS),
                        price_format=rnd.choice(_PRICE_FORMATS), prices=prices,
                        genre_style=rnd.choice(_GENRE_STYLES), date_variant=rnd.choice(_SCRAPED_DATES),
                        spaced=rnd.random() < 0.6, empty_rate=empty, smear_rate=rnd.uniform(0.05, 0.2))


def scrape(rnd: random.Random, style: ScrapedStyle, *, title: str, artist: str | None, album: str | None,
           genres: list[str], label: str | None, release_date: str | None,
           duration_ms: int | None) -> dict[str, str | None]:
    """One record in the scraped form: ``title`` (everything run together), ``artist``, ``album``, ``label``,
    ``release_date`` and ``duration_ms`` (text) empty, a fragment or another part's text.

    ``genres``: the credited artist's genres (lower case; may be empty); ``duration_ms`` in milliseconds.
    """
    parts = {
        "title": title, "artist": artist, "album": album, "genre": _genre_text(rnd, style, genres),
        "price": _price_text(rnd, style),
        "length": None if duration_ms is None else duration_text(duration_ms, "m:ss"),
        "date": None if release_date is None else _date(release_date, style.date_variant),
    }
    order = list(style.order)
    if rnd.random() < _SWAP_RATE:
        i = rnd.randrange(len(order) - 1)
        order[i], order[i + 1] = order[i + 1], order[i]
    if rnd.random() < _DROP_RATE:
        order.remove(rnd.choice(order[1:] if order[0] == "title" else [p for p in order if p != "title"]))
    text = style.separator.join(value for name in order if (value := parts[name]))
    if style.spaced:
        text = tokenize(rnd, text, "spaced")
    year = None if release_date is None else release_date[:4]
    return {
        "title": text,
        "artist": _other_column(rnd, style, parts, artist and _first_words(rnd, artist)),
        "album": _other_column(rnd, style, parts, album and _first_words(rnd, album)),
        "label": _other_column(rnd, style, parts, label and _copyright(rnd, label, year)),
        "release_date": _other_column(rnd, style, parts, year if rnd.random() < 0.5 else parts["date"]),
        "duration_ms": _other_column(rnd, style, parts, parts["length"]),
    }


def _genre_text(rnd: random.Random, style: ScrapedStyle, genres: list[str]) -> str:
    """The genre list as the store shows it: ``Pop, Music``, ``Pop``, ``Pop / Rock``, ``Pop; Dance``."""
    names = [g.title() for g in genres[: rnd.randint(1, 3)]] or ["Music"]
    if style.genre_style == "store":
        return f"{names[0]}, Music"
    if style.genre_style == "single":
        return names[0]
    return (" / " if style.genre_style == "slash" else "; ").join(names)


def _price_text(rnd: random.Random, style: ScrapedStyle) -> str:
    if rnd.random() < _FREE_RATE:
        return "Free"
    price = f"{rnd.choice(style.prices):.2f}"
    return style.price_format.format(price.replace(".", ",") if "\u20ac" in style.price_format else price)


def _date(iso_date: str, variant: str) -> str:
    return iso_date if variant == "iso" else date_text(iso_date, variant)


def _first_words(rnd: random.Random, text: str) -> str:
    """The first one or more words of ``text`` (all of them half the time)."""
    words = text.split()
    return text if rnd.random() < 0.5 else " ".join(words[: rnd.randint(1, len(words))])


def _copyright(rnd: random.Random, label: str, year: str | None) -> str:
    """The label as a store's copyright line: ``℗ 2008 Rainbow Records``, ``(C) 2008 …`` or the bare name."""
    roll = rnd.random()
    if year is None or roll < 0.3:
        return label
    return f"{_PHONOGRAM if roll < 0.65 else '(C)'} {year} {label}"


def _other_column(rnd: random.Random, style: ScrapedStyle, parts: dict[str, str | None],
                  fragment: str | None) -> str | None:
    """A non-title column of a scraped record: empty, another part's text, or its own ``fragment``."""
    roll = rnd.random()
    if roll < style.empty_rate:
        return None
    if roll < style.empty_rate + style.smear_rate:
        return parts[rnd.choice(("genre", "price", "length", "date"))]
    return fragment or None

