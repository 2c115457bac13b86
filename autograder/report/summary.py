"""The class summary: summary.html (with its histogram inlined), histogram.png, summary.json, and the terminal text."""

from __future__ import annotations

import base64
import io
import statistics
from collections import Counter

from autograder.grading.result import Result
from autograder.report.context import Context
from autograder.report.outputs import dumps, env, write_atomic
from autograder.text import terminal_text


def summarize(results: list[Result], questions: list[str]) -> dict:
    """Per-question means, the totals, and the most frequent named mistakes (JSON data: summary.json)."""
    totals = [r.auto_total for r in results]
    # Count each named mistake once per submission, however many checks it failed.
    mistakes = Counter(name for r in results for name in {f"{c.question}: {c.mistake}" for c in r.checks if c.mistake})
    statuses = Counter(str(r.status) for r in results)
    return {
        "submissions": len(results),
        "statuses": dict(statuses),
        "mean_total": statistics.fmean(totals) if totals else 0.0,
        "max_points": results[0].auto_max if results else 0.0,
        "question_means": {q: statistics.fmean(r.questions[q].points for r in results) if results else 0.0
                           for q in questions},
        "question_max": {q: results[0].questions[q].max_points if results else 0.0 for q in questions},
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


def render_html(info: dict, assignment: str, histogram: bytes | None = None) -> str:
    """The class summary, self-contained: the histogram (drawn here if not given) inlined."""
    if histogram is None:
        histogram = histogram_png(info["totals"], info["max_points"])
    return env.get_template("summary.html.j2").render(
        info=info, assignment=assignment, histogram=base64.b64encode(histogram).decode("ascii"))


def render_text(info: dict) -> str:
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


def write(context: Context) -> list[tuple[str, Exception]]:
    info = summarize(context.results, list(context.template.points))
    context.cache["summary"] = info
    histogram = histogram_png(info["totals"], info["max_points"])
    write_atomic(context.out / "histogram.png", histogram)
    write_atomic(context.out / "summary.html", render_html(info, context.assignment.id, histogram))
    write_atomic(context.out / "summary.json", dumps({k: v for k, v in info.items() if k != "totals"}))
    return []
