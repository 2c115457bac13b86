"""Review pages, one per written question: every answer written, the model answer and rubric, for graders."""

from __future__ import annotations

import hmac

from autograder.report.context import Context
from autograder.report.outputs import env, write_atomic
from autograder.report.safe import render_markdown


def render(assignment: str, question: str, answers: list[tuple[str, str]], max_points: float,
           model: str = "", rubric: str = "", untouched: int = 0) -> str:
    return env.get_template("review.html.j2").render(
        assignment=assignment, question=question, max_points=max_points, untouched=untouched,
        model=render_markdown(model, math=True) if model else "",
        rubric=render_markdown(rubric, math=True) if rubric else "",
        answers=[(student, render_markdown(answer, math=True)) for student, answer in answers])


def pseudonym(student: str, seed: str) -> str:
    """A stable name that hides who wrote an answer (keyed by the run's secret seed)."""
    if not seed:
        raise ValueError("pseudonyms need the run's secret seed")  # a public key would make them reversible
    return "anon-" + hmac.new(seed.encode(), student.encode("utf-8", "surrogatepass"), "sha256").hexdigest()[:8]


def write(context: Context) -> list[tuple[str, Exception]]:
    from autograder.grading.grade import NO_SUBMISSION
    from autograder.notebook.fill import written_guides

    guides = written_guides(context.assignment)
    def name(student: str) -> str:
        return pseudonym(student, context.seed) if context.anonymous else student

    for question, max_points in context.template.written.items():
        shown = [r for r in context.results if question in r.written and not r.written[question].untouched]
        answers = sorted((name(r.student), r.written[question].answer) for r in shown)
        untouched = sum(1 for r in context.results
                        if question in r.written and r.written[question].untouched and r.status != NO_SUBMISSION)
        model, rubric = guides.get(question, ("", ""))
        write_atomic(context.out / "review" / f"{question}.html",
                     render(context.assignment.id, question, answers, max_points, model, rubric, untouched))
    return []
