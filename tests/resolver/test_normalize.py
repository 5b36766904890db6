from __future__ import annotations

import pytest

from catalog_er.resolver.normalize import fold, normalize_isrc, parse_artist_credit, parse_title


@pytest.mark.parametrize(
    ("raw", "core"),
    [
        ("Bohemian Rhapsody - Remastered 2011", "bohemian rhapsody"),
        ("Bohemian Rhapsody (2011 Remaster)", "bohemian rhapsody"),
        ("BOHEMIAN RHAPSODY [Deluxe Edition]", "bohemian rhapsody"),
        ("Get Lucky (feat. Pharrell Williams)", "get lucky"),
        ("Get Lucky [ft. Pharrell Williams]", "get lucky"),
        ("Get Lucky feat. Pharrell Williams", "get lucky"),
        ("(I Can't Get No) Satisfaction", "satisfaction i cant get no"),
        ("Ｈｅｌｌｏ　Ｗｏｒｌｄ", "hello world"),
        ("Café del Mar", "cafe del mar"),
    ],
)
def test_core_title_ignores_reissue_tags_and_credits(raw: str, core: str) -> None:
    parsed = parse_title(raw)
    assert parsed.core == core
    assert parsed.version_kind == ""


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("Song (Live)", "live"),
        ("Song - Live at Wembley Stadium", "live"),
        ("Song [Live from Tokyo]", "live"),
        ("Song (DJ Snake Remix)", "remix"),
        ("Song - Acoustic", "acoustic"),
        ("Song (Instrumental)", "instrumental"),
        ("Song (Radio Edit)", "radio_edit"),
        ("Song (Extended Mix)", "extended"),
        ("Love Story (Taylor's Version)", "rerecording"),
        ("Song (2019 Version)", "rerecording"),
        ("Song (Sped Up)", "sped_up"),
        ("Song (Slowed + Reverb)", "slowed"),
        ("Song (Demo)", "demo"),
    ],
)
def test_version_tags_are_recognised_in_every_bracket_style(raw: str, kind: str) -> None:
    parsed = parse_title(raw)
    assert parsed.version_kind == kind
    assert parsed.core == ("love story" if raw.startswith("Love Story") else "song")


def test_live_and_remix_details_name_venue_and_remixer() -> None:
    assert parse_title("Song - Live at Wembley Stadium").version_detail == "wembley stadium"
    assert parse_title("Song (DJ Snake Remix)").version_detail == "dj snake"
    assert parse_title("Song (Remix)").version_detail == ""


def test_featured_artist_in_title_is_extracted() -> None:
    assert parse_title("Get Lucky (feat. Pharrell Williams)").featured == ("pharrell williams",)


@pytest.mark.parametrize(
    ("credit", "names"),
    [
        ("Daft Punk feat. Pharrell Williams", ("daft punk", "pharrell williams")),
        ("Daft Punk ft. Pharrell Williams", ("daft punk", "pharrell williams")),
        ("The Weeknd", ("weeknd",)),
        ("Weeknd, The", ("weeknd",)),
        ("Simon & Garfunkel", ("simon", "garfunkel")),
        ("Simon and Garfunkel", ("simon", "garfunkel")),
        ("Beyoncé", ("beyonce",)),
        ("Кино", ("kino",)),
    ],
)
def test_artist_credit_variants_fold_to_the_same_names(credit: str, names: tuple[str, ...]) -> None:
    assert parse_artist_credit(credit) == names


def test_fold_transliterates_scripts_to_ascii() -> None:
    for text in ("Кино", "夜に駆ける", "방탄소년단", "Ελλάδα", "Sigur Rós"):
        folded = fold(text)
        assert folded and folded.isascii()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("USRC17607839", "USRC17607839"),
        ("us-rc1-76-07839", "USRC17607839"),
        (" US RC1 76 07839 ", "USRC17607839"),
        ("USRC1760783", None),
        ("not an isrc", None),
        (None, None),
    ],
)
def test_isrc_normalization(raw: str | None, expected: str | None) -> None:
    assert normalize_isrc(raw) == expected
