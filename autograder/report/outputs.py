"""What a grading run writes: grades.csv, Gradescope results.json, feedback.html, a summary.

Every file is written to a temporary name and renamed into place, so an interrupted run
never leaves a half-written grade file behind. Student-controlled text is made safe on the way
(``safe.py``): every template autoescapes and carries a Content-Security-Policy, written answers
go through a Markdown renderer without raw HTML, plots are checked and re-encoded, CSV cells
cannot be formulas, and nothing written can fail to encode.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader

from autograder.report.safe import (
    CSP,
    csv_row,
    page_text,
    render_markdown,
    safe_png_base64,
    valid_text,
)
from autograder.selfcheck.api import PASSED
from autograder.text import terminal_text

# autoescape=True for every template: jinja2's select_autoescape() goes by the name's last
# extension and so would leave "*.html.j2" unescaped. The only Markup that reaches a template
# from student text is safe.render_markdown's. page_text drops control characters from every value.
_env = Environment(loader=PackageLoader("autograder.report", "templates"), autoescape=True, finalize=page_text)
_env.globals["csp"] = CSP


def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    if isinstance(data, str):
        # valid_text: a lone surrogate in a student's text must not stop the batch here.
        temporary.write_bytes(valid_text(data).encode("utf-8"))
    else:
        temporary.write_bytes(data)
    os.replace(temporary, path)


def visible_checks(result: dict, released: bool) -> list[dict]:
    """Checks a student may see: hidden ones only by name and score until grades are released."""
    shown = []
    for check in result["checks"]:
        if check["hidden"] and not released and check["status"] != PASSED:
            # The mistake's name reveals nothing of the hidden inputs; the numbers would.
            named = f"on random inputs this looks like: {check['mistake']}. " if check.get("mistake") else ""
            status = "" if check["status"] == "failed" else f" ({check['status']})"
            check = {**check, "message": f"hidden check failed{status}: {named}"
                                         "details are shown after grades are released"}
        shown.append(check)
    return shown


@dataclass
class Marks:
    """What a submission finally counts for: automatic points, hand-graded points, lateness.

    Computed once per student from the gradebook and the course, and used by every writer
    (grades.csv, results.json, feedback.html), so they never disagree.
    """

    manual: dict[str, float] = field(default_factory=dict)  # written question -> points that count
    comments: dict[str, str] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)  # scored, but the answer changed since: not counted
    submitted_at: str | None = None
    days_late: int = 0
    penalty: float = 0.0
    total: float = 0.0


def marks(result: dict, manual: dict | None = None, course=None) -> Marks:
    """``manual``: question -> :class:`~autograder.grading.gradebook.Manual` (or plain points)."""
    out = Marks(submitted_at=result.get("submitted_at"))
    for question, answer in result.get("written", {}).items():
        entry = (manual or {}).get(question)
        if answer.get("untouched"):
            out.manual[question], out.comments[question] = 0.0, "no answer was written"
        if entry is None:
            continue
        points, comment, stale = ((entry, "", False) if isinstance(entry, int | float)
                                  else (entry.points, entry.comment, entry.stale))
        if comment:
            out.comments[question] = comment
        if stale:
            out.stale.add(question)
            out.manual.pop(question, None)
        else:
            out.manual[question] = points
    subtotal = result["auto_total"] + sum(out.manual.values())
    if course is not None and out.submitted_at:
        due = course.due.get(result["assignment"])
        when = dt.datetime.fromisoformat(out.submitted_at)
        out.days_late = course.late.days_late(when, due, course.extension(result["student"], result["assignment"]))
        out.penalty = min(subtotal, course.late.penalty(out.days_late, result["max_points"]))
    out.total = subtotal - out.penalty
    return out


def gradescope(result: dict, mark: Marks | None = None) -> dict:
    """Gradescope's results.json: one test per check, hidden checks visible after publishing."""
    mark = mark or marks(result)
    tests = [{
        "name": f"{c['question']}: {c['name'].removeprefix('test_').replace('_', ' ')}",
        "score": c["points"], "max_score": c["max_points"],
        "output": c["message"] if c["status"] == PASSED else f"[{c['status']}] {c['message']}",
        "visibility": "after_published" if c["hidden"] else "visible",
        "tags": [c["question"]] + ([c["mistake"]] if c.get("mistake") else []),
    } for c in result["checks"]]
    for question, info in result["written"].items():
        score = mark.manual.get(question)
        state = ("your answer changed after it was graded: it will be graded again" if question in mark.stale
                 else "graded by your instructor" if score is not None else "not graded yet")
        comment = mark.comments.get(question)
        tests.append({"name": f"{question} (graded by hand)", "score": score or 0, "max_score": info["max_points"],
                      "output": state + (f". Comment: {comment}" if comment else ""), "visibility": "visible"})
    output = result["message"] or f"Automatic score {result['auto_total']:g} / {result['auto_max']:g}."
    if mark.penalty:
        output += f" Late by {mark.days_late} day(s): {mark.penalty:g} point(s) off."
    if result.get("isolation_note"):
        output += f" ({result['isolation_note']})"
    # Gradescope would otherwise interpret outputs as formatted text; messages can hold student text.
    return {"score": mark.total, "output": output, "output_format": "text",
            "test_output_format": "text", "test_name_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def feedback_html(result: dict, released: bool = False, expected_plots: dict | None = None,
                  mark: Marks | None = None) -> str:
    # The plot is the child's PNG: only a checked, re-encoded copy is embedded (None: a note instead).
    plots = result.get("plots")
    plots = {q: safe_png_base64(png) for q, png in plots.items()} if isinstance(plots, dict) else {}
    return _env.get_template("feedback.html.j2").render(
        result=result, checks=visible_checks(result, released), plots=plots, expected_plots=expected_plots or {},
        mark=mark or marks(result))


def csv_rows(results: list[dict], questions: list[str], written: list[str],
             all_marks: dict[str, Marks] | None = None) -> str:
    """grades.csv: points per question, hand-graded points, lateness, the final total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # csv_row: numbers stay numbers, every string (the student id above all) cannot be a formula.
    writer.writerow(csv_row(["student", *questions, *written, "automatic", "submitted", "days late", "late penalty",
                             "total", "max", "status", "note"]))
    for r in sorted(results, key=lambda r: r["student"]):
        mark = (all_marks or {}).get(r["student"]) or marks(r)
        note = "; ".join(f"{q}: the answer changed after it was graded by hand" for q in sorted(mark.stale))
        writer.writerow(csv_row([r["student"], *[r["questions"].get(q, {}).get("points", 0) for q in questions],
                                 *[mark.manual.get(q, "") for q in written], r["auto_total"],
                                 mark.submitted_at or "", mark.days_late, mark.penalty, mark.total,
                                 r["max_points"], r["status"], note]))
    return buffer.getvalue()


def summary(results: list[dict], questions: list[str]) -> dict:
    """Per-question means, the totals, and the most frequent named mistakes."""
    totals = [r["auto_total"] for r in results]
    # Count each named mistake once per submission, however many checks it failed.
    mistakes = Counter(name for r in results
                       for name in {f"{c['question']}: {c['mistake']}" for c in r["checks"] if c.get("mistake")})
    statuses = Counter(r["status"] for r in results)
    return {
        "submissions": len(results),
        "statuses": dict(statuses),
        "mean_total": statistics.fmean(totals) if totals else 0.0,
        "max_points": results[0]["auto_max"] if results else 0.0,
        "question_means": {q: statistics.fmean(r["questions"][q]["points"] for r in results) if results else 0.0
                           for q in questions},
        "question_max": {q: results[0]["questions"][q]["max_points"] if results else 0.0 for q in questions},
        "top_mistakes": mistakes.most_common(10),
        "totals": totals,
    }


def histogram_png(totals: list[float], max_points: float) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    bins = max(1, int(max_points)) if max_points else 10
    ax.hist(totals, bins=bins, range=(0, max_points or 1), color="#4c72b0", edgecolor="white")
    ax.set_xlabel("automatic score")
    ax.set_ylabel("submissions")
    ax.set_title(f"Totals of {len(totals)} submissions")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def summary_html(info: dict, assignment: str, histogram: bytes | None = None) -> str:
    """The class summary, self-contained: the histogram (``histogram_png``, drawn here if not given) inlined."""
    if histogram is None:
        histogram = histogram_png(info["totals"], info["max_points"])
    return _env.get_template("summary.html.j2").render(
        info=info, assignment=assignment, histogram=base64.b64encode(histogram).decode("ascii"))


def summary_text(info: dict) -> str:
    lines = [f"{info['submissions']} submissions; mean automatic score "
             f"{info['mean_total']:.2f} / {info['max_points']:g}; statuses: "
             + ", ".join(f"{k} {v}" for k, v in sorted(info["statuses"].items()))]
    for question, mean in info["question_means"].items():
        lines.append(f"  {question:<24} mean {mean:.2f} / {info['question_max'][question]:g}")
    if info["top_mistakes"]:
        lines.append("most frequent mistakes:")
        lines += [f"  {count:>4} × {name}" for name, count in info["top_mistakes"]]
    # Printed to the instructor's terminal: a mistake's name may quote a student's function name.
    return terminal_text("\n".join(lines))


def review_page(assignment: str, question: str, answers: list[tuple[str, str]], max_points: float,
                model: str = "", rubric: str = "", untouched: int = 0) -> str:
    """One page per written question: every answer written, the model answer and rubric, for graders."""
    return _env.get_template("review.html.j2").render(
        assignment=assignment, question=question, max_points=max_points, untouched=untouched,
        model=render_markdown(model, math=True) if model else "",
        rubric=render_markdown(rubric, math=True) if rubric else "",
        answers=[(student, render_markdown(answer, math=True)) for student, answer in answers])


def dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

