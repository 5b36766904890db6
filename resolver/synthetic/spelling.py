"""Spelling variation for :mod:`resolver.synthetic`: transliteration, accents, kana width, typos, case.

:func:`name_variant` combines them into another artist id's spelling of a name. Every function that draws takes a
seeded ``random.Random``; nothing here reads the clock, the environment or the disk.

The Cyrillic transliteration tables are written here on purpose instead of using anyascii/unidecode (which
the resolver uses): they differ from each other and from anyascii by small edits (й → y/j/i, х → kh/h/x,
ш → sh/š, щ → shch/šč/sch, ю → yu/ju/iu, я → ya/ja/ia), as real catalogs do.
"""

from __future__ import annotations

import random
import unicodedata

# --- Cyrillic transliteration -----------------------------------------------------------------------------
CYRILLIC_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_TRANSLIT_COMMON = dict(zip("абвгдезиклмнопрстуфы", "abvgdeziklmnoprstufy", strict=True))
_TRANSLIT_SPECIAL = {  # ё ж й х ц ч ш щ ъ ь э ю я
    "bgn": ("yo", "zh", "y", "kh", "ts", "ch", "sh", "shch", "", "'", "e", "yu", "ya"),
    "scholarly": ("ë", "ž", "j", "x", "c", "č", "š", "šč", "", "'", "è", "ju", "ja"),
    "icao": ("e", "zh", "i", "kh", "ts", "ch", "sh", "shch", "ie", "", "e", "iu", "ia"),
    "informal": ("e", "zh", "j", "h", "c", "ch", "sh", "sch", "", "", "e", "ju", "ja"),
}
TRANSLIT_CONVENTIONS = tuple(_TRANSLIT_SPECIAL)


def _translit_table(convention: str) -> dict[int, str]:
    lower = dict(_TRANSLIT_COMMON)
    lower.update(zip("ёжйхцчшщъьэюя", _TRANSLIT_SPECIAL[convention], strict=True))
    table = {ord(c): v for c, v in lower.items()}
    table.update({ord(c.upper()): v[:1].upper() + v[1:] for c, v in lower.items()})
    return table


_TRANSLIT_TABLES = {name: _translit_table(name) for name in TRANSLIT_CONVENTIONS}


def transliterate(text: str, convention: str) -> str:
    """Cyrillic → Latin with one of :data:`TRANSLIT_CONVENTIONS`; other characters pass through."""
    return text.translate(_TRANSLIT_TABLES[convention])


# --- kana and Hangul ---------------------------------------------------------------------------------------
KATAKANA_SYLLABLES = tuple("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
                           "ガギグゲゴザジズゼゾダデドバビブベボパピプペポ")
HIRAGANA_SYLLABLES = tuple("あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわん")
_KO_INITIALS = (0, 2, 3, 5, 6, 7, 9, 11, 12, 14, 16, 18)
_KO_MEDIALS = (0, 4, 8, 13, 18, 20, 1, 5, 12, 17)
_KO_FINALS = (0, 0, 0, 0, 0, 4, 8, 16, 21, 1)


def hangul_syllable(rnd: random.Random) -> str:
    """One composed Hangul syllable from common jamo."""
    code = (rnd.choice(_KO_INITIALS) * 21 + rnd.choice(_KO_MEDIALS)) * 28 + rnd.choice(_KO_FINALS)
    return chr(0xAC00 + code)


# --- accents and character width --------------------------------------------------------------------------
def _strip_table() -> dict[int, str]:
    table = {}
    for code in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFD", chr(code))
        if len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha():
            table[code] = decomposed[0]
    extra = {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l", "Ł": "L",
             "đ": "d", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th"}
    table.update({ord(k): v for k, v in extra.items()})
    return table


_STRIP_TABLE = _strip_table()


def strip_accents(text: str) -> str:
    """Drop Latin diacritics (é → e, ø → o, ß → ss); Cyrillic й and kana dakuten are left alone."""
    return text.translate(_STRIP_TABLE)


def has_accents(text: str) -> bool:
    """True when :func:`strip_accents` would change ``text``."""
    return text.translate(_STRIP_TABLE) != text


def _halfwidth_table() -> dict[int, str]:
    """Full-width katakana (and kana punctuation) → half-width forms, voiced ones as two characters."""
    halfwidth = {unicodedata.normalize("NFKC", chr(code)): chr(code) for code in range(0xFF61, 0xFFA0)}
    marks = {"\u3099": "ﾞ", "\u309a": "ﾟ"}
    for code in range(0x30A1, 0x30FB):
        decomposed = unicodedata.normalize("NFD", chr(code))
        base, rest = decomposed[0], decomposed[1:]
        if base in halfwidth and rest in ("", *marks):
            halfwidth[chr(code)] = halfwidth[base] + marks.get(rest, "")
    return {ord(k): v for k, v in halfwidth.items() if len(k) == 1 and not k.isascii()}


_HALFWIDTH_TABLE = _halfwidth_table()
_FULLWIDTH_TABLE = {c: c + 0xFEE0 for c in range(0x21, 0x7F)} | {0x20: 0x3000}


def to_halfwidth_katakana(text: str) -> str:
    """Full-width katakana → half-width forms (ガ → ｶﾞ); NFKC maps them back."""
    return text.translate(_HALFWIDTH_TABLE)


def to_fullwidth_ascii(text: str) -> str:
    """ASCII letters, digits, punctuation and space → full-width forms (A → Ａ, space → ideographic)."""
    return text.translate(_FULLWIDTH_TABLE)


# --- typos and case ---------------------------------------------------------------------------------------
_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    c: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row))
    + "".join(other[i] for other in _QWERTY_ROWS if other is not row and i < len(other))
    for row in _QWERTY_ROWS for i, c in enumerate(row)
}


def _replacement(rnd: random.Random, char: str) -> str:
    lower = char.lower()
    base = strip_accents(lower)
    if base in _NEIGHBOURS:
        out = rnd.choice(_NEIGHBOURS[base])
    elif lower in CYRILLIC_LOWER:
        out = rnd.choice(CYRILLIC_LOWER)
    elif "\uac00" <= char <= "\ud7a3":
        out = hangul_syllable(rnd)
    elif "\u30a0" <= char <= "\u30ff":
        out = rnd.choice(KATAKANA_SYLLABLES)
    else:
        out = rnd.choice(HIRAGANA_SYLLABLES)
    return out.upper() if char.isupper() else out


def typo(rnd: random.Random, text: str) -> str:
    """One keyboard-style edit (substitute a neighbour, delete, double, transpose) on a letter of ``text``.

    Always returns a different string when ``text`` has a letter; otherwise returns ``text`` unchanged.
    """
    positions = [i for i, c in enumerate(text) if c.isalpha()]
    if not positions:
        return text
    for _ in range(6):
        i = rnd.choice(positions)
        op = rnd.random()
        if op < 0.4:
            out = text[:i] + _replacement(rnd, text[i]) + text[i + 1 :]
        elif op < 0.6 and len(positions) > 1:
            out = text[:i] + text[i + 1 :]
        elif op < 0.8:
            out = text[:i] + text[i] + text[i:]
        else:
            out = text[:i] + text[i + 1 : i + 2] + text[i] + text[i + 2 :]
        if out != text:
            return out
    return text[: positions[0]] + text[positions[0]] + text[positions[0] :]


def title_case(text: str) -> str:
    """Naive per-word Title Case, as ingestion tools do it (``"DJ"`` → ``"Dj"``)."""
    return " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))


# --- artist name variants ---------------------------------------------------------------------------------
def _cjk_variant(rnd: random.Random, name: str) -> str:
    options = []
    if to_halfwidth_katakana(name) != name:
        options += ["half", "half"]
    if any(c.isascii() and c.isalnum() for c in name):
        options.append("full")
    options += ["unspace", "ideographic"] if " " in name else ["space"]
    option = rnd.choice(options)
    if option == "half":
        return to_halfwidth_katakana(name)
    if option == "full":
        return to_fullwidth_ascii(name)
    if option == "unspace":
        return name.replace(" ", "")
    if option == "ideographic":
        return name.replace(" ", "\u3000")
    i = rnd.randrange(1, len(name)) if len(name) > 1 else 1
    return name[:i] + " " + name[i:]


def _latin_variant(rnd: random.Random, name: str) -> str:
    options = ["typo", "typo", "case"]
    if " " in name:
        options.append("join")
    if name.startswith("The "):
        options += ["drop_the", "move_the", "move_the"]
    elif rnd.random() < 0.1:
        options.append("add_the")
    if " & " in name or " and " in name:
        options += ["ampersand", "ampersand"]
    if has_accents(name):
        options += ["strip"] * 6
    option = rnd.choice(options)
    if option == "drop_the":
        return name[4:]
    if option == "move_the":
        return f"{name[4:]}, The"
    if option == "add_the":
        return f"The {name}"
    if option == "ampersand":
        return name.replace(" & ", " and ") if " & " in name else name.replace(" and ", " & ", 1)
    if option == "strip":
        return strip_accents(name)
    if option == "case":
        return rnd.choice((name.upper(), name.lower(), title_case(name)))
    if option == "join":
        return name.replace(" ", rnd.choice(("-", "", ".")), 1)
    return typo(rnd, name)


def name_variant(rnd: random.Random, name: str, script: str) -> str:
    """Another artist id's spelling of ``name``: a small, realistic edit that still names the same act."""
    if script == "cyrillic":
        return transliterate(name, rnd.choice(TRANSLIT_CONVENTIONS))
    if script in ("japanese", "korean"):
        return _cjk_variant(rnd, name)
    return _latin_variant(rnd, name)
