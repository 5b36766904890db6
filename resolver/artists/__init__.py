"""Duplicate artist ids: name keys, listener signatures, candidate pairs and their signals, the
artist comparisons, the artist resolution, and the artist clusters fed back into track scoring."""
