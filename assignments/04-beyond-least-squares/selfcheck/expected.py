"""Expected values for the public checks, read from JSON that the kit's build computes.

The public checks ship to students, so their expected values cannot come from reference
code: ``dlbasics build`` computes them with the reference and writes
``public/<module>.json`` next to the students' copy of the module; in the kit the grader
reads that copy (``assignments/<id>/selfcheck/public/``). A test fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PUBLIC_DIR = Path(__file__).parent / "public"


def expected_values(module_name: str) -> dict:
    """The JSON next to the public checks' module (in the kit, the build's copy in assignments/)."""
    module = sys.modules.get(module_name)
    path = getattr(module, "__expected__", None) or PUBLIC_DIR / f"{module_name.rsplit('.', 1)[-1]}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        # Only before the first build; every check that needs a value then fails closed.
        return {}
