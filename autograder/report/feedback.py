"""feedback.html, one per student: every check's score and message, plots, hand-graded scores, lateness."""

from __future__ import annotations

import base64

from autograder.grading.result import Result
from autograder.report.context import Context
from autograder.report.outputs import Marks, env, marks, visible_checks, write_atomic
from autograder.report.safe import safe_png_base64


def render(result: Result, released: bool = False, expected_plots: dict | None = None,
           mark: Marks | None = None) -> str:
    # The plot is the child's PNG: only a checked, re-encoded copy is embedded (None: a note instead).
    plots = {q: safe_png_base64(png) for q, png in result.plots.items()}
    return env.get_template("feedback.html.j2").render(
        result=result, checks=visible_checks(result, released), plots=plots, expected_plots=expected_plots or {},
        mark=mark or marks(result))


def expected_plots(assignment) -> dict:
    """The expected figure of each plotted question, as base64 PNG (drawn by the grader)."""
    module = assignment.check_module()
    if not hasattr(module, "expected_plots"):
        return {}
    return {question: base64.b64encode(png).decode() for question, png in module.expected_plots().items()}


def write(context: Context) -> list[tuple[str, Exception]]:
    from autograder.grading.intake import student_folder

    expected = expected_plots(context.assignment) if context.results else {}
    failed = []
    for result in context.results:
        try:
            write_atomic(student_folder(context.out, result.student) / "feedback.html",
                         render(result, context.released, expected, context.marks.get(result.student)))
        except (OSError, ValueError) as error:
            failed.append((result.student, error))
    return failed
