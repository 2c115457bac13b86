"""Review pages, one per written question: every answer written, the model answer and rubric, for graders."""

from __future__ import annotations

import hmac

from autograder.report.context import Context
from autograder.report.formulas import Formulas
from autograder.report.outputs import env, write_atomic
from autograder.report.safe import math_sources, render_markdown, with_math


def render(assignment: str, question: str, answers: list[tuple[str, str]], max_points: float,
           model: str = "", rubric: str = "", untouched: int = 0, formulas: Formulas | None = None) -> str:
    """The review page. ``formulas`` draws (and caches) the LaTeX of every answer in one child
    process (``formulas.py``); a temporary one if not given."""
    model_html = render_markdown(model) if model else ""
    rubric_html = render_markdown(rubric) if rubric else ""
    answer_html = [(student, render_markdown(answer)) for student, answer in answers]
    pages = [model_html, rubric_html, *(html for _, html in answer_html)]
    drawer = formulas or Formulas()
    try:
        drawn = drawer.draw([tex for html in pages for tex in math_sources(html)])
    finally:
        if formulas is None:
            drawer.close()
    return env.get_template("review.html.j2").render(
        assignment=assignment, question=question, max_points=max_points, untouched=untouched,
        model=with_math(model_html, drawn) if model else "", rubric=with_math(rubric_html, drawn) if rubric else "",
        answers=[(student, with_math(html, drawn)) for student, html in answer_html])


def pseudonym(student: str, seed: str) -> str:
    """A stable name that hides who wrote an answer: an HMAC of the id keyed by the course's secret
    seed (given explicitly: ``Context.seed``), so nobody without the seed can map it back."""
    if not seed:
        raise ValueError("pseudonyms need the course's secret seed, and none was given")
    return "anon-" + hmac.new(seed.encode(), student.encode("utf-8", "surrogatepass"), "sha256").hexdigest()[:8]


def write(context: Context) -> list[tuple[str, Exception]]:
    from autograder.grading.grade import NO_SUBMISSION
    from autograder.notebook.fill import written_guides

    guides = written_guides(context.assignment)

    def name(student: str) -> str:
        return pseudonym(student, context.seed) if context.anonymous else student

    # The formulas of every page drawn in a child with limits and cached beside the pages (formulas.py).
    formulas = Formulas(context.out / "formula-cache")
    for question, max_points in context.template.written.items():
        shown = [r for r in context.results if question in r.written and not r.written[question].untouched]
        # Ordered by the name shown (the pseudonym when anonymous): never by the real id behind it.
        answers = sorted((name(r.student), r.written[question].answer) for r in shown)
        untouched = sum(1 for r in context.results
                        if question in r.written and r.written[question].untouched and r.status != NO_SUBMISSION)
        model, rubric = guides.get(question, ("", ""))
        write_atomic(context.out / "review" / f"{question}.html",
                     render(context.assignment.id, question, answers, max_points, model, rubric, untouched,
                            formulas))
    context.cache["formulas drawn"] = formulas.drawn
    return []
