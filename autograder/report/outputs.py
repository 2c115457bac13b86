"""What every output writer shares: the page templates, atomic writes, marks, visible checks.

The formats themselves are modules of ``autograder.report`` (see ``autograder.report.WRITERS``).
Every file is written to a temporary name and renamed into place, so an interrupted run
never leaves a half-written grade file behind. Student-controlled text is made safe on the way
(``safe.py``): every template autoescapes and carries a Content-Security-Policy, written answers
go through a Markdown renderer without raw HTML, plots are checked and re-encoded, CSV cells
cannot be formulas, and nothing written can fail to encode.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from jinja2 import Environment, PackageLoader

from autograder.files import PRIVATE_DIR, PRIVATE_FILE, private_dirs  # noqa: F401 (re-exported)
from autograder.grading.result import Result
from autograder.report.safe import (
    CSP,
    page_text,
    valid_text,
)
from autograder.selfcheck.api import PASSED, CheckResult
from autograder.selfcheck.status import Status

# autoescape=True for every template: jinja2's select_autoescape() goes by the name's last
# extension and so would leave "*.html.j2" unescaped. The only Markup that reaches a template
# from student text is safe.render_markdown's. page_text drops control characters from every value.
env = Environment(loader=PackageLoader("autograder.report", "templates"), autoescape=True, finalize=page_text)
env.globals["csp"] = CSP


def write_atomic(path: Path, data: str | bytes) -> bool:
    """Write ``path`` (owner-only) through a temporary name; ``False`` if it already held exactly these
    bytes, which are then left untouched (a rerun rewrites only what changed: issue 21)."""
    if isinstance(data, str):
        # valid_text: a lone surrogate in a student's text must not stop the batch here.
        data = valid_text(data).encode("utf-8")
    try:
        # Same size first: most changed files differ in length, and then nothing is read.
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            if path.stat().st_mode & 0o077:
                os.chmod(path, PRIVATE_FILE)  # written by an older kit: make it private, content unchanged
            return False
    except (FileNotFoundError, NotADirectoryError):
        pass
    private_dirs(path.parent)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)  # a temporary left by an older run keeps its old mode
        handle.write(data)
    os.replace(temporary, path)
    return True


# What a student sees of a hidden check, whatever else happens: its name, its points and the name of
# the mistake it recognised. Its message is never handed back, released or not: the grader's own
# words about a hidden check quote values computed from the hidden inputs ("item 0 is -1.918").
HIDDEN_PASSED = "passed on the hidden inputs"


def hidden_message(check: CheckResult) -> str:
    if check.status == PASSED:
        return HIDDEN_PASSED
    # The mistake's name reveals nothing of the hidden inputs; the numbers would.
    named = f": the result looks like: {check.mistake}" if check.mistake else ""
    status = "" if check.status == Status.FAILED else f" ({check.status})"
    return f"failed on the hidden inputs{status}{named}"


def student_checks(result: Result) -> list[CheckResult]:
    """The checks as every student-facing file shows them: hidden ones masked (:func:`hidden_message`)."""
    return [replace(check, message=hidden_message(check)) if check.hidden else check for check in result.checks]


def visible_checks(result: Result, released: bool) -> list[CheckResult]:
    """For the instructor's terminal (``dlbasics check``): hidden messages in full with ``released``,
    else masked as in every student-facing file."""
    return list(result.checks) if released else student_checks(result)


@dataclass
class Marks:
    """What a submission finally counts for: automatic points, hand-graded points, lateness.

    Computed once per student from the gradebook and the course, and used by every writer
    (grades.csv, results.json, feedback.html), so they never disagree.
    """

    manual: dict[str, float] = field(default_factory=dict)  # written question -> points that count
    comments: dict[str, str] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)  # scored, but the answer changed since: not counted
    # written question -> the rubric items its score holds: (label, points, comment for the student)
    items: dict[str, list[tuple[str, float, str]]] = field(default_factory=dict)
    submitted_at: str | None = None
    days_late: int = 0
    penalty: float = 0.0
    total: float = 0.0


def marks(result: Result, manual: dict | None = None, course=None) -> Marks:
    """``manual``: question -> :class:`~autograder.grading.gradebook.Manual` (or plain points)."""
    out = Marks(submitted_at=result.submitted_at)
    for question, answer in result.written.items():
        entry = (manual or {}).get(question)
        if answer.untouched:
            out.manual[question], out.comments[question] = 0.0, "no answer was written"
        if entry is None:
            continue
        points, comment, stale = ((entry, "", False) if isinstance(entry, int | float)
                                  else (entry.points, entry.comment, entry.stale))
        if comment:
            out.comments[question] = comment
        held = getattr(entry, "items", ())
        if held and not stale:
            out.items[question] = [(item.label, item.points, item.comment) for item in held]
        if stale:
            out.stale.add(question)
            out.manual.pop(question, None)
        else:
            out.manual[question] = points
    subtotal = result.auto_total + sum(out.manual.values())
    if course is not None and (out.submitted_at or result.late_marker):
        due = course.due.get(result.assignment)
        try:  # a stored time is the gradebook's data: one that cannot be read counts as unknown
            when = dt.datetime.fromisoformat(out.submitted_at).astimezone(dt.UTC) if out.submitted_at else None
        except (ValueError, OverflowError, TypeError):
            when = None
        extension = course.extension(result.student, result.assignment)
        out.days_late = course.late.days_late(when, due, extension)
        if when is None and result.late_marker and due is not None and not extension:
            # Late per the platform, time unknown: at least one started day. Not with an extension:
            # Canvas marks late against its own due date, which may not know of the course's
            # extension, so a marker alone cannot show the work came after the extended date.
            out.days_late = 1
        out.penalty = min(subtotal, course.late.penalty(out.days_late, result.max_points))
    out.total = subtotal - out.penalty
    return out


def dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

