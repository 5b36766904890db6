"""Hostile and malformed requests over every RPC of a real server in a child process (issue 13).

Every RPC gets requests generated from its proto type (:mod:`tests.fuzz.proto_strategies`): hostile values in
every field, and bytes that are no valid message. What must hold for each call: a status a client can act on
(never UNKNOWN or INTERNAL), an answer before the deadline (no hang), and a server still running. Ingest streams
mix good records among the hostile ones: every good record of a stream that ends OK is stored.

``CATALOG_ER_FUZZ_EXAMPLES`` sets the examples per RPC (default 25: the fast part in ``make test``); ``make fuzz``
runs 500 per RPC, randomly seeded, and writes the report the README quotes.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st

from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from tests.fuzz.fuzz_settings import FUZZ_SETTINGS
from tests.fuzz.hostile_audio import HOSTILE_AUDIO
from tests.fuzz.proto_strategies import hostile_messages, hostile_text, requests
from tests.fuzz.served import METHODS, ServedProcess

UNACCEPTABLE = {"UNKNOWN", "INTERNAL", "DEADLINE_EXCEEDED"}

def _good_track() -> st.SearchStrategy[pb.IngestTracksRequest]:
    return st.builds(lambda title: pb.IngestTracksRequest(track=pb.Track(
        track_id=f"good-{uuid.uuid4().hex}", title=title, artist="Nina Vale", duration_ms=215_000)),
        st.sampled_from(["Harbour Lights", "Northern Tides", "Glass Rivers (Live)", "Après l'orage"]))


def _deep(method: MethodDescriptor, stored_ids: list[str]) -> st.SearchStrategy[list[bytes]] | None:
    """Requests that pass the first checks of ``method`` and carry hostile values deeper: look-ups of a stored track
    or of an unsaved one with a title (its other fields and its audio hostile), uploads of hostile audio for a
    stored track. None for the other methods."""
    track = hostile_messages(pb.Track.DESCRIPTOR)
    if method.name == "FindDuplicates":
        unsaved = st.builds(lambda t, title, audio, limit: pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(
            track=_titled(t, title), audio=audio), limit=limit), track, hostile_text(),
            st.one_of(st.just(b""), st.sampled_from(HOSTILE_AUDIO)), st.integers(0, 50))
        stored = st.builds(lambda track_id, limit: pb.FindDuplicatesRequest(track_id=track_id, limit=limit),
                           st.sampled_from(stored_ids), st.integers(0, 50))
        return st.one_of(unsaved, stored).map(lambda m: [m.SerializeToString()])
    if method.name == "UploadAudio":
        return st.builds(lambda track_id, audio, split: [
            pb.UploadAudioRequest(header=pb.AudioHeader(track_id=track_id)).SerializeToString(),
            *(pb.UploadAudioRequest(chunk=audio[k: k + split]).SerializeToString()
              for k in range(0, max(len(audio), 1), split))],
            st.sampled_from(stored_ids), st.sampled_from(HOSTILE_AUDIO), st.sampled_from([1 << 12, 1 << 16, 1 << 22]))
    return None


def _titled(track: pb.Track, title: str) -> pb.Track:
    track.title = title or "Harbour Lights"
    return track


def _payloads(method: MethodDescriptor, stored_ids: list[str]) -> st.SearchStrategy[list[bytes]]:
    hostile = requests(method.input_type)
    if method.name == "IngestTracks":
        message = st.one_of(hostile, _good_track().map(lambda m: m.SerializeToString()))
        return st.lists(message, min_size=1, max_size=6)
    plain = hostile.map(lambda payload: [payload]) if not method.client_streaming else st.lists(
        hostile, min_size=1, max_size=4)
    deep = _deep(method, stored_ids)
    return plain if deep is None else st.one_of(plain, deep)


def _stored(channel: grpc.Channel, track_ids: list[str]) -> list[str]:
    """Of ``track_ids``, those the server holds (a look-up of a stored id is never NOT_FOUND)."""
    stub = pb_grpc.CatalogErServiceStub(channel)
    found = []
    for track_id in track_ids:
        try:
            stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=track_id, limit=1), timeout=30)
            found.append(track_id)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND, error
    return found


def _good_ids(payloads: list[bytes]) -> list[str]:
    ids = []
    for payload in payloads:
        try:
            track_id = pb.IngestTracksRequest.FromString(payload).track.track_id
        except DecodeError:  # a malformed payload is not a good record
            continue
        if track_id.startswith("good-"):
            ids.append(track_id)
    return ids


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # hypothesis, about 6 MB examples it may print
@pytest.mark.parametrize("method", METHODS, ids=[m.name for m in METHODS])
def test_no_hostile_request_gets_an_unusable_status_or_hurts_the_server(
        method: MethodDescriptor, served: ServedProcess) -> None:
    with served.channel() as channel:
        @FUZZ_SETTINGS
        @given(_payloads(method, served.stored_track_ids))
        def call_once(payloads: list[bytes]) -> None:
            outcome = served.call(method, payloads, channel=channel)
            assert served.alive(), f"the server died on {method.name} ({outcome})"
            assert outcome.code not in UNACCEPTABLE, outcome
            if method.name == "IngestTracks" and outcome.code == "OK":
                good = _good_ids(payloads)
                assert _stored(channel, good) == good, f"good records lost from {outcome}"

        call_once()
