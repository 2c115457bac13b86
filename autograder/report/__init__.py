"""The outputs of a grading run. Each format is one module with ``write(context)``; this list is
the one place that names them (``autograder.report.context`` describes the interface)."""

from __future__ import annotations

from pathlib import Path

from autograder.grading.result import Result
from autograder.report import feedback, grades_csv, gradescope, hidden, review, similarity, summary

# Per-student files first (feedback/<student>/), then the class-wide ones; review last, as its
# formulas are drawn by a child started before any writer writes (see write_all).
WRITERS = [feedback, gradescope, grades_csv, hidden, summary, similarity, review]


def write_all(context) -> list[tuple[str, Exception]]:
    """Run every writer; return what could not be written, by student (or by file for class-wide files)."""
    failed = []
    # A writer whose slow part runs in another process (review: the formulas' child) starts it first:
    # it runs on another CPU while the writers before it write (issue 21).
    for writer in WRITERS:
        if hasattr(writer, "start"):
            try:
                writer.start(context)
            except Exception:  # noqa: BLE001 - no writer is kept from writing by another's early start:
                pass  # its write() starts it again, and what fails there is reported as before
    for writer in WRITERS:
        try:
            failed += writer.write(context)
        except (OSError, ValueError) as error:
            failed.append((writer.__name__.rsplit(".", 1)[-1], error))
    return failed


def write_outputs(assignment, template, gradebook, out: Path, course=None, released: bool = False,
                  anonymous: bool | None = None, *, seed: str) -> tuple[list[Result], list[tuple[str, Exception]]]:
    """Every output of an assignment, from the whole gradebook (plus a row per roster student who
    submitted nothing); returns ``(results, [(student or file, error), ...] that could not be written)``.
    ``seed`` keys the pseudonyms of anonymous pages (never shown itself). ``anonymous``: True/False is
    remembered by the gradebook for later runs; None: as last chosen.
    """
    from autograder.grading.grade import NO_SUBMISSION, empty_result
    from autograder.report.context import Context
    from autograder.report.outputs import marks

    results = gradebook.results(assignment.id)
    graded = {r.student for r in results}
    for student in course.roster if course else []:
        if student.id not in graded:
            results.append(empty_result(assignment, template, student.id, Path("-"), NO_SUBMISSION,
                                        "nothing was submitted"))
    results.sort(key=lambda r: r.student)
    entries = gradebook.manual_entries(assignment.id)
    context = Context(assignment, template, results,
                      {r.student: marks(r, entries.get(r.student), course) for r in results},
                      out, course, released, gradebook.anonymous(assignment.id, anonymous), seed=seed)
    return results, write_all(context)
