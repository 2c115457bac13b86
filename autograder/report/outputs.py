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
import io
import json
import os
import statistics
from collections import Counter
from pathlib import Path

from jinja2 import Environment, PackageLoader

from autograder.report.safe import (
    CSP,
    clean_terminal,
    csv_row,
    page_text,
    render_markdown,
    safe_png_base64,
    valid_text,
)
from autograder.selfcheck.api import PASSED

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


def total_score(result: dict, manual: dict[str, float] | None) -> float:
    """The automatic points plus whatever the instructor scored by hand."""
    return result["auto_total"] + sum((manual or {}).values())


def gradescope(result: dict, manual: dict[str, float] | None = None) -> dict:
    """Gradescope's results.json: one test per check, hidden checks visible after publishing."""
    tests = [{
        "name": f"{c['question']}: {c['name'].removeprefix('test_').replace('_', ' ')}",
        "score": c["points"], "max_score": c["max_points"],
        "output": c["message"] if c["status"] == PASSED else f"[{c['status']}] {c['message']}",
        "visibility": "after_published" if c["hidden"] else "visible",
        "tags": [c["question"]] + ([c["mistake"]] if c.get("mistake") else []),
    } for c in result["checks"]]
    for question, info in result["written"].items():
        score = (manual or {}).get(question)
        tests.append({"name": f"{question} (graded by hand)", "score": score or 0, "max_score": info["max_points"],
                      "output": "graded by your instructor" if score is not None else "not graded yet",
                      "visibility": "visible"})
    output = result["message"] or f"Automatic score {result['auto_total']:g} / {result['auto_max']:g}."
    if result.get("isolation_note"):
        output += f" ({result['isolation_note']})"
    # Gradescope would otherwise interpret outputs as formatted text; messages can hold student text.
    return {"score": total_score(result, manual), "output": output, "output_format": "text",
            "test_output_format": "text", "test_name_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def feedback_html(result: dict, released: bool = False, expected_plots: dict | None = None) -> str:
    # The plot is the child's PNG: only a checked, re-encoded copy is embedded (None: a note instead).
    plots = result.get("plots")
    plots = {q: safe_png_base64(png) for q, png in plots.items()} if isinstance(plots, dict) else {}
    return _env.get_template("feedback.html.j2").render(
        result=result, checks=visible_checks(result, released), plots=plots, expected_plots=expected_plots or {})


def csv_rows(results: list[dict], questions: list[str], written: list[str],
             manual: dict[str, dict[str, float]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # csv_row: numbers stay numbers, every string (the student id above all) cannot be a formula.
    writer.writerow(csv_row(["student", *questions, *written, "total", "max", "status"]))
    for r in sorted(results, key=lambda r: r["student"]):
        scores = manual.get(r["student"], {})
        writer.writerow(csv_row([r["student"], *[r["questions"].get(q, {}).get("points", 0) for q in questions],
                                 *[scores.get(q, "") for q in written], total_score(r, scores),
                                 r["max_points"], r["status"]]))
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
    return clean_terminal("\n".join(lines))


def review_page(assignment: str, question: str, answers: list[tuple[str, str]], max_points: float) -> str:
    """One page per written question: every answer, for the instructor to score."""
    return _env.get_template("review.html.j2").render(
        assignment=assignment, question=question, max_points=max_points,
        answers=[(student, render_markdown(answer)) for student, answer in answers])


def dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

