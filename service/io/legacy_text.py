"""Text that is not UTF-8: read it in the legacy encoding its column was most likely written in.

Dumps exported from older tools (a spreadsheet saved as "CSV" on Windows, a store's back office) write text in a
legacy code page: ``Caf\\xe9`` for "Café" in Windows-1252, ``\\xca\\xe8\\xed\\xee`` for "Кино" in Windows-1251. A
catalog that aggregates sources gets such values beside UTF-8 ones, often in the same file. Dropping them would
drop every accented record of that source, exactly the records whose twins need finding.

:func:`decode_legacy` reads the values of one column that are not valid UTF-8 in one encoding chosen for all of
them together (a whole column says far more about its encoding than one short value): each candidate of
:data:`LEGACY_ENCODINGS` that decodes every value is scored by charset-normalizer (its "chaos", the share of
implausible character sequences, and its "coherence", how well the letters fit a language; a reading too chaotic
is no candidate), and a later candidate replaces an earlier one only when it reads clearly better; the list
starts with Windows-1252, the most common, so short or ambiguous samples are read as Western European text. A
value the chosen encoding cannot decode is read as Windows-1252 with its five unassigned bytes taken as Latin-1,
which reads any byte string. Callers report each value read this way (its field is kept: ``field decoded`` in the
rejected report).
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

LEGACY_ENCODINGS = ("cp1252", "cp1251", "cp1250", "cp1253", "cp1254", "cp1257", "cp932", "gbk", "euc_kr", "big5")
"""Candidate encodings, most likely first: Windows code pages for Western, Cyrillic, Central European, Greek,
Turkish and Baltic text, then Japanese (Shift-JIS), Simplified Chinese, Korean and Traditional Chinese."""
SAMPLE_BYTES = 16_384
"""At most this many bytes of a column's undecodable values are scored (bounds the cost of the choice)."""
CLEAR_CHAOS_MARGIN = 0.1
CLEAR_COHERENCE_MARGIN = 0.2
"""How much better (charset-normalizer's chaos and coherence, both in [0, 1]) a later candidate must read a sample
to be preferred over an earlier one."""
_LATIN1_FALLBACK = "catalog_er.latin1"


def _latin1(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error(_LATIN1_FALLBACK, _latin1)


def decode_legacy(values: list[bytes]) -> tuple[list[str], str]:
    """``values`` (byte strings that are not valid UTF-8, from one column) as text, and the encoding chosen
    (see the module docstring); values the chosen encoding cannot read are read as Windows-1252/Latin-1."""
    encoding = likely_encoding(values)
    return [_decoded(value, encoding) for value in values], encoding


def likely_encoding(values: list[bytes]) -> str:
    """The candidate encoding (:data:`LEGACY_ENCODINGS`) that reads ``values`` most plausibly."""
    gathered = bytearray()
    for value in values:
        if len(gathered) >= SAMPLE_BYTES:
            break
        gathered += value[:SAMPLE_BYTES] + b"\n"
    sample = bytes(gathered)
    best, best_score = LEGACY_ENCODINGS[0], None
    for encoding in LEGACY_ENCODINGS:
        try:
            sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        match = from_bytes(sample, cp_isolation=[encoding], preemptive_behaviour=False).best()
        if match is None:  # too chaotic a reading to be considered
            continue
        if best_score is None or _clearly_better((match.chaos, match.coherence), best_score):
            best, best_score = encoding, (match.chaos, match.coherence)
    return best


def _clearly_better(score: tuple[float, float], than: tuple[float, float]) -> bool:
    """Whether a reading scored ``(chaos, coherence)`` beats an earlier candidate's by more than the noise of a
    short sample: :data:`CLEAR_CHAOS_MARGIN` less chaos, or as little chaos and :data:`CLEAR_COHERENCE_MARGIN`
    more coherence (Latin code pages read most accented letters alike; the first listed keeps such ties)."""
    (chaos, coherence), (best_chaos, best_coherence) = score, than
    return chaos <= best_chaos - CLEAR_CHAOS_MARGIN or (
        chaos <= best_chaos + 0.01 and coherence >= best_coherence + CLEAR_COHERENCE_MARGIN)


def _decoded(value: bytes, encoding: str) -> str:
    try:
        return value.decode(encoding)
    except UnicodeDecodeError:
        return value.decode("cp1252", errors=_LATIN1_FALLBACK)
