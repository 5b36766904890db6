"""Word lists and name and title generators for :mod:`resolver.synthetic`.

Every generator takes a ``random.Random`` that the caller seeds from the catalog's numpy Generator, so the
output is a pure function of the seed; nothing here reads the clock, the environment or the disk. Spelling
noise lives in :mod:`resolver.synthetic.spelling`, delivery text in :mod:`resolver.synthetic.text`.
"""

from __future__ import annotations

import random

from catalog_er.resolver.synthetic.spelling import (
    HIRAGANA_SYLLABLES,
    KATAKANA_SYLLABLES,
    hangul_syllable,
    strip_accents,
)

SCRIPTS = ("latin", "accented", "cyrillic", "japanese", "korean")
SCRIPT_WEIGHTS = (0.60, 0.15, 0.10, 0.08, 0.07)
ACCENT_LANGUAGES = ("es", "fr", "pt", "de", "nordic")


def _w(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text.split()))


# --- English words ---------------------------------------------------------------------------------------
EN_NOUNS = _w("""love heart night fire rain sky dream light road river city star ocean summer winter girl boy
world soul mind time money gold diamond shadow ghost angel devil storm thunder moon sun wave wind stone glass
mirror window door house room garden heaven highway train car radio dance song voice eyes kiss lips hands blood
bones tears smoke rose flower wolf lion tiger bird butterfly snake dragon king queen crown island desert
mountain valley forest kingdom empire memory promise secret story letter morning evening midnight weekend
holiday party street bridge tower castle machine satellite planet galaxy echo signal silence whisper lightning
flame ashes dust sugar honey cherry lemon coffee whiskey wine champagne lake thief soldier sailor stranger lover
friend enemy hero villain spirit country town village telephone television cinema movie photograph picture
canvas colour velvet silk leather denim neon chrome paradise harbor lantern compass anchor feather arrow
thunderbird comet horizon canyon meadow orchard prairie blizzard hurricane tornado volcano glacier rainbow""")
EN_ADJECTIVES = _w("""blue red golden silver black white wild young old lonely broken beautiful crazy sweet bitter
electric cosmic endless empty lost last little big cold warm hot dark bright quiet loud slow fast strange perfect
magic digital crystal plastic burning falling rising fading shining sleeping secret hidden holy savage gentle
tender heavy easy lucky dirty pretty purple green yellow violet scarlet hollow frozen restless faithful
reckless careless fearless midnight velvet paper""")
EN_VERBS = _w("""love dance run fall fly breathe wait stay leave hold call dream burn shine cry smile kiss chase
follow remember forget believe know feel need want take give break touch save walk drive ride lose find hide
shake move stop start turn""")
EN_GERUNDS = _w("""Dancin' Runnin' Lovin' Dreamin' Fallin' Cryin' Drivin' Ridin' Walkin' Talkin' Thinkin' Livin'
Burnin' Shinin' Chasin' Rollin' Rockin' Movin'""")
_EN_TEMPLATES = (
    "{N}", "{N}", "{N}", "{A} {N}", "{A} {N}", "{A} {N}", "The {N}", "{N} of {N}", "{V} Me", "I {V} You",
    "Don't {V}", "{A} {P}", "{V} the {N}", "{V} With Me", "{N} in the {N}", "{A} {N} {N}", "Hey {N}",
    "Oh, {N}!", "{N}, {N} & {N}", "{A} and {A}", "{N}'s {N}", "What's Your {N}?", "Ain't No {N}",
    "{G} on a {N}", "Can't {V} the {N}", "We {V} {A}", "Let's {V}", "Never {V} Again", "{A} {N} {A} {N}",
    "All the {A} {P}", "Tell Me Why", "{N}", "{G}", "{A}",
)

# Titles that many artists use: the same title by different artists is a different recording.
POPULAR_TITLES = (*_w("""Intro Outro Home Interlude Love Forever Stay Hello Run Angel Tonight Dreams Alive Crazy
Beautiful Falling Heaven Fire Gold Paradise Closer Believe Sorry Lonely Hurt Smile Faded Animals Money Skit
Breathe Sunrise Wonderland Underground Summertime"""), "Let It Go", "Without You", "I Love You", "Hold On",
                  "Hold Me", "One More Time")


# --- Latin-with-accents words (titles) and names, per language ---------------------------------------------
ACCENTED_WORDS = {
    "es": _w("""corazón canción mañana noche amor vida sueño fuego luna cielo mar sol ilusión pasión café adiós
niña dónde más después jamás último música baile fiesta estrella camión razón perdón lágrimas país árbol jardín
señor bailando sabor azúcar corazones mío"""),
    "fr": _w("""été rêve noël fête cœur étoile lumière âme forêt mémoire chanson belle ville amour nuit soleil
château bientôt déjà où très première même fenêtre rivière garçon éternité liberté à"""),
    "pt": _w("""coração ação saudade canção não irmão manhã avião mãe sertão paixão você também lá estação
solidão céu"""),
    "de": _w("""für schön mädchen über müde straße träume grün nächte könig märchen glück wünsche lügen
größer"""),
    "nordic": _w("""sjø øya hjärta ljós ást draumur fjörður skål vår sól nótt älskar söndag kärlek blå
sólskin"""),
}
_ACCENTED_FIRST = {
    "es": _w("José Inés Andrés Ramón Íñigo Jesús Martín Sofía María Lucía Julián Adrián Óscar Raúl Tomás "
             "Víctor Belén Ángela Mónica Joaquín"),
    "fr": _w("Chloé Joël Renée Jérôme Hélène Zoé Noémie Léa Clément Théo Anaïs Gaël Loïc Mélanie Céline "
             "Amélie Stéphane Frédéric André Émile"),
    "pt": _w("João Sebastião Antônio Inês Tânia Lúcia Mônica Fábio Márcio Cláudia Vitória Gonçalo Luís "
             "Flávia Tomé"),
    "de": _w("Björn Jürgen Jörg Günter Käthe Bärbel Jörn Sönke Dörte Zoë Özlem Ümit Gürkan Hänsel"),
    "nordic": _w("Søren Bjørn Sigurður Þóra Ásgeir Jónsi Björk Øystein Åsa Sæunn Jökull Hákon Líf Ólöf"),
}
_ACCENTED_LAST = {
    "es": _w("Sánchez Gómez Fernández Núñez Pérez Martínez Rodríguez López Hernández González Álvarez "
             "Jiménez Ramírez Muñoz Díaz Gutiérrez Vázquez Domínguez Peña Ibáñez"),
    "fr": _w("Lefèvre Dubé Bélanger Gagné Côté Lévesque Fréchette Bérubé Ménard Hébert Séguin Thériault Déry "
             "Barré Lemaître Leclère Gérard Rivière"),
    "pt": _w("Gonçalves Conceição Araújo Magalhães Simões Guimarães Brandão Falcão Assunção Damião Romão"),
    "de": _w("Müller Jäger Schröder Köhler Böhm Günther Krüger Hölzel Wölfel Fröhlich Schäfer Möller "
             "Gröning"),
    "nordic": _w("Løvland Bergström Ólafsson Jónsdóttir Sørensen Lindström Åberg Björnsson Grønli Højgaard "
                 "Næss Ødegård"),
}
_ACCENT_VOWELS = {"es": "áéíóúñ", "fr": "éèêàôëç", "pt": "ãõçáêô", "de": "äöü", "nordic": "øåæóíú"}
ACCENT_COUNTRIES = {"es": ("ES", "MX", "AR", "CO", "CL"), "fr": ("FR", "BE", "CA"), "pt": ("BR", "PT"),
                    "de": ("DE", "AT", "CH"), "nordic": ("IS", "NO", "SE", "DK", "FI")}


# --- Plain Latin names ---------------------------------------------------------------------------------
_LATIN_FIRST = _w("""Aaron Abby Adam Alex Alice Amber Amy Andrew Anna Ava Ben Billy Blake Bobby Caleb Carly
Casey Charlie Chris Cody Daisy Dan Dave Dylan Eddie Eli Ella Emily Emma Ethan Evan Finn Frankie Gemma Grace
Hannah Harry Holly Isaac Jack Jake James Jamie Jason Jenny Jesse Joe Johnny Jordan Josh Julia Kate Katie Kelly
Kevin Kim Kyle Laura Leah Leo Liam Lily Lucy Luke Maddie Marcus Mark Matt Max Maya Megan Mia Mike Molly Nate
Nick Noah Olivia Owen Paige Pete Rachel Riley Rob Rose Ruby Ryan Sam Sarah Scott Sean Sophie Steve Tom Tony
Tyler Will Zoe""")
_LATIN_LAST = _w("""Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin
Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams Baker
Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris Murphy Cook
Rogers Morgan Cooper Peterson Reed Bailey Bell Kelly Howard Ward Cox Richardson Wood Watson Brooks Bennett Gray
Hughes Price Sanders Myers Long Ross Foster Powell Jenkins Perry Russell Sullivan Fisher Hayes Graham""")
_SURNAME_HEAD = _w("""Mar Kel Bran Dor Ash Wil Har Ros Lan Cal Bel Fen Gar Hol Jen Mel Nor Pem Quin Ren Sel Tam
Ver Wyn Ald Bex Cor Dal Eld Fal Grim Hux Kin Lor Mor Pax Rad Stan Thorn Ulm Wes""")
_SURNAME_TAIL = _w("ley ton son well ford man ing er by wood ridge field hart more ick den stone worth wick low ner")
_ONSETS = _w("b c d f g h j k l m n p r s t v z br cr dr fr gr kr pr tr st sh ch th")
_VOWELS = _w("a e i o u a e o ai ei ou y")
_CODAS = ("", "", "", "n", "r", "x", "s", "l", "m")
PERSON_FIRST_NAMES = frozenset(_LATIN_FIRST).union(*_ACCENTED_FIRST.values())  # "<first>'s Version"


# --- Cyrillic ------------------------------------------------------------------------------------------
CYRILLIC_WORDS = _w("""любовь ночь звезда город небо море солнце луна ветер дождь снег весна лето осень зима
сердце душа мечта время дорога песня танец огонь свет тень окно дом мама друг мир жизнь навсегда прощай привет
тишина птица река берег поезд улица красный белый чёрный синий новый последний первый старый молодой холодный
вечный тайный дикий счастье ещё юность яблоко хорошо цветы шёпот чайка журавли подъезд май край твой мой
хочу люблю ищу вьюга площадь щека юг яркий зеркало""")
_RU_FIRST_M = _w("Алексей Андрей Сергей Дмитрий Юрий Николай Михаил Евгений Максим Илья Вячеслав Григорий "
                 "Кирилл Тимофей Ярослав Захар")
_RU_FIRST_F = _w("Мария Юлия Наталья Ксения Анастасия Татьяна Светлана Екатерина Яна Алёна Полина Зоя Юлиана "
                 "Жанна Софья")
_RU_ROOTS = _w("""Иван Петр Смирн Кузнец Поп Сокол Лебед Козл Новик Мороз Волк Зайц Соловь Васил Щербак Шевч
Цветк Журавл Яковл Юд Хабар Чайк Жук Медвед Орл Сыч Ёлк Шишк Крюч Щегл""")
_RU_SUFFIX_M = ("ов", "ев", "ин", "ский", "цев", "енко", "ук")
_RU_SUFFIX_F = ("ова", "ева", "ина", "ская", "цева", "енко", "ук")
_RU_BAND_ADJ = _w("Ночные Белые Чёрные Дикие Тайные Синие Вечные Холодные Юные Хорошие Шумные Яркие")
_RU_BAND_NOUN = _w("Снайперы Звёзды Птицы Волки Тени Ветры Огни Журавли Чайки Цветы Кошки Ящерицы Хищники")


# --- Japanese and Korean -----------------------------------------------------------------------------------
JAPANESE_WORDS = _w("""夜 桜 恋 夢 未来 光 空 海 雨 風 花火 東京 さよなら ありがとう 君 僕 世界 約束 涙 笑顔 青春 季節
星 月 心 愛 永遠 奇跡 ラブ メロディー ダンス ストーリー ヒーロー ドリーム ロマンス ブルー 少年 少女 ひかり きみ ふたり
夏 冬 春 秋 記憶 ハート シンデレラ さくら まつり""")
_JA_FAMILY = _w("""佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水
山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本""")
_JA_GIVEN_HEAD = "美優花陽結健翔大愛真彩千和光春夏秋冬拓直恵亮修浩雅智由沙莉蒼"
_JA_GIVEN_TAIL = "子美香奈太斗也介人菜希輝樹海空音乃衣平郎"
KOREAN_WORDS = _w("""사랑 밤 별 우리 너 나 그대 하루 봄날 기억 눈물 시간 꿈 바다 하늘 노래 마음 이별 여름 겨울 안녕 오늘
내일 처음 마지막 비 바람 꽃 달 빛 우주 소년 소녀 너에게 그리고 약속 거짓말 행복 별빛""")
_KO_FAMILY = _w("김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 홍")
_KO_GIVEN = "민지서현수준우영진하윤은예도유연아재성태희혜경주빈원훈석호규"
_CJK_LATIN_SUFFIX = ("2", "7", "X", "Z", "21", "ONE", "S", "K", "BOYS", "GIRLS")


# --- generators --------------------------------------------------------------------------------------------
def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def _plural(noun: str) -> str:
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def invented_word(rnd: random.Random, syllables: int = 0) -> str:
    """A pronounceable Latin word such as ``"Zolarin"`` (2–3 syllables unless given)."""
    count = syllables or rnd.choice((2, 2, 3))
    word = "".join(rnd.choice(_ONSETS) + rnd.choice(_VOWELS) for _ in range(count)) + rnd.choice(_CODAS)
    return _cap(word)


def english_title(rnd: random.Random) -> str:
    """A title of 1–5 English words from a template, e.g. ``"Heart of Glass"``, ``"Ain't No Sunshine"``.

    Every placeholder is drawn on its own, so ``"{N} of {N}"`` gives ``"Heart of Glass"``."""
    parts = rnd.choice(_EN_TEMPLATES).split("{")
    out = [parts[0]]
    for part in parts[1:]:
        slot = part[0]
        if slot == "N":
            word = _cap(rnd.choice(EN_NOUNS))
        elif slot == "A":
            word = _cap(rnd.choice(EN_ADJECTIVES))
        elif slot == "V":
            word = _cap(rnd.choice(EN_VERBS))
        elif slot == "P":
            word = _cap(_plural(rnd.choice(EN_NOUNS)))
        else:
            word = rnd.choice(EN_GERUNDS)
        out.append(word + part[2:])
    return "".join(out)


def native_title(rnd: random.Random, script: str, language: str) -> str:
    """A title in the entity's own script/language (accented languages, Cyrillic, Japanese, Korean)."""
    if script == "accented":
        words = rnd.sample(ACCENTED_WORDS[language], rnd.choice((1, 2, 2, 3, 4)))
        return _cap(" ".join(words)) if rnd.random() < 0.6 else " ".join(_cap(w) for w in words)
    if script == "cyrillic":
        return _cap(" ".join(rnd.sample(CYRILLIC_WORDS, rnd.choice((1, 2, 2, 3, 4)))))
    if script == "japanese":
        return rnd.choice(("", "の", "と", " ")).join(rnd.sample(JAPANESE_WORDS, rnd.choice((1, 2, 2, 3))))
    if script == "korean":
        return " ".join(rnd.sample(KOREAN_WORDS, rnd.choice((1, 2, 2, 3))))
    return english_title(rnd)


_ENGLISH_TITLE_SHARE = {"latin": 1.0, "accented": 0.5, "cyrillic": 0.3, "japanese": 0.3, "korean": 0.35}


def recording_title(rnd: random.Random, script: str, language: str) -> str:
    """A recording title: English for most Latin artists, mostly the artist's own script otherwise."""
    if script == "latin":
        if rnd.random() < 0.03:
            return native_title(rnd, "accented", rnd.choice(ACCENT_LANGUAGES))
        return english_title(rnd)
    if rnd.random() < _ENGLISH_TITLE_SHARE[script]:
        return english_title(rnd)
    return native_title(rnd, script, language)


def _latin_artist(rnd: random.Random) -> str:
    roll = rnd.random()
    first = rnd.choice(_LATIN_FIRST)
    if roll < 0.26:
        last = rnd.choice(_LATIN_LAST) if rnd.random() < 0.5 else rnd.choice(_SURNAME_HEAD) + rnd.choice(
            _SURNAME_TAIL)
        return f"{first} {last}"
    if roll < 0.36:
        return f"{first} {invented_word(rnd)}"
    if roll < 0.55:
        noun = rnd.choice((_plural(rnd.choice(EN_NOUNS)), _plural(invented_word(rnd).lower())))
        adjective = f"{_cap(rnd.choice(EN_ADJECTIVES))} " if rnd.random() < 0.6 else ""
        return f"The {adjective}{_cap(noun)}"
    if roll < 0.64:
        return rnd.choice((
            f"{rnd.choice(_LATIN_LAST)} & {rnd.choice(_SURNAME_HEAD)}{rnd.choice(_SURNAME_TAIL)}",
            f"{first} and the {_cap(_plural(rnd.choice(EN_NOUNS)))}",
            f"{first} & the {_cap(rnd.choice(EN_ADJECTIVES))} {_cap(_plural(rnd.choice(EN_NOUNS)))}",
            f"{_cap(rnd.choice(EN_NOUNS))} & {_cap(rnd.choice(EN_NOUNS))}",
            f"{first} and {rnd.choice(_LATIN_FIRST)}",
        ))
    if roll < 0.80:
        prefix = rnd.choice(("", "", "", "", "DJ ", "MC ", "Lil ", "Young "))
        return prefix + invented_word(rnd)
    if roll < 0.88:
        return f"{invented_word(rnd)} {invented_word(rnd)}"
    return f"{_cap(rnd.choice(EN_ADJECTIVES))} {_cap(rnd.choice(EN_NOUNS))}"


def _accented_word(rnd: random.Random, language: str) -> str:
    word = invented_word(rnd).lower()
    vowels = [i for i, c in enumerate(word) if c in "aeiou"]
    i = rnd.choice(vowels) if vowels else len(word) - 1
    return _cap(word[:i] + rnd.choice(_ACCENT_VOWELS[language]) + word[i + 1 :])


def _accented_artist(rnd: random.Random, language: str) -> str:
    roll = rnd.random()
    if roll < 0.45:
        last = rnd.choice(_ACCENTED_LAST[language]) if rnd.random() < 0.5 else _accented_word(rnd, language)
        return f"{rnd.choice(_ACCENTED_FIRST[language])} {last}"
    if roll < 0.70:
        return f"{_accented_word(rnd, language)} {_accented_word(rnd, language)}"
    if roll < 0.82:
        article = {"es": "Los", "fr": "Les", "pt": "Os", "de": "Die", "nordic": "De"}[language]
        return f"{article} {_cap(rnd.choice(ACCENTED_WORDS[language]))} {_accented_word(rnd, language)}"
    if roll < 0.90:  # Motörhead-style umlaut on an English-looking word
        word = _cap(rnd.choice(EN_NOUNS)) + rnd.choice(EN_NOUNS)
        vowels = [i for i, c in enumerate(word) if c in "aeou"]
        i = rnd.choice(vowels) if vowels else 0
        return word[:i] + {"a": "ä", "e": "ë", "o": "ö", "u": "ü"}.get(word[i], "ö") + word[i + 1 :]
    return _accented_word(rnd, language)


def _cyrillic_artist(rnd: random.Random) -> str:
    roll = rnd.random()
    if roll < 0.55:
        root = rnd.choice(_RU_ROOTS)
        if rnd.random() < 0.5:
            return f"{rnd.choice(_RU_FIRST_M)} {root}{rnd.choice(_RU_SUFFIX_M)}"
        return f"{rnd.choice(_RU_FIRST_F)} {root}{rnd.choice(_RU_SUFFIX_F)}"
    if roll < 0.80:
        return f"{rnd.choice(_RU_BAND_ADJ)} {rnd.choice(_RU_BAND_NOUN)}"
    syllables = [rnd.choice("бвгджзклмнпрстхцчшщ") + rnd.choice("аеиоуюяё") for _ in range(rnd.choice((2, 3)))]
    return _cap("".join(syllables) + rnd.choice(("", "й", "н", "р", "с")))


def _japanese_artist(rnd: random.Random) -> str:
    roll = rnd.random()
    if roll < 0.40:
        given = rnd.choice(_JA_GIVEN_HEAD) + rnd.choice(_JA_GIVEN_TAIL)
        return rnd.choice(_JA_FAMILY) + rnd.choice((" ", "", "")) + given
    if roll < 0.75:
        word = "".join(rnd.choice(KATAKANA_SYLLABLES) + ("ー" if rnd.random() < 0.15 else "")
                       for _ in range(rnd.choice((3, 4, 5))))
        return word if rnd.random() < 0.8 else word + "・" + rnd.choice(KATAKANA_SYLLABLES) * 2
    if roll < 0.88:
        return "".join(rnd.choice(HIRAGANA_SYLLABLES) for _ in range(rnd.choice((3, 4, 5))))
    return f"{rnd.choice(EN_NOUNS).upper()} {rnd.choice(JAPANESE_WORDS)}{rnd.choice(KATAKANA_SYLLABLES)}"


def _korean_artist(rnd: random.Random) -> str:
    if rnd.random() < 0.45:
        return rnd.choice(_KO_FAMILY) + rnd.choice(_KO_GIVEN) + rnd.choice(_KO_GIVEN)
    if rnd.random() < 0.5:
        name = rnd.choice(KOREAN_WORDS) + rnd.choice(KOREAN_WORDS)
    else:
        name = "".join(hangul_syllable(rnd) for _ in range(rnd.choice((2, 3, 3, 4))))
    return name + " " + rnd.choice(_CJK_LATIN_SUFFIX) if rnd.random() < 0.35 else name


def artist_name(rnd: random.Random, script: str, language: str) -> str:
    """A primary artist name in ``script`` (one of :data:`SCRIPTS`); ``language`` matters for "accented"."""
    if script == "latin":
        return _latin_artist(rnd)
    if script == "accented":
        name = _accented_artist(rnd, language)
        return name if strip_accents(name) != name else _accented_word(rnd, language) + " " + name
    if script == "cyrillic":
        return _cyrillic_artist(rnd)
    if script == "japanese":
        return _japanese_artist(rnd)
    return _korean_artist(rnd)


def person_name(rnd: random.Random) -> str:
    """A Latin person or DJ name (remixers, label founders)."""
    roll = rnd.random()
    if roll < 0.4:
        return f"{rnd.choice(_LATIN_FIRST)} {rnd.choice(_LATIN_LAST)}"
    if roll < 0.7:
        return "DJ " + invented_word(rnd)
    return invented_word(rnd)


_LABEL_SUFFIXES = ("Records", "Records", "Music", "Recordings", "Entertainment", "Music Group", "Sound", "Label")


def label_name(rnd: random.Random) -> str:
    """A record label name such as ``"Golden Harbor Records"``."""
    head = _cap(rnd.choice(EN_NOUNS)) if rnd.random() < 0.5 else invented_word(rnd)
    if rnd.random() < 0.3:
        head = f"{_cap(rnd.choice(EN_ADJECTIVES))} {head}"
    return f"{head} {rnd.choice(_LABEL_SUFFIXES)}"
