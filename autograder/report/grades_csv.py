"""grades.csv: one row per student; every string a spreadsheet could run is neutralised."""

from __future__ import annotations

import csv
import io

from autograder.grading.result import Result
from autograder.report.context import Context
from autograder.report.outputs import Marks, marks, write_atomic
from autograder.report.safe import csv_row


def render(results: list[Result], questions: list[str], written: list[str],
           all_marks: dict[str, Marks] | None = None) -> str:
    """Points per question, hand-graded points, lateness, the final total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # csv_row: numbers stay numbers, every string (the student id above all) cannot be a formula.
    writer.writerow(csv_row(["student", *questions, *written, "automatic", "submitted", "days late", "late penalty",
                             "total", "max", "status", "note"]))
    for r in sorted(results, key=lambda r: r.student):
        mark = (all_marks or {}).get(r.student) or marks(r)
        notes = [f"{q}: the answer changed after it was graded by hand" for q in sorted(mark.stale)]
        if r.isolation_note:
            notes.append(r.isolation_note)  # the grader's machine: the instructor's to know, not in feedback
        note = "; ".join(notes)
        points = [r.questions[q].points if q in r.questions else 0 for q in questions]
        writer.writerow(csv_row([r.student, *points, *[mark.manual.get(q, "") for q in written], r.auto_total,
                                 mark.submitted_at or "", mark.days_late, mark.penalty, mark.total,
                                 r.max_points, str(r.status), note]))
    return buffer.getvalue()


def write(context: Context) -> list[tuple[str, Exception]]:
    write_atomic(context.out / "grades.csv", render(context.results, list(context.template.points),
                                                    list(context.template.written), context.marks))
    return []
