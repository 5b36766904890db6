"""How many examples the fuzz tests draw, and whether at random (``make fuzz``) or the same each run (``make test``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("CATALOG_ER_FUZZ_EXAMPLES", "25"))
"""Examples per fuzz test: 25 in ``make test`` (the fast part), 500 in ``make fuzz``."""
RANDOM = os.environ.get("CATALOG_ER_FUZZ_RANDOM") == "1"
"""``make fuzz`` draws new examples each run; the fast part is derandomized, so CI makes the same calls every time."""

FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
                         suppress_health_check=list(HealthCheck))
