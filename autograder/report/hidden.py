"""hidden-checks.json (with ``--release``): the hidden checks' full messages, for the instructor only.

Students never see them: a hidden check's message quotes values computed from the hidden inputs
("item 0 is -1.918"), so every student-facing file shows only its name, points and named mistake
(``outputs.student_checks``). This file is class-wide and sits beside ``feedback/`` (never in it),
owner-only like every grades file; the same messages are in the gradebook.
"""

from __future__ import annotations

from autograder.report.context import Context
from autograder.report.outputs import dumps, write_atomic

FILE = "hidden-checks.json"


def write(context: Context) -> list[tuple[str, Exception]]:
    if not context.released:
        return []
    details = {result.student: [{"check": c.name, "question": c.question, "points": c.points,
                                 "max_points": c.max_points, "status": str(c.status), "message": c.message,
                                 "mistake": c.mistake} for c in result.checks if c.hidden]
               for result in context.results}
    write_atomic(context.out / FILE, dumps(details))
    return []
