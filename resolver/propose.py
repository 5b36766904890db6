"""Groups → merge proposals with a confidence and the evidence behind them.

Group confidence is the mean probability over all member pairs: the expected share of the group's pairs
that are true duplicates (1.0 only when every pair is certain). Each member also gets its own confidence,
the mean probability of its pairs with the other members.

Canonical rule (the suggested survivor), first difference wins:
1. has a valid ISRC; 2. most filled metadata fields; 3. earliest release date; 4. smallest id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.records import PROPOSAL_SCHEMA

CANONICAL_RULE = "valid ISRC, then most filled fields, then earliest release date, then smallest id"
_METADATA_COLUMNS = ("artist", "album", "duration_ms", "isrc", "release_date", "label")


@dataclass(frozen=True)
class PairEvidence:
    """Per-pair explanation of member pairs, aligned with the member pair arrays.

    ``levels``: ``(n_pairs, n_comparisons)`` int8; ``weights``: per comparison, log₂ weight per level.
    """

    comparison_names: tuple[str, ...]
    level_labels: tuple[tuple[str, ...], ...]
    weights: tuple[np.ndarray, ...]
    levels: np.ndarray


def proposal_id(entity_type: str, member_ids: list[str]) -> str:
    """Stable id from the sorted members: the same group gets the same id on every run."""
    digest = hashlib.sha1("\x1f".join(sorted(member_ids)).encode()).hexdigest()[:16]
    return f"{entity_type}-{digest}"


def canonical_order(tracks: pa.Table, has_valid_isrc: np.ndarray) -> np.ndarray:
    """``(n,)`` int64 rank of every track under :data:`CANONICAL_RULE` (0 = best)."""
    filled = np.zeros(tracks.num_rows, dtype=np.int64)
    for column in _METADATA_COLUMNS:
        filled += tracks[column].is_valid().to_numpy(zero_copy_only=False).astype(np.int64)
    release = pc.fill_null(tracks["release_date"], "9999")
    return sorted_rank([~has_valid_isrc, -filled, release, tracks["track_id"]])


def sorted_rank(keys: Sequence[np.ndarray | pa.Array | pa.ChunkedArray]) -> np.ndarray:
    """``(n,)`` int64 rank of each row (0 = first) when the rows are sorted by ``keys`` (each ``(n,)``: numbers,
    booleans or text), the first key first, all ascending; rows that tie keep their order.

    Text is compared as Arrow compares it (UTF-8 bytes, which is code point order), never as numpy fixed-width
    strings: those would take ``n ×`` the longest value × 4 bytes (one 1M-character value among 5,000 rows: 20 GB).
    """
    table = pa.table({f"key{k}": key for k, key in enumerate(keys)})
    order = pc.sort_indices(table, sort_keys=[(name, "ascending") for name in table.column_names])
    rank = np.empty(table.num_rows, dtype=np.int64)
    rank[order.to_numpy()] = np.arange(table.num_rows)
    return rank


def _level_texts(evidence: PairEvidence) -> list[list[str]]:
    """Per comparison, the evidence text of each level, then of null (index -1): ``"same (+16.0)"``."""
    return [[f"{label} ({float(weight):+.1f})" for label, weight in zip(labels, weights, strict=True)]
            + ["null (0.0)"] for labels, weights in zip(evidence.level_labels, evidence.weights, strict=True)]


def _pair_explanation(evidence: PairEvidence, texts: list[list[str]], row: int) -> dict[str, str]:
    return {name: texts[column][level] for column, (name, level)
            in enumerate(zip(evidence.comparison_names, evidence.levels[row].tolist(), strict=True))}


def build_proposals(entity_type: str, ids: np.ndarray, labels: np.ndarray, canonical_rank: np.ndarray,
                    member_left: np.ndarray, member_right: np.ndarray, member_probability: np.ndarray,
                    evidence: PairEvidence, *, max_pairs_in_evidence: int = 10,
                    canonical_rule: str = CANONICAL_RULE, row_notes: dict[int, list[str]] | None = None
                    ) -> pa.Table:
    """One proposal row per group of two or more (``PROPOSAL_SCHEMA``), sorted by confidence, descending.

    ``member_*`` arrays hold every pair inside a group (see :class:`resolver.graph.Clustering`), aligned
    with ``evidence.levels``; ``canonical_rank`` ``(n,)`` ranks rows by ``canonical_rule`` (0 = best);
    ``row_notes``: what was done to some rows before they were compared (e.g. the repairs of a track), shown in
    the evidence under ``repairs`` for the members that have any.
    """
    row_notes = row_notes or {}
    texts = _level_texts(evidence)
    # a member belongs to one group: its mean probability with the others, over all groups at once
    n = len(ids)
    touching = np.bincount(member_left, minlength=n) + np.bincount(member_right, minlength=n)
    summed = (np.bincount(member_left, weights=member_probability, minlength=n)
              + np.bincount(member_right, weights=member_probability, minlength=n))
    member_mean = summed / np.maximum(touching, 1)
    pair_group = labels[member_left]
    order = np.argsort(pair_group, kind="stable")
    pair_group = pair_group[order]
    boundaries = np.flatnonzero(np.diff(pair_group)) + 1
    starts = np.concatenate(([0], boundaries)) if len(order) else np.empty(0, np.int64)
    ends = np.concatenate((boundaries, [len(order)])) if len(order) else np.empty(0, np.int64)
    rows: dict[str, list] = {name: [] for name in PROPOSAL_SCHEMA.names}
    for start, end in zip(starts, ends, strict=True):
        pairs = order[start:end]
        left, right, probability = member_left[pairs], member_right[pairs], member_probability[pairs]
        members = np.unique(np.concatenate((left, right)))
        canonical = int(members[np.argmin(canonical_rank[members])])
        member_ids = [str(ids[m]) for m in members]
        strongest = pairs[np.argsort(-probability, kind="stable")[:max_pairs_in_evidence]]
        evidence_json = {
            "canonical_rule": canonical_rule,
            "group_confidence": "mean probability over all member pairs",
            "member_confidence": {member_id: round(float(member_mean[m]), 4)
                                  for m, member_id in zip(members.tolist(), member_ids, strict=True)},
            "pairs": [
                {
                    "left_id": str(ids[member_left[p]]),
                    "right_id": str(ids[member_right[p]]),
                    "confidence": round(float(member_probability[p]), 4),
                    "signals": _pair_explanation(evidence, texts, int(p)),
                }
                for p in strongest
            ],
            "pairs_total": len(pairs),
        }
        notes = {str(ids[m]): row_notes[int(m)] for m in members if int(m) in row_notes}
        if notes:
            evidence_json["repairs"] = notes
        rows["proposal_id"].append(proposal_id(entity_type, member_ids))
        rows["entity_type"].append(entity_type)
        rows["canonical_id"].append(str(ids[canonical]))
        rows["member_ids"].append(member_ids)
        rows["confidence"].append(float(np.mean(probability)))
        rows["evidence"].append(json.dumps(evidence_json, ensure_ascii=False, separators=(",", ":")))
    table = pa.Table.from_pydict(rows, schema=PROPOSAL_SCHEMA)
    return table.sort_by([("confidence", "descending"), ("proposal_id", "ascending")])
