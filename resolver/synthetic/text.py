"""Delivery text noise for :mod:`resolver.synthetic`: version tags, release albums, labels, titles, credits, ISRCs.

Every function that draws takes a seeded ``random.Random``; nothing here reads the clock, the environment or the
disk.
"""

from __future__ import annotations

import random

from catalog_er.resolver.synthetic.names import PERSON_FIRST_NAMES, person_name
from catalog_er.resolver.synthetic.spelling import strip_accents, title_case, typo

# --- knobs (each a rate per delivery; the why after the value) ------------------------------------------
TITLE_TYPO_RATE = 0.08  # deliveries whose title has a 1–2 character typo
ACCENT_DROP_RATE = 0.10  # deliveries of an accented title that lost its accents
TITLE_CASE_RATES = (0.03, 0.04, 0.03)  # UPPER, lower, Title Case
PUNCTUATION_RATE = 0.10  # deliveries with punctuation/whitespace noise in the title
ARTIST_TYPO_RATE = 0.04  # deliveries whose credited name has a typo
REISSUE_TAGS = {  # qualifiers that do NOT change the recording; "{year}" is the delivery's year
    "remaster": ("Remastered", "Remastered {year}", "{year} Remaster", "{year} Remastered Version",
                 "Remastered Version", "{year} Digital Remaster"),
    "deluxe": ("Deluxe Edition", "Deluxe", "Bonus Track", "Expanded Edition"),
    "other": ("Album Version", "LP Version", "Explicit", "Remastered", "{year} Remaster"),
    "electronic": ("Original Mix", "Original Mix", "Album Version"),
}
FEAT_IN_TITLE = ("feat. {}", "feat. {}", "ft. {}", "featuring {}", "with {}", "Feat. {}", "Ft. {}")
CREDIT_JOINS = (" feat. ", " feat. ", " ft. ", " & ", ", ", " x ", " featuring ", " Feat. ")
VENUES = ("Wembley Stadium", "Madison Square Garden", "Red Rocks", "the Royal Albert Hall", "the Budokan",
          "Glastonbury", "the Hollywood Bowl", "Montreux", "the BBC", "the Apollo", "the Olympia", "the Fillmore")
CITIES = ("Tokyo", "Paris", "Berlin", "London", "Seoul", "Moscow", "Mexico City", "Chicago", "Rio", "Sydney",
          "Amsterdam", "Reykjavik")
COMPILATIONS = (
    "Greatest Hits", "Greatest Hits", "The Very Best of {artist}", "{artist}: Gold", "Essentials",
    "The Essential {artist}", "Now That's What I Call Music! {n}", "Summer Hits {year}", "Top 100 Hits of {year}",
    "Hits of the {decade}s", "Ultimate {genre} Anthems", "Chillout Lounge, Vol. {n}", "Workout Mix {year}",
    "Best of {year}", "{genre} Classics", "Love Songs", "Road Trip Anthems", "100 Greatest {genre} Songs",
)
DISTRIBUTORS = ("Waveline Distribution", "Bandhub Digital", "Openroute Music", "Streamforge", "IndieLoop",
                "Pressplay Distro", "Selfmade Music Distribution", "Catalogue Digital Services")


# --- version tags, release albums and labels -------------------------------------------------------------
def derived_tags(rnd: random.Random, kind: str, artist: str, script: str, year: int, *, named: bool,
                 taken: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Title tag spellings for one derived recording; every delivery picks one (empty for a cover).

    ``named``: a remix must name its remixer (when its base has two derived recordings); ``taken``: tags of
    sibling derived recordings, so two remixes of one song never share a remixer.
    """
    if kind == "live":
        place = rnd.random()
        if place < 0.4:
            venue = rnd.choice(VENUES)
            return ("Live", f"Live at {venue}", f"Live at {venue}")
        if place < 0.75:
            return ("Live", f"Live {rnd.choice(('from', 'in'))} {rnd.choice(CITIES)}")
        return ("Live", "Live", "Live Version")
    if kind == "remix":
        if not named and rnd.random() < 0.2:
            return ("Remix",)
        remixer = person_name(rnd)
        while f"{remixer} Remix" in taken:
            remixer = person_name(rnd)
        return (f"{remixer} Remix", f"{remixer} Remix", f"{remixer} Remix", f"{remixer} Mix")
    if kind == "rerecording":
        first = artist.split(" ")[0]
        if script in ("latin", "accented") and first in PERSON_FIRST_NAMES:
            return (f"{first}'s Version",)
        return (f"{year} Version",) if rnd.random() < 0.5 else ("Re-Recorded", "Re-Recorded Version", "Rerecorded")
    if kind == "demo":
        return ("Demo", "Demo", "Demo Version", f"{year} Demo")
    return {
        "acoustic": ("Acoustic", "Acoustic Version", "Acoustic Session"),
        "instrumental": ("Instrumental", "Instrumental Version"),
        "radio_edit": ("Radio Edit", "Radio Edit", "Radio Version"),
        "extended": ("Extended Mix", "Extended Version", "Extended"),
        "sped_up": ("Sped Up", "Sped Up Version", "sped up"),
        "slowed": ("Slowed + Reverb", "Slowed & Reverb", "Slowed", "slowed + reverb"),
        "cover": (),
    }[kind]


def derived_album(rnd: random.Random, kind: str, title: str, album: str, artist: str,
                  tags: tuple[str, ...]) -> str:
    """The release a derived recording first came out on (a live album, a remix EP, ...)."""
    if kind == "live":
        place = tags[-1]
        return place if place not in ("Live", "Live Version") else f"{artist} Live"
    if kind == "rerecording":
        return f"{album} ({tags[0]})"
    options = {
        "remix": (f"{title} (Remixes)", f"{title} (The Remixes) - EP"),
        "acoustic": (f"{album} (Acoustic)", "Acoustic Sessions"),
        "instrumental": (f"{album} (Instrumentals)", f"{album} (Instrumental Versions)"),
        "radio_edit": (f"{title} (Radio Edit) - Single", f"{title} - Single"),
        "extended": (f"{title} (Extended Mixes) - EP", f"{album} (Extended Versions)"),
        "sped_up": (f"{title} (Sped Up) - Single",),
        "slowed": (f"{title} (Slowed + Reverb) - Single",),
        "demo": (f"{album} (Demos)", f"{album} (Deluxe Edition)"),
        "cover": (f"{title} - Single", album),
    }[kind]
    return rnd.choice(options)


def release_album(rnd: random.Random, kind: str, album: str, title: str, year: int) -> str:
    """The album field of a delivery of an original recording, by delivery kind (not compilations)."""
    if kind == "single":
        return rnd.choice((f"{title} - Single", f"{title} (Single)", title, f"{title} - EP"))
    if kind == "deluxe":
        return rnd.choice((f"{album} (Deluxe Edition)", f"{album} [Deluxe]", f"{album} (Expanded Edition)",
                           f"{album} (Deluxe Version)"))
    if kind == "remaster":
        return rnd.choice((f"{album} (Remastered)", f"{album} ({year} Remaster)", f"{album} [Remastered {year}]",
                           f"{album} (Anniversary Edition)"))
    return album


def compilation_album(rnd: random.Random, artist: str, year: int, recorded_year: int, genre: str) -> str:
    """A compilation's title; many are shared by unrelated compilations ("Greatest Hits")."""
    return rnd.choice(COMPILATIONS).format(artist=artist, year=year, n=rnd.randint(1, 99),
                                           decade=f"{recorded_year // 10 % 10 * 10:02d}", genre=genre.title())


def label_variant(rnd: random.Random, label: str) -> str:
    """The same label spelled another way (legal suffix, case)."""
    return rnd.choice((f"{label} Ltd.", f"{label}, Inc.", f"{label} LLC", label.upper(), label.rsplit(" ", 1)[0]))


# --- one delivery's title, credit and ISRC ---------------------------------------------------------------
def punctuation_noise(rnd: random.Random, text: str) -> str:
    """One punctuation or whitespace edit: punctuation dropped, curly apostrophe, en dash, doubled space…"""
    options = ["double_space", "trailing_space"]
    if any(c in ",.!?'" for c in text):
        options += ["strip", "strip"]
    if "'" in text:
        options.append("curly")
    if " - " in text:
        options.append("en_dash")
    if " (" in text or " [" in text:
        options.append("tight_bracket")
    option = rnd.choice(options)
    if option == "strip":
        return " ".join(text.translate({ord(c): None for c in ",.!?'"}).split())
    if option == "curly":
        return text.replace("'", "\u2019")
    if option == "en_dash":
        return text.replace(" - ", " \u2013 ")
    if option == "tight_bracket":
        return text.replace(" (", "(").replace(" [", "[")
    if option == "double_space" and " " in text:
        return text.replace(" ", "  ", 1)
    return text + " "


def render_title(rnd: random.Random, core: str, *, accented: bool, featured: str | None,
                 qualifiers: list[str]) -> str:
    """One delivery's title: ``core`` with typo/accent noise, the featured credit and qualifiers in some
    bracket style ("(x)", "[x]", " - x", or parentheses then a final dash), then case and punctuation noise."""
    if rnd.random() < TITLE_TYPO_RATE:
        core = typo(rnd, core)
        if rnd.random() < 0.25:
            core = typo(rnd, core)
    if accented and rnd.random() < ACCENT_DROP_RATE:
        core = strip_accents(core)
    text = core
    if featured is not None:
        credit = rnd.choice(FEAT_IN_TITLE).format(featured)
        text += f" ({credit})" if rnd.random() < 0.75 else f" [{credit}]"
    if qualifiers:
        style = rnd.random()
        last = len(qualifiers) - 1
        for k, qualifier in enumerate(qualifiers):
            if style < 0.5 or (style >= 0.85 and k < last):
                text += f" ({qualifier})"
            elif style < 0.65:
                text += f" [{qualifier}]"
            else:
                text += f" - {qualifier}"
    roll = rnd.random()
    upper, lower, titled = TITLE_CASE_RATES
    if roll < upper:
        text = text.upper()
    elif roll < upper + lower:
        text = text.lower()
    elif roll < upper + lower + titled:
        text = title_case(text)
    if rnd.random() < PUNCTUATION_RATE:
        text = punctuation_noise(rnd, text)
    return text


def render_credit(rnd: random.Random, name: str, featured: str | None) -> str:
    """One delivery's artist display string: the credited name with noise, then the featured credit."""
    if name.startswith("The ") and rnd.random() < 0.12:
        name = f"{name[4:]}, The" if rnd.random() < 0.5 else name[4:]
    if (" & " in name or " and " in name) and rnd.random() < 0.10:
        name = name.replace(" & ", " and ") if " & " in name else name.replace(" and ", " & ", 1)
    if rnd.random() < ARTIST_TYPO_RATE:
        name = typo(rnd, name)
    roll = rnd.random()
    if roll < 0.03:
        name = name.upper()
    elif roll < 0.05:
        name = name.lower()
    return name if featured is None else name + rnd.choice(CREDIT_JOINS) + featured


def noisy_isrc(rnd: random.Random, code: str) -> str:
    """``code`` with formatting noise: ``US-RC1-76-07839``, lower case, spaces, padding."""
    roll = rnd.random()
    if roll < 0.35:
        return f"{code[:2]}-{code[2:5]}-{code[5:7]}-{code[7:]}"
    if roll < 0.55:
        return code.lower()
    if roll < 0.75:
        return f"{code[:2]} {code[2:5]} {code[5:7]} {code[7:]}"
    if roll < 0.90:
        return f"{code[:2]}-{code[2:5]}-{code[5:7]}-{code[7:]}".lower()
    return f" {code} "
