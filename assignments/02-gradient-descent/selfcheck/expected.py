"""Expected values for the public checks, read from JSON that the kit's build computes.

The public checks ship to students, so their expected values cannot come from reference
code: ``dlbasics build`` computes them with the reference and writes
``public/<module>.json``; a test fails when the JSON is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

PUBLIC_DIR = Path(__file__).parent / "public"


def expected_values(module_name: str) -> dict:
    path = PUBLIC_DIR / f"{module_name.rsplit('.', 1)[-1]}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        # Only before the first build; every check that needs a value then fails closed.
        return {}
