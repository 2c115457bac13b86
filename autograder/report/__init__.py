"""The outputs of a grading run. Each format is one module with ``write(context)``; this list is
the one place that names them (``autograder.report.context`` describes the interface)."""

from __future__ import annotations

from autograder.report import feedback, grades_csv, gradescope, hidden, review, summary

# Per-student files first (feedback/<student>/), then the class-wide ones.
WRITERS = [feedback, gradescope, grades_csv, hidden, summary, review]


def write_all(context) -> list[tuple[str, Exception]]:
    """Run every writer; return what could not be written, by student (or by file for class-wide files)."""
    failed = []
    for writer in WRITERS:
        try:
            failed += writer.write(context)
        except (OSError, ValueError) as error:
            failed.append((writer.__name__.rsplit(".", 1)[-1], error))
    return failed
