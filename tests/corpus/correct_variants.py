"""Every assignment's correct answers written differently, gathered from ``solutions/<id>/corpus.py``.

``CORRECT`` holds ``(assignment id, question id, case name, answer cell source)``: each must
get full marks, and the story cells must run with it.
"""

from __future__ import annotations

from autograder.checks import ASSIGNMENTS

CORRECT: list[tuple[str, str, str, str]] = [
    (assignment.id, *case) for assignment in ASSIGNMENTS.values() for case in assignment.corpus_module().CORRECT]
