"""The class at a glance: summary.html (with its histogram inlined), histogram.png, summary.json, and the terminal text.

It counts students, not rows: every roster student once (with ``no submission`` if nothing came),
every graded id that is on no roster once more, and a second submission of one student (graded
as ``id~2``, see ``intake.unique_ids``) under that student's line, never as another student.
Means are over the students who submitted (a ``no submission`` row is no work to average); a
student with several submissions counts with the first one, and the line says to resolve it.
An id on the roster is always its own student; without a roster, ``x~2`` beside ``x`` is read as
x's second submission (the name intake gives it), even if someone chose that id.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from urllib.parse import quote

from autograder.grading.result import Result
from autograder.report.context import Context
from autograder.report.outputs import Marks, dumps, env, marks, write_atomic
from autograder.selfcheck.status import Status
from autograder.text import terminal_text

# The most frequent named mistakes listed, and how many of the students who made each are named
# on the page (the count is always complete; summary.json names them all).
TOP_MISTAKES = 10
NAMES_PER_MISTAKE = 30
_DUPLICATE = re.compile(r"(?s)(.+)~([2-9]|[1-9][0-9]+)")


def feedback_link(student: str) -> str:
    """The relative link to a student's feedback.html, from the folder summary.html sits in.

    ``folder_name`` percent-encodes the id into the folder's name; that name is quoted once more
    here, since a browser decodes ``%XX`` in a link before it looks for the file.
    """
    from autograder.grading.intake import FEEDBACK_DIR, folder_name

    return f"{FEEDBACK_DIR}/{quote(folder_name(student), safe='')}/feedback.html"


def review_link(question: str) -> str:
    return f"review/{quote(question, safe='')}.html"


def _base_of(student: str, known: set[str], roster: set[str]) -> str | None:
    """The student whose further submission ``student`` is (``alice`` for ``alice~2``), or ``None``."""
    match = _DUPLICATE.fullmatch(student)
    if match is None or student in roster or match[1] not in known:
        return None
    return match[1]


def _to_score(result: Result, mark: Marks) -> list[str]:
    """Written questions with an answer that has no score that counts yet."""
    return [q for q, w in result.written.items() if not w.untouched and (q not in mark.manual or q in mark.stale)]


def summarize(results: list[Result], questions: list[str], all_marks: dict[str, Marks] | None = None,
              roster: list[str] | None = None, written: list[str] | None = None) -> dict:
    """The class summary as JSON data (summary.json); see the module's docstring for what counts."""
    all_marks = {r.student: (all_marks or {}).get(r.student) or marks(r) for r in results}
    roster_ids = set(roster or [])
    rows = {r.student: r for r in results}
    written = list(written if written is not None else dict.fromkeys(q for r in results for q in r.written))
    further: dict[str, list[Result]] = defaultdict(list)
    primary: list[Result] = []
    for r in sorted(results, key=lambda r: r.student):
        base = _base_of(r.student, set(rows) | roster_ids, roster_ids)
        (further[base].append(r) if base else primary.append(r))
    students = sorted({r.student for r in primary} | roster_ids)
    submitted = [r for r in primary if r.status != Status.NO_SUBMISSION]
    table = []
    for student in students:
        r = rows.get(student)
        mark = all_marks.get(student)
        line = {"student": student, "on_roster": student in roster_ids or not roster_ids,
                "status": str(r.status) if r else str(Status.NO_SUBMISSION), "feedback": None,
                "automatic": 0.0, "automatic_max": 0.0, "hand": 0.0, "to_score": [], "submitted_at": None,
                "days_late": 0, "penalty": 0.0, "total": 0.0, "max": 0.0, "answers": [], "further": []}
        if r is not None:
            line.update(feedback=feedback_link(student), automatic=r.auto_total, automatic_max=r.auto_max,
                        hand=sum(mark.manual.values()), to_score=_to_score(r, mark), submitted_at=mark.submitted_at,
                        days_late=mark.days_late, penalty=mark.penalty, total=mark.total, max=r.max_points,
                        answers=[{"question": q, "review": review_link(q), "scored": q in mark.manual,
                                  "points": mark.manual.get(q)}
                                 for q, w in r.written.items() if not w.untouched])
        line["further"] = [{"student": f.student, "status": str(f.status), "total": all_marks[f.student].total,
                            "feedback": feedback_link(f.student)} for f in further.get(student, [])]
        table.append(line)
    # Count each named mistake once per submission, however many checks it failed.
    made: dict[str, list[str]] = defaultdict(list)
    for r in submitted:
        for name in sorted({f"{c.question}: {c.mistake}" for c in r.checks if c.mistake}):
            made[name].append(r.student)
    top = sorted(made.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP_MISTAKES]
    progress = {}
    for question in written:
        answered = [r for r in submitted if question in r.written and not r.written[question].untouched]
        scored = [r for r in answered if question in all_marks[r.student].manual]
        progress[question] = {"answered": len(answered), "scored": len(scored), "to_score": len(answered) - len(scored),
                              "stale": sum(question in all_marks[r.student].stale for r in answered),
                              "review": review_link(question)}
    totals = [all_marks[r.student].total for r in submitted]
    return {
        "students": len(students),
        "submitted": len(submitted),
        # kept under its old name: the students who handed something in (rows are not students).
        "submissions": len(submitted),
        "statuses": dict(Counter(line["status"] for line in table)),
        "not_on_roster": [line["student"] for line in table if not line["on_roster"]],
        "further_submissions": {s: [f.student for f in fs] for s, fs in further.items()},
        "mean_total": statistics.fmean(totals) if totals else 0.0,
        "mean_automatic": statistics.fmean(r.auto_total for r in submitted) if submitted else 0.0,
        "max_points": results[0].max_points if results else 0.0,
        "automatic_max": results[0].auto_max if results else 0.0,
        "question_means": {q: statistics.fmean(r.questions[q].points if q in r.questions else 0.0 for r in submitted)
                           if submitted else 0.0 for q in questions},
        "question_max": {q: next((r.questions[q].max_points for r in results if q in r.questions), 0.0)
                         for q in questions},
        "written_progress": progress,
        "top_mistakes": [(name, len(who)) for name, who in top],
        "mistake_students": {name: who for name, who in top},
        "table": table,
        "totals": totals,
    }


# The PNG text field that holds what histogram.png was drawn from (see cached_histogram).
HISTOGRAM_KEY = "dlbasics-histogram"


def histogram_key(totals: list[float], max_points: float) -> str:
    """What the picture depends on: the totals (as a multiset), the scale, the drawing code itself and
    matplotlib's version. A change of any of them draws it again."""
    from importlib.metadata import version

    code = histogram_png.__code__
    drawing = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()
    return hashlib.sha256(json.dumps([sorted(totals), max_points, drawing, version("matplotlib")])
                          .encode()).hexdigest()


def cached_histogram(path, key: str) -> bytes | None:
    """The bytes of ``path`` if it is a histogram drawn from ``key``, else None.

    A rerun with nothing to grade drew the same histogram again each time: importing pyplot and
    drawing cost about 0.3 s of a rerun that must stay within a second of start-up (issue 21).
    """
    from PIL import Image

    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            if image.format == "PNG" and image.info.get(HISTOGRAM_KEY) == key:
                return data
    except (OSError, ValueError, SyntaxError):  # missing, not a PNG, a damaged one: draw it again
        pass
    return None


def histogram_png(totals: list[float], max_points: float, key: str | None = None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    bins = max(1, int(max_points)) if max_points else 10
    ax.hist(totals, bins=bins, range=(0, max_points or 1), color="#4c72b0", edgecolor="white")
    ax.set_xlabel("total (automatic + by hand - late penalty)")
    ax.set_ylabel("students")
    ax.set_title(f"Totals of the {len(totals)} students who submitted")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={HISTOGRAM_KEY: key} if key else None)
    plt.close(fig)
    return buffer.getvalue()


def render_html(info: dict, assignment: str, histogram: bytes | None = None) -> str:
    """The class summary, self-contained: the histogram (drawn here if not given) inlined."""
    if histogram is None:
        histogram = histogram_png(info["totals"], info["max_points"])
    return env.get_template("summary.html.j2").render(
        info=info, assignment=assignment, histogram=base64.b64encode(histogram).decode("ascii"),
        names_per_mistake=NAMES_PER_MISTAKE)


def render_text(info: dict) -> str:
    students = info.get("students", info["submissions"])
    lines = [f"{students} students, {info['submissions']} submitted; mean total "
             f"{info['mean_total']:.2f} / {info['max_points']:g}; statuses: "
             + ", ".join(f"{k} {v}" for k, v in sorted(info["statuses"].items()))]
    for question, mean in info["question_means"].items():
        lines.append(f"  {question:<24} mean {mean:.2f} / {info['question_max'][question]:g}")
    for question, progress in info.get("written_progress", {}).items():
        lines.append(f"  {question:<24} scored by hand {progress['scored']} / {progress['answered']}")
    if info["top_mistakes"]:
        lines.append("most frequent mistakes:")
        lines += [f"  {count:>4} × {name}" for name, count in info["top_mistakes"]]
    # Printed to the instructor's terminal: a mistake's name may quote a student's function name.
    return terminal_text("\n".join(lines))


def write(context: Context) -> list[tuple[str, Exception]]:
    roster = [student.id for student in context.course.roster] if context.course else None
    info = summarize(context.results, list(context.template.points), context.marks, roster,
                     list(context.template.written))
    context.cache["summary"] = info
    key = histogram_key(info["totals"], info["max_points"])
    histogram = (cached_histogram(context.out / "histogram.png", key)
                 or histogram_png(info["totals"], info["max_points"], key))
    write_atomic(context.out / "histogram.png", histogram)
    write_atomic(context.out / "summary.html", render_html(info, context.assignment.id, histogram))
    write_atomic(context.out / "summary.json", dumps({k: v for k, v in info.items() if k != "totals"}))
    return []
