"""feedback.html, one per student: every check's score and message, plots, hand-graded scores, lateness."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

from autograder.grading.result import Result
from autograder.report.context import Context
from autograder.report.outputs import Marks, env, marks, student_checks, write_atomic
from autograder.report.safe import safe_png_base64


def plural(count: float, word: str, words: str | None = None) -> str:
    """``1 point``, ``2 points``, ``0.5 points``, ``1 day``: the number and its word."""
    return f"{count:g} {word if count == 1 else words or word + 's'}"


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def _sections(template) -> dict[str, str]:
    """Each template cell's grade_id -> the heading of the section it is in (our own text)."""
    sections, heading = {}, ""
    for cell in getattr(template, "cells", None) or []:
        if cell.get("cell_type") == "markdown":
            source = cell.get("source")
            source = "".join(source) if isinstance(source, list) else str(source or "")
            first = next((line for line in source.splitlines() if line.startswith("#")), None)
            if first:
                heading = first.lstrip("#").strip()
        grade_id = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")
        if grade_id:
            sections[grade_id] = heading
    return sections


_ADDED = re.compile(r"added after (?P<anchor>.+) #(?P<n>\d+)")
_COPY = re.compile(r"(?P<anchor>.+) \(copy (?P<n>\d+)\)")


def describe_cell(label: str, template) -> str:
    """A cell the grader ran, in the student's words: no internal cell ids ("added after
    md_summary #1" is "the cell you added in the section “Summary”")."""
    answers = getattr(template, "answers", {}) or {}
    sections = _sections(template)

    def place(grade_id: str) -> str:
        if grade_id == "setup":
            return "the setup cell"
        if grade_id in answers:
            return f"your answer {grade_id}"
        section = sections.get(grade_id)
        return f"the section “{section}”" if section else ""

    added, copy = _ADDED.fullmatch(label), _COPY.fullmatch(label)
    if added:
        n, anchor = int(added["n"]), added["anchor"]
        which = "the cell" if n == 1 else f"the {_ordinal(n)} cell"
        where = place(anchor)
        if not where:  # no template to say where: still no internal id
            return f"{which} you added" if n == 1 else f"the {_ordinal(n)} cell you added there"
        return f"{which} you added {'in' if where.startswith('the section') else 'after'} {where}"
    if copy:
        return f"the {_ordinal(int(copy['n']))} copy of {place(copy['anchor']) or 'an answer cell'}"
    return place(label) if label == "setup" or label in answers else label


def _local(when: dt.datetime | str | None, zone) -> str:
    """A time shown in the course's time zone (the deadline's), e.g. ``2026-12-04 23:59 (UTC+01:00)``."""
    if when is None:
        return ""
    if isinstance(when, str):
        try:
            when = dt.datetime.fromisoformat(when)
        except ValueError:
            return when
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if zone is not None:
        when = when.astimezone(zone)
    name = when.tzname() or ""
    return when.strftime("%Y-%m-%d %H:%M") + (f" ({name})" if name else "")


def timing(result: Result, mark: Marks, course) -> list[str]:
    """Sentences about when the work was due and handed in, in the course's time zone."""
    due = course.due.get(result.assignment) if course is not None else None
    zone = due.tzinfo if due is not None else None
    lines = []
    if due is not None:
        lines.append(f"Deadline: {_local(due, zone)}.")
        days = course.extension(result.student, result.assignment)
        if days:
            lines.append(f"Your extension: {plural(days, 'day')}, to {_local(due + dt.timedelta(days=days), zone)}.")
    if mark.submitted_at:
        lines.append(f"Submitted: {_local(mark.submitted_at, zone)}.")
    if mark.days_late:
        lines.append(f"{plural(mark.days_late, 'day')} late: {plural(mark.penalty, 'point')} off.")
    return lines


def student_name(student: str, course) -> str:
    """The student's name from the roster where there is one (else the id)."""
    for entry in getattr(course, "roster", None) or []:
        if entry.id == student and entry.name.strip():
            return entry.name.strip()
    return student


def student_message(result: Result, template=None) -> str:
    """The row's message as a student may read it: a fault of the grader is named as such, without
    its details (they can quote a hidden check's values; the instructor has them in grades.csv), and
    cells are named in the student's words ("ran out of time in: the cell you added after ...")."""
    from autograder.grading.grade import GRADER_ERROR

    if result.status == GRADER_ERROR:
        return "the grader itself failed on part of this submission; your instructor has been told and will regrade it"
    message = result.message
    for cell in sorted(result.cells, key=lambda c: -len(c.label)):  # the longest first: "x (copy 2)" before "x"
        if f"cell {cell.label}" in message:
            message = message.replace(f"cell {cell.label}", describe_cell(cell.label, template))
    return message


def safe_plot(data, cache: Path | None = None) -> str | None:
    """``safe_png_base64(data)``, kept in ``cache`` by the sha256 of what the child sent: Pillow's
    re-encoding of every student's plot was most of a rerun's writing time after the figures.
    The cache holds only our own re-encodings (or a refusal marker), in an owner-only folder."""
    if cache is None or not isinstance(data, str | bytes):
        return safe_png_base64(data)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    stored = cache / f"plot-{hashlib.sha256(raw).hexdigest()}"
    try:
        text = stored.read_text(encoding="ascii")
        return text or None  # empty: refused before
    except (OSError, ValueError):
        pass
    png = safe_png_base64(data)
    write_atomic(stored, png or "")
    return png


def render(result: Result, expected_plots: dict | None = None, mark: Marks | None = None, course=None,
           template=None, plot_cache: Path | None = None) -> str:
    """The page a student receives: hidden checks masked (``outputs.student_checks``), released or
    not; nothing about the grader's machine (isolation notes are the instructor's: grades.csv)."""
    # The plot is the child's PNG: only a checked, re-encoded copy is embedded (None: a note instead).
    plots = {q: safe_plot(png, plot_cache) for q, png in result.plots.items()}
    mark = mark or marks(result)
    cells = [(describe_cell(c.label, template), c) for c in result.cells if c.status != "ok"]
    return env.get_template("feedback.html.j2").render(
        result=result, checks=student_checks(result), plots=plots, expected_plots=expected_plots or {},
        mark=mark, name=student_name(result.student, course), timing=timing(result, mark, course),
        broken=cells, plural=plural, message=student_message(result, template))


def expected_plots(assignment, cache: Path | None = None) -> dict:
    """The expected figure of each plotted question, as base64 PNG (drawn by the grader).

    Drawing them imports pyplot and renders (1-3 s, most of a rerun's writing time: issue 21), yet
    they change only with the assignment's files, the kit's code or the libraries: ``cache`` (a
    folder) keeps them under a key of exactly those, so a rerun draws nothing.
    """
    key = _plots_key(assignment) if cache is not None else ""
    stored = cache / f"expected-plots-{key}.json" if cache is not None else None
    if stored is not None:
        try:
            plots = json.loads(stored.read_text(encoding="utf-8"))
            if isinstance(plots, dict) and all(isinstance(v, str) for v in plots.values()):
                return plots
        except (OSError, ValueError):
            pass  # missing or damaged: drawn again below
    module = assignment.check_module()
    if not hasattr(module, "expected_plots"):
        return {}
    plots = {question: base64.b64encode(png).decode() for question, png in module.expected_plots().items()}
    if stored is not None:
        write_atomic(stored, json.dumps(plots, sort_keys=True))
    return plots


def _plots_key(assignment) -> str:
    """What the expected figures are drawn from: the assignment's files, the kit, the libraries."""
    from importlib.metadata import PackageNotFoundError, version

    import autograder

    digest = hashlib.sha256()
    for package in ("matplotlib", "numpy", "torch", "pillow"):
        try:
            digest.update(f"{package}=={version(package)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{package} missing\0".encode())
    kit = Path(autograder.__file__).parent
    folder = Path(assignment.folder)
    expected = [assignment.expected_json] if Path(assignment.expected_json).is_file() else []
    for path in [*sorted([*kit.rglob("*.py"), *folder.glob("*.py"), *folder.glob("*.json")]), *expected]:
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def write(context: Context) -> list[tuple[str, Exception]]:
    from autograder.grading.intake import student_folder

    cache = context.out / "plot-cache"
    expected = expected_plots(context.assignment, cache) if context.results else {}
    failed = []
    for result in context.results:
        try:
            write_atomic(student_folder(context.out, result.student) / "feedback.html",
                         render(result, expected, context.marks.get(result.student), context.course, context.template,
                                cache))
        except (OSError, ValueError) as error:
            failed.append((result.student, error))
    return failed
