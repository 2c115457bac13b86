"""Every assignment's typical mistakes, gathered from ``solutions/<id>/corpus.py``.

``MISTAKES`` holds ``(assignment id, question id, case name, answer cell source, expected)``;
see an assignment's ``corpus.py`` for what ``expected`` means (``UNNAMED``, ``HARD_CODED``).
"""

from __future__ import annotations

from autograder.checks import ASSIGNMENTS
from autograder.checks.cases import HARD_CODED, UNNAMED

MISTAKES: list[tuple[str, str, str, str, str | None]] = [
    (assignment.id, *case) for assignment in ASSIGNMENTS.values() for case in assignment.corpus_module().MISTAKES]

__all__ = ["HARD_CODED", "MISTAKES", "UNNAMED"]
