"""What a grading run writes: grades.csv, Gradescope results.json, feedback.html, a summary.

Every file is written to a temporary name and renamed into place, so an interrupted run
never leaves a half-written grade file behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
from collections import Counter
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from autograder.selfcheck.api import PASSED

_env = Environment(loader=PackageLoader("autograder.report", "templates"), autoescape=select_autoescape())


def write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    if isinstance(data, str):
        temporary.write_text(data, encoding="utf-8")
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
    return {"score": total_score(result, manual), "output": output,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def feedback_html(result: dict, released: bool = False, expected_plots: dict | None = None) -> str:
    return _env.get_template("feedback.html.j2").render(
        result=result, checks=visible_checks(result, released), expected_plots=expected_plots or {})


def csv_rows(results: list[dict], questions: list[str], written: list[str],
             manual: dict[str, dict[str, float]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *questions, *written, "total", "max", "status"])
    for r in sorted(results, key=lambda r: r["student"]):
        scores = manual.get(r["student"], {})
        row_manual = [scores.get(q, "") for q in written]
        writer.writerow([r["student"], *[_num(r["questions"].get(q, {}).get("points", 0)) for q in questions],
                         *[_num(v) if v != "" else "" for v in row_manual], _num(total_score(r, scores)),
                         _num(r["max_points"]), r["status"]])
    return buffer.getvalue()


def _num(value: float) -> str:
    return f"{value:g}"


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


def summary_html(info: dict, assignment: str) -> str:
    return _env.get_template("summary.html.j2").render(info=info, assignment=assignment)


def summary_text(info: dict) -> str:
    lines = [f"{info['submissions']} submissions; mean automatic score "
             f"{info['mean_total']:.2f} / {info['max_points']:g}; statuses: "
             + ", ".join(f"{k} {v}" for k, v in sorted(info["statuses"].items()))]
    for question, mean in info["question_means"].items():
        lines.append(f"  {question:<24} mean {mean:.2f} / {info['question_max'][question]:g}")
    if info["top_mistakes"]:
        lines.append("most frequent mistakes:")
        lines += [f"  {count:>4} × {name}" for name, count in info["top_mistakes"]]
    return "\n".join(lines)


def review_page(assignment: str, question: str, answers: list[tuple[str, str]], max_points: float) -> str:
    """One page per written question: every answer, for the instructor to score."""
    return _env.get_template("review.html.j2").render(
        assignment=assignment, question=question, answers=answers, max_points=max_points)


def dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

