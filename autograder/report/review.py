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


def _pages(context: Context) -> list[tuple]:
    """Each written question's page: (question, max points, [(name shown, answer)], model, rubric,
    untouched)."""
    from autograder.grading.grade import NO_SUBMISSION
    from autograder.notebook.fill import written_guides

    guides = written_guides(context.assignment)

    def name(student: str) -> str:
        return pseudonym(student, context.seed) if context.anonymous else student

    pages = []
    for question, max_points in context.template.written.items():
        shown = [r for r in context.results if question in r.written and not r.written[question].untouched]
        # Ordered by the name shown (the pseudonym when anonymous): never by the real id behind it.
        answers = sorted((name(r.student), r.written[question].answer) for r in shown)
        untouched = sum(1 for r in context.results
                        if question in r.written and r.written[question].untouched and r.status != NO_SUBMISSION)
        model, rubric = guides.get(question, ("", ""))
        pages.append((question, max_points, answers, model, rubric, untouched))
    return pages


def start(context: Context) -> None:
    """Start drawing the formulas of every review page, in one child for the whole class (a child per
    page started Python and matplotlib again for each written question). The child runs while the
    other writers write (a thread waits for it): its 0.5-1 s of start-up and drawing is on another
    CPU, not after everything else. :func:`write` waits for it."""
    import threading

    pages = _pages(context)
    sources = [tex for _, _, answers, model, rubric, _ in pages
               for text in (model, rubric, *(answer for _, answer in answers)) if text
               for tex in math_sources(render_markdown(text))]
    formulas = Formulas(context.out / "formula-cache")

    def draw() -> None:
        try:
            formulas.draw(sources)
        except Exception:  # noqa: BLE001 - each page draws what is missing again in write(), which reports it
            pass

    drawing = threading.Thread(target=draw, name="review formulas", daemon=True)
    drawing.start()
    context.cache["review"] = (pages, formulas, drawing)


def write(context: Context) -> list[tuple[str, Exception]]:
    if "review" not in context.cache:
        start(context)
    pages, formulas, drawing = context.cache.pop("review")
    # The formulas of every page were drawn in a child with limits and cached beside the pages
    # (formulas.py): each page below finds its own in the cache.
    drawing.join()
    for question, max_points, answers, model, rubric, untouched in pages:
        write_atomic(context.out / "review" / f"{question}.html",
                     render(context.assignment.id, question, answers, max_points, model, rubric, untouched,
                            formulas))
    context.cache["formulas drawn"] = formulas.drawn
    return []
