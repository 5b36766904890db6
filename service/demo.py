"""``python -m catalog_er.service.demo --catalog DIR --db PATH``: the service end to end, as ``make demo`` shows it.

Starts ``catalog-er serve`` on the database, streams the synthetic catalog in over gRPC, resolves, asks
FindDuplicates for a few deliveries, lists the top proposals with their evidence, records one review and
stops the server with SIGTERM. Every call is the public API (``service/api`` stubs), as a user's client
would make it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pyarrow.parquet as pq

from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc


def _start(db: Path) -> tuple[subprocess.Popen, int]:
    catalog_er = shutil.which("catalog-er") or str(Path(sys.executable).parent / "catalog-er")
    server = subprocess.Popen([catalog_er, "serve", "--db", str(db), "--port", "0"], stderr=subprocess.PIPE,
                              text=True)
    stderr = server.stderr
    assert stderr is not None  # Popen(stderr=PIPE)
    for line in stderr:
        if '"serving"' in line:
            threading.Thread(target=stderr.read, daemon=True).start()
            return server, int(json.loads(line)["address"].rsplit(":", 1)[1])
    raise SystemExit(f"catalog-er serve did not start (exit code {server.wait()})")


def _tracks(rows: list[dict]) -> Iterator[pb.IngestTracksRequest]:
    for r in rows:
        yield pb.IngestTracksRequest(track=pb.Track(
            track_id=r["track_id"], title=r["title"], artist=r["artist"] or "", artist_ids=r["artist_ids"] or [],
            album=r["album"] or "", duration_ms=r["duration_ms"] or 0, isrc=r["isrc"] or "",
            release_date=r["release_date"] or "", label=r["label"] or ""))


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the server's exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True, help="directory written by catalog-er synth")
    parser.add_argument("--db", type=Path, required=True, help="SQLite file for the service (replaced)")
    args = parser.parse_args(argv)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    tracks = pq.read_table(args.catalog / "tracks.parquet").to_pylist()
    artists = pq.read_table(args.catalog / "artists.parquet").to_pylist()
    engagement = pq.read_table(args.catalog / "engagement.parquet").to_pylist()
    server, port = _start(args.db)
    print(f"catalog-er serve is listening on 127.0.0.1:{port} (database {args.db})")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            summary = stub.IngestTracks(_tracks(tracks)).summary
            print(f"IngestTracks: {summary.accepted:,} accepted, {summary.rejected:,} rejected")
            summary = stub.IngestArtists(pb.IngestArtistsRequest(artist=pb.Artist(
                artist_id=a["artist_id"], name=a["name"], genres=a["genres"] or [], country=a["country"] or ""))
                for a in artists).summary
            print(f"IngestArtists: {summary.accepted:,} accepted")
            summary = stub.IngestEngagement(pb.IngestEngagementRequest(event=pb.EngagementEvent(**e))
                                            for e in engagement).summary
            print(f"IngestEngagement: {summary.accepted:,} accepted")
            resolved = stub.Resolve(pb.ResolveRequest(full=True), timeout=600)
            print(f"Resolve: {resolved.open_proposals:,} open proposals in {resolved.seconds:.1f} s")
            top = [m.proposal for m in stub.ListMergeProposals(pb.ListMergeProposalsRequest(
                entity_type=pb.ENTITY_TYPE_TRACK, status=pb.PROPOSAL_STATUS_OPEN, page_size=3))]
            for proposal in top:
                pair = json.loads(proposal.evidence_json)["pairs"][0]
                print(f"\nproposal {proposal.proposal_id}  confidence {proposal.confidence:.3f}  keep "
                      f"{proposal.canonical_id}  members {', '.join(proposal.member_ids)}")
                for signal, level in pair["signals"].items():
                    print(f"    {signal:14s} {level}")
            artist = next(iter(stub.ListMergeProposals(pb.ListMergeProposalsRequest(
                entity_type=pb.ENTITY_TYPE_ARTIST, page_size=1))), None)
            if artist is not None:
                names = {a["artist_id"]: a["name"] for a in artists}
                print(f"\nartist proposal {artist.proposal.proposal_id}  confidence {artist.proposal.confidence:.3f}: "
                      + " = ".join(repr(names.get(m, m)) for m in artist.proposal.member_ids))
            by_id = {t["track_id"]: t for t in tracks}
            for proposal in top[:2]:
                query = by_id[proposal.member_ids[-1]]
                found = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=query["track_id"], limit=3))
                print(f"\nFindDuplicates {query['track_id']} ({query['title']!r} by {query['artist']!r}):")
                for candidate in found.candidates:
                    other = by_id[candidate.id]
                    print(f"    {candidate.id}  {candidate.confidence:.3f}  {other['title']!r} by {other['artist']!r}")
            unsaved = pb.UnsavedTrack(track=pb.Track(title=by_id[top[0].canonical_id]["title"],
                                                     artist=by_id[top[0].canonical_id]["artist"] or ""))
            found = stub.FindDuplicates(pb.FindDuplicatesRequest(unsaved=unsaved, limit=3))
            print(f"\nFindDuplicates for an unsaved delivery of {unsaved.track.title!r}: "
                  + ", ".join(f"{c.id} ({c.confidence:.3f})" for c in found.candidates))
            review = stub.ReviewMergeProposal(pb.ReviewMergeProposalRequest(
                proposal_id=top[0].proposal_id, decision=pb.DECISION_ACCEPT, reviewer="demo curator",
                note="same recording, checked by ear"))
            print(f"\nReviewMergeProposal: {top[0].proposal_id} is now "
                  f"{pb.ProposalStatus.Name(review.proposal.status)} ({review.pairs_labeled} labeled pairs)")
    finally:
        server.terminate()
        code = server.wait(timeout=120)
    print(f"catalog-er serve stopped cleanly on SIGTERM (exit code {code})")
    return code


if __name__ == "__main__":
    sys.exit(main())
