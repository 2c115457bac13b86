"""Every notebook of the corpus, by student id: the control, each mistake, each correct variant."""

from __future__ import annotations

import re

from corpus.correct_variants import CORRECT
from corpus.mistakes import MISTAKES

CONTROL = "reference"


def student_of(kind: str, question: str, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{kind}__{question}__{name}").strip("_")


def notebooks_of(assignment_id: str) -> dict[str, tuple[str | None, str | None, dict[str, str]]]:
    """student id -> (question, label, answers replaced) of every corpus notebook of ``assignment_id``.

    ``label`` is the mistake's ``expected`` (see ``mistakes.py``), or ``"correct"``; the
    control has no question and no replaced answer.
    """
    notebooks = {CONTROL: (None, None, {})}
    for kind, cases in (("mistakes", MISTAKES), ("correct", CORRECT)):
        for case in cases:
            if case[0] == assignment_id:
                label = case[4] if kind == "mistakes" else "correct"
                notebooks[student_of(kind, case[1], case[2])] = (case[1], label, {case[1]: case[3]})
    return notebooks
