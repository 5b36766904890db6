from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EntityType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_TYPE_UNSPECIFIED: _ClassVar[EntityType]
    ENTITY_TYPE_TRACK: _ClassVar[EntityType]
    ENTITY_TYPE_ARTIST: _ClassVar[EntityType]

class ProposalStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROPOSAL_STATUS_UNSPECIFIED: _ClassVar[ProposalStatus]
    PROPOSAL_STATUS_OPEN: _ClassVar[ProposalStatus]
    PROPOSAL_STATUS_ACCEPTED: _ClassVar[ProposalStatus]
    PROPOSAL_STATUS_REJECTED: _ClassVar[ProposalStatus]
    PROPOSAL_STATUS_SUPERSEDED: _ClassVar[ProposalStatus]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_ACCEPT: _ClassVar[Decision]
    DECISION_REJECT: _ClassVar[Decision]

class AudioFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIO_FORMAT_UNSPECIFIED: _ClassVar[AudioFormat]
    AUDIO_FORMAT_WAV: _ClassVar[AudioFormat]
    AUDIO_FORMAT_FLAC: _ClassVar[AudioFormat]
    AUDIO_FORMAT_OGG_VORBIS: _ClassVar[AudioFormat]
    AUDIO_FORMAT_OPUS: _ClassVar[AudioFormat]
    AUDIO_FORMAT_MP3: _ClassVar[AudioFormat]
ENTITY_TYPE_UNSPECIFIED: EntityType
ENTITY_TYPE_TRACK: EntityType
ENTITY_TYPE_ARTIST: EntityType
PROPOSAL_STATUS_UNSPECIFIED: ProposalStatus
PROPOSAL_STATUS_OPEN: ProposalStatus
PROPOSAL_STATUS_ACCEPTED: ProposalStatus
PROPOSAL_STATUS_REJECTED: ProposalStatus
PROPOSAL_STATUS_SUPERSEDED: ProposalStatus
DECISION_UNSPECIFIED: Decision
DECISION_ACCEPT: Decision
DECISION_REJECT: Decision
AUDIO_FORMAT_UNSPECIFIED: AudioFormat
AUDIO_FORMAT_WAV: AudioFormat
AUDIO_FORMAT_FLAC: AudioFormat
AUDIO_FORMAT_OGG_VORBIS: AudioFormat
AUDIO_FORMAT_OPUS: AudioFormat
AUDIO_FORMAT_MP3: AudioFormat

class Track(_message.Message):
    __slots__ = ("track_id", "title", "artist", "artist_ids", "album", "duration_ms", "isrc", "release_date", "label", "source")
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ARTIST_FIELD_NUMBER: _ClassVar[int]
    ARTIST_IDS_FIELD_NUMBER: _ClassVar[int]
    ALBUM_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    ISRC_FIELD_NUMBER: _ClassVar[int]
    RELEASE_DATE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    track_id: str
    title: str
    artist: str
    artist_ids: _containers.RepeatedScalarFieldContainer[str]
    album: str
    duration_ms: int
    isrc: str
    release_date: str
    label: str
    source: str
    def __init__(self, track_id: _Optional[str] = ..., title: _Optional[str] = ..., artist: _Optional[str] = ..., artist_ids: _Optional[_Iterable[str]] = ..., album: _Optional[str] = ..., duration_ms: _Optional[int] = ..., isrc: _Optional[str] = ..., release_date: _Optional[str] = ..., label: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class Artist(_message.Message):
    __slots__ = ("artist_id", "name", "genres", "country")
    ARTIST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GENRES_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    artist_id: str
    name: str
    genres: _containers.RepeatedScalarFieldContainer[str]
    country: str
    def __init__(self, artist_id: _Optional[str] = ..., name: _Optional[str] = ..., genres: _Optional[_Iterable[str]] = ..., country: _Optional[str] = ...) -> None: ...

class EngagementEvent(_message.Message):
    __slots__ = ("user_id", "track_id", "plays")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    track_id: str
    plays: int
    def __init__(self, user_id: _Optional[str] = ..., track_id: _Optional[str] = ..., plays: _Optional[int] = ...) -> None: ...

class Rejection(_message.Message):
    __slots__ = ("index", "id", "field", "reason")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    index: int
    id: str
    field: str
    reason: str
    def __init__(self, index: _Optional[int] = ..., id: _Optional[str] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class IngestSummary(_message.Message):
    __slots__ = ("accepted", "rejected", "rejections", "unlisted_rejections")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    UNLISTED_REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[Rejection]
    unlisted_rejections: int
    def __init__(self, accepted: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[Rejection, _Mapping]]] = ..., unlisted_rejections: _Optional[int] = ...) -> None: ...

class IngestTracksRequest(_message.Message):
    __slots__ = ("track",)
    TRACK_FIELD_NUMBER: _ClassVar[int]
    track: Track
    def __init__(self, track: _Optional[_Union[Track, _Mapping]] = ...) -> None: ...

class IngestTracksResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: IngestSummary
    def __init__(self, summary: _Optional[_Union[IngestSummary, _Mapping]] = ...) -> None: ...

class IngestArtistsRequest(_message.Message):
    __slots__ = ("artist",)
    ARTIST_FIELD_NUMBER: _ClassVar[int]
    artist: Artist
    def __init__(self, artist: _Optional[_Union[Artist, _Mapping]] = ...) -> None: ...

class IngestArtistsResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: IngestSummary
    def __init__(self, summary: _Optional[_Union[IngestSummary, _Mapping]] = ...) -> None: ...

class IngestEngagementRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: EngagementEvent
    def __init__(self, event: _Optional[_Union[EngagementEvent, _Mapping]] = ...) -> None: ...

class IngestEngagementResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: IngestSummary
    def __init__(self, summary: _Optional[_Union[IngestSummary, _Mapping]] = ...) -> None: ...

class AudioHeader(_message.Message):
    __slots__ = ("track_id", "format")
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    track_id: str
    format: AudioFormat
    def __init__(self, track_id: _Optional[str] = ..., format: _Optional[_Union[AudioFormat, str]] = ...) -> None: ...

class UploadAudioRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: AudioHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[AudioHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadAudioResponse(_message.Message):
    __slots__ = ("track_id", "seconds", "hashes", "bytes_received")
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    track_id: str
    seconds: float
    hashes: int
    bytes_received: int
    def __init__(self, track_id: _Optional[str] = ..., seconds: _Optional[float] = ..., hashes: _Optional[int] = ..., bytes_received: _Optional[int] = ...) -> None: ...

class UnsavedTrack(_message.Message):
    __slots__ = ("track", "audio")
    TRACK_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    track: Track
    audio: bytes
    def __init__(self, track: _Optional[_Union[Track, _Mapping]] = ..., audio: _Optional[bytes] = ...) -> None: ...

class FindDuplicatesRequest(_message.Message):
    __slots__ = ("track_id", "unsaved", "limit", "min_confidence")
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    UNSAVED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    track_id: str
    unsaved: UnsavedTrack
    limit: int
    min_confidence: float
    def __init__(self, track_id: _Optional[str] = ..., unsaved: _Optional[_Union[UnsavedTrack, _Mapping]] = ..., limit: _Optional[int] = ..., min_confidence: _Optional[float] = ...) -> None: ...

class DuplicateCandidate(_message.Message):
    __slots__ = ("id", "confidence", "match_weight", "evidence")
    class EvidenceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MATCH_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    confidence: float
    match_weight: float
    evidence: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., confidence: _Optional[float] = ..., match_weight: _Optional[float] = ..., evidence: _Optional[_Mapping[str, str]] = ...) -> None: ...

class FindDuplicatesResponse(_message.Message):
    __slots__ = ("candidates", "pairs_scored")
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    PAIRS_SCORED_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[DuplicateCandidate]
    pairs_scored: int
    def __init__(self, candidates: _Optional[_Iterable[_Union[DuplicateCandidate, _Mapping]]] = ..., pairs_scored: _Optional[int] = ...) -> None: ...

class FindArtistDuplicatesRequest(_message.Message):
    __slots__ = ("artist_id", "limit", "min_confidence")
    ARTIST_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    artist_id: str
    limit: int
    min_confidence: float
    def __init__(self, artist_id: _Optional[str] = ..., limit: _Optional[int] = ..., min_confidence: _Optional[float] = ...) -> None: ...

class FindArtistDuplicatesResponse(_message.Message):
    __slots__ = ("candidates",)
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[DuplicateCandidate]
    def __init__(self, candidates: _Optional[_Iterable[_Union[DuplicateCandidate, _Mapping]]] = ...) -> None: ...

class ResolveRequest(_message.Message):
    __slots__ = ("full",)
    FULL_FIELD_NUMBER: _ClassVar[int]
    full: bool
    def __init__(self, full: _Optional[bool] = ...) -> None: ...

class ResolveResponse(_message.Message):
    __slots__ = ("incremental", "tracks_touched", "open_proposals", "proposals_changed", "seconds")
    INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    TRACKS_TOUCHED_FIELD_NUMBER: _ClassVar[int]
    OPEN_PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    PROPOSALS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    incremental: bool
    tracks_touched: int
    open_proposals: int
    proposals_changed: int
    seconds: float
    def __init__(self, incremental: _Optional[bool] = ..., tracks_touched: _Optional[int] = ..., open_proposals: _Optional[int] = ..., proposals_changed: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class MergeProposal(_message.Message):
    __slots__ = ("proposal_id", "entity_type", "canonical_id", "member_ids", "confidence", "evidence_json", "status")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    CANONICAL_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_JSON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    entity_type: EntityType
    canonical_id: str
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    confidence: float
    evidence_json: str
    status: ProposalStatus
    def __init__(self, proposal_id: _Optional[str] = ..., entity_type: _Optional[_Union[EntityType, str]] = ..., canonical_id: _Optional[str] = ..., member_ids: _Optional[_Iterable[str]] = ..., confidence: _Optional[float] = ..., evidence_json: _Optional[str] = ..., status: _Optional[_Union[ProposalStatus, str]] = ...) -> None: ...

class ListMergeProposalsRequest(_message.Message):
    __slots__ = ("entity_type", "min_confidence", "status", "page_token", "page_size")
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    entity_type: EntityType
    min_confidence: float
    status: ProposalStatus
    page_token: str
    page_size: int
    def __init__(self, entity_type: _Optional[_Union[EntityType, str]] = ..., min_confidence: _Optional[float] = ..., status: _Optional[_Union[ProposalStatus, str]] = ..., page_token: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListMergeProposalsResponse(_message.Message):
    __slots__ = ("proposal", "next_page_token")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    proposal: MergeProposal
    next_page_token: str
    def __init__(self, proposal: _Optional[_Union[MergeProposal, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetMergeProposalRequest(_message.Message):
    __slots__ = ("proposal_id",)
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    def __init__(self, proposal_id: _Optional[str] = ...) -> None: ...

class GetMergeProposalResponse(_message.Message):
    __slots__ = ("proposal",)
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    proposal: MergeProposal
    def __init__(self, proposal: _Optional[_Union[MergeProposal, _Mapping]] = ...) -> None: ...

class ReviewMergeProposalRequest(_message.Message):
    __slots__ = ("proposal_id", "decision", "member_id", "reviewer", "note")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    proposal_id: str
    decision: Decision
    member_id: str
    reviewer: str
    note: str
    def __init__(self, proposal_id: _Optional[str] = ..., decision: _Optional[_Union[Decision, str]] = ..., member_id: _Optional[str] = ..., reviewer: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ReviewMergeProposalResponse(_message.Message):
    __slots__ = ("proposal", "pairs_labeled")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    PAIRS_LABELED_FIELD_NUMBER: _ClassVar[int]
    proposal: MergeProposal
    pairs_labeled: int
    def __init__(self, proposal: _Optional[_Union[MergeProposal, _Mapping]] = ..., pairs_labeled: _Optional[int] = ...) -> None: ...

class ExportDecisionsRequest(_message.Message):
    __slots__ = ("entity_type",)
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    entity_type: EntityType
    def __init__(self, entity_type: _Optional[_Union[EntityType, str]] = ...) -> None: ...

class ExportDecisionsResponse(_message.Message):
    __slots__ = ("entity_type", "left_id", "right_id", "is_duplicate", "reviewer", "note", "proposal_id", "decided_at")
    ENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    LEFT_ID_FIELD_NUMBER: _ClassVar[int]
    RIGHT_ID_FIELD_NUMBER: _ClassVar[int]
    IS_DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    entity_type: EntityType
    left_id: str
    right_id: str
    is_duplicate: bool
    reviewer: str
    note: str
    proposal_id: str
    decided_at: str
    def __init__(self, entity_type: _Optional[_Union[EntityType, str]] = ..., left_id: _Optional[str] = ..., right_id: _Optional[str] = ..., is_duplicate: _Optional[bool] = ..., reviewer: _Optional[str] = ..., note: _Optional[str] = ..., proposal_id: _Optional[str] = ..., decided_at: _Optional[str] = ...) -> None: ...
