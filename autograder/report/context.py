"""What every output writer receives, and the interface each one implements.

An output format is one module of ``autograder.report`` with a ``write(context)`` function
(see :class:`Writer`); ``autograder.report.WRITERS`` lists them, and nothing else names a
format. A writer returns the students whose files it could not write, so one student's
failure never stops the others or the class-wide files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from autograder.grading.result import Result
from autograder.report.outputs import Marks


@dataclass
class Context:
    assignment: object  # autograder.checks.Assignment
    template: object  # autograder.notebook.submission.Template
    results: list[Result]  # one per student, from the gradebook (plus roster students without a file)
    marks: dict[str, Marks]  # per student: hand-graded points, lateness, total (outputs.marks)
    out: Path
    course: object = None  # autograder.course.Course or None
    released: bool = False  # kept for callers; hidden checks' messages are never handed back (outputs.student_checks)
    anonymous: bool = False  # review pages show pseudonyms
    seed: str | None = None  # the run's secret seed: keys the pseudonyms (review.pseudonym), never shown
    cache: dict = field(default_factory=dict)  # shared work between writers (e.g. the summary)


class Writer(Protocol):
    """One output format: writes its files for ``context``; returns ``[(student, error), ...]``.

    A writer may also have ``start(context)``: called before any writer writes, to start work that
    runs in another process (the review pages' formulas), kept in ``context.cache`` for its
    ``write``, which must also work when ``start`` was not called or failed."""

    def write(self, context: Context) -> list[tuple[str, Exception]]: ...
