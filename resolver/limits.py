"""The longest text the data contract accepts, per field, and the most text a comparison reads.

Every limit is in characters (Unicode code points, as ``len(str)`` and Arrow's ``utf8_length`` count them) and
far beyond what a real catalog holds, so only garbage or hostile input reaches one. The edges (the dump readers
and the gRPC service, through ``service.io.validation``) refuse a record with a value over its field's limit;
the cores then never see one, and the work per value of every stage is bounded by these numbers.

Normalizing can make a text longer than it came (NFKC turns U+FDFA into 18 letters, transliteration writes a CJK
character as a syllable): the features a comparison reads are cut to :data:`MAX_COMPARED_CHARS`, so the cost of
comparing two records stays bounded whatever their script.
"""

from __future__ import annotations

MAX_ID_CHARS = 512
"""Characters of an id (``track_id``, ``artist_id``, ``user_id``, each of ``artist_ids``, a proposal or member id
in a request): catalog ids are tens of characters; a URI used as an id stays within a few hundred."""
MAX_NAME_CHARS = 1_000
"""Characters of a title, an album, a label, an artist's name, a source or a genre (the longest real album titles
run to a few hundred characters)."""
MAX_CREDIT_CHARS = 2_000
"""Characters of an artist credit as displayed (``tracks.artist``): a classical recording credits soloists,
orchestra, choir and conductor in one string."""
MAX_CODE_CHARS = 64
"""Characters of a code or a date written any common way (``isrc``, ``release_date``, ``country``)."""
MAX_PATH_CHARS = 4_096
"""Characters of an ``audio_path`` (Linux's ``PATH_MAX``)."""
MAX_LIST_ITEMS = 256
"""Items of a list field (``artist_ids``, ``genres``) of one record."""

MAX_FIELD_CHARS: dict[str, int] = {
    "track_id": MAX_ID_CHARS,
    "title": MAX_NAME_CHARS,
    "artist": MAX_CREDIT_CHARS,
    "artist_ids": MAX_ID_CHARS,
    "album": MAX_NAME_CHARS,
    "isrc": MAX_CODE_CHARS,
    "release_date": MAX_CODE_CHARS,
    "label": MAX_NAME_CHARS,
    "source": MAX_NAME_CHARS,
    "audio_path": MAX_PATH_CHARS,
    "artist_id": MAX_ID_CHARS,
    "name": MAX_NAME_CHARS,
    "genres": MAX_NAME_CHARS,
    "country": MAX_CODE_CHARS,
    "user_id": MAX_ID_CHARS,
}
"""Characters of each text field of the record schemas (``resolver.records``); for a list field, of each item."""

MAX_REVIEWER_CHARS = 256
"""Characters of a review's ``reviewer`` (a name or an e-mail address)."""
MAX_NOTE_CHARS = 65_536
"""Characters of a review's ``note``: at most 256 KB of UTF-8, so an exported decision stays far below the 4 MB a
gRPC client receives by default."""

MAX_COMPARED_CHARS = 1_000
"""Characters of each normalized text a comparison reads (a folded title, credit, album or label): a whole title
in Latin script; a text that normalizing made longer is compared on its first this many characters."""
