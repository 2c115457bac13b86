"""Grading: one submission in a sandboxed child, or a whole class across parallel workers.

Every submission found gets exactly one result, whatever happens: an unreadable file, a
sandbox that dies, a check that breaks, or a bug here all end as a zero with a status and
a reason. Results go into the gradebook one transaction each, as they arrive.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.checks import KIT_ROOT, Assignment, AssignmentError
from autograder.context import GradingContext
from autograder.grading.intake import digest, read_submission
from autograder.grading.result import (
    CHILD_CELL_STATUS,
    MAX_ANSWER_CHARS,
    BadResult,
    QuestionResult,
    Result,
    WrittenAnswer,
)
from autograder.notebook.submission import Template, UnreadableNotebook, load_notebook, parse_notebook, rebuild
from autograder.sandbox.pool import Worker, isolation_note
from autograder.selfcheck.api import CRASHED, ERROR, NOT_ATTEMPTED, PASSED, TIMEOUT, CheckResult, Student, run_check
from autograder.selfcheck.status import Status

# A submission's own statuses (see Status). ``grader error`` is the grader's own fault (a
# check that raised, a sandbox that could not start, a bug here): the row says so, no point is
# awarded for what it affected, and `dlbasics grade` exits non-zero. ``no submission``: a
# roster student with no file, a row in every output, never stored.
GRADED = Status.GRADED
UNREADABLE = Status.UNREADABLE
GRADER_ERROR = Status.GRADER_ERROR
NO_SUBMISSION = Status.NO_SUBMISSION


def load_template(assignment: Assignment) -> Template:
    """The student template's structure (grade ids, points), checked against the checks."""
    try:
        template = Template.from_notebook(load_notebook(assignment.release))
    except (OSError, UnreadableNotebook) as error:
        raise AssignmentError(f"{assignment.release}: {error}; run `dlbasics build`") from None
    by_question: dict[str, float] = {}
    for fn in assignment.checks():
        by_question[fn.question] = by_question.get(fn.question, 0) + fn.points
    if by_question != template.points:
        differ = ", ".join(f"{q}: checks {by_question.get(q, 0):g}, notebook {template.points.get(q, 0):g}"
                           for q in sorted(by_question.keys() | template.points.keys())
                           if by_question.get(q) != template.points.get(q))
        raise AssignmentError(f"{assignment.id}: the student notebook's points differ from the checks' ({differ}): "
                              "run `dlbasics build`, which writes the checks' points into the notebooks")
    return template


def grader_version(assignment: Assignment, context: GradingContext) -> str:
    """Changes whenever anything that decides a grade changes, so a rerun regrades instead of reusing.

    That is: the hidden inputs' seed and everything :func:`code_version` covers.
    """
    return seeded_version(context.seed, code_version(assignment, context.limits, context.isolation))


def seeded_version(seed: str, code: str) -> str:
    """:func:`grader_version` from a :func:`code_version` already computed (hashing the kit once)."""
    digest = hashlib.sha256(seed.encode())
    digest.update(code.encode())
    return digest.hexdigest()[:16]


def code_version(assignment: Assignment, limits, isolation: str) -> str:
    """The grader's version without its seed, which a cluster node proves before it is given the seed.

    It covers the grader's own code (checks, references, the sandbox, intake, grading), the
    template, the limits (a 1 ms call limit fails everything), the isolation mode, and the
    versions of Python, torch and numpy that run the student's code.
    """
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(json.dumps([asdict(limits), isolation, sys.version], sort_keys=True).encode())
    for package in ("torch", "numpy", "matplotlib"):
        try:
            digest.update(f"{package}=={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(f"{package} missing".encode())
    package = KIT_ROOT / "autograder"
    # What decides no grade is left out: the writers and the desk (changing a page regrades nothing).
    code = [path for path in package.rglob("*") if path.suffix in (".py", ".json")
            and not {"report", "desk"} & set(path.relative_to(package).parts) and path.is_file()]
    for path in sorted(code) + [assignment.release]:
        digest.update(str(path.relative_to(KIT_ROOT)).encode())
        digest.update(path.read_bytes())
    # The assignment's own checks, references and public expected values live in its folder,
    # not in autograder/: a change there changes grades too (and a cluster node must match them).
    for path in [*(assignment.folder / f"{name}.py" for name in ("public_checks", "checks", "reference")),
                 assignment.expected_json]:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _question_status(checks: list[CheckResult]) -> Status:
    statuses = {c.status for c in checks}
    if statuses == {PASSED}:
        return PASSED
    if statuses == {NOT_ATTEMPTED}:
        return NOT_ATTEMPTED
    if ERROR in statuses or GRADER_ERROR in statuses:
        return GRADER_ERROR
    if len(statuses) == 1 and next(iter(statuses)) in (UNREADABLE, NO_SUBMISSION):
        return next(iter(statuses))
    for word in (TIMEOUT, CRASHED):
        if word in statuses:
            return word
    return Status.PARTIAL if any(c.points for c in checks) else Status.FAILED


def empty_result(assignment: Assignment, template: Template, student: str, path: Path, status: Status,
                 message: str, digest: str = "") -> Result:
    """The row of a submission that could not be graded: every question zero, with the reason."""
    result = Result(assignment.id, student, str(path), status, message, hash=digest)
    result.checks = [CheckResult(check.__name__, check.question, 0, check.points, status, message, check.hidden)
                     for check in assignment.checks()]
    return finish_result(result, template)


def untouched(answer: str) -> bool:
    """A written answer the student never wrote: empty, or still the template's placeholder."""
    return answer.strip() in ("", "YOUR ANSWER HERE")


def finish_result(result: Result, template: Template, written: dict | None = None) -> Result:
    """Sum the checks into questions and totals, and collect the written answers."""
    for question in template.points:
        checks = result.checks_of(question)
        result.questions[question] = QuestionResult(
            points=sum(c.points for c in checks), max_points=template.points[question],
            status=_question_status(checks) if checks else NOT_ATTEMPTED,
            mistakes=sorted({c.mistake for c in checks if c.mistake}))
    for grade_id, max_points in template.written.items():
        answer = (written or {}).get(grade_id, "")
        result.written[grade_id] = WrittenAnswer(max_points, answer[:MAX_ANSWER_CHARS], untouched(answer))
    result.auto_total = sum(q.points for q in result.questions.values())
    result.auto_max = sum(template.points.values())
    result.max_points = result.auto_max + sum(template.written.values())
    return result


@dataclass
class Grading:
    """One submission on its way through :data:`STEPS`: what each step reads and leaves for the next.

    A step that decides the submission's row by itself (an unreadable file, a broken report)
    sets ``result`` and ``final``; the steps after it do not run.
    """

    assignment: Assignment
    template: Template
    student: str
    path: Path
    worker: Worker
    context: GradingContext | None
    data: bytes | None = None
    sha: str | None = None
    rebuilt: object = None  # autograder.notebook.submission.Rebuilt
    session: object = None  # autograder.sandbox.pool.Session
    started: float = 0.0
    checks: list = field(default_factory=list)
    plots: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    cells: list = field(default_factory=list)
    result: Result | None = None
    final: bool = False

    def stop(self, status: Status, message: str, with_hash: bool = True) -> None:
        self.result = empty_result(self.assignment, self.template, self.student, self.path, status, message,
                                   self.sha if with_hash else "")
        self.final = True


def read(g: Grading) -> None:
    """The bytes intake read, or the file read now (once: the bytes hashed are the bytes graded)."""
    try:
        g.data = read_submission(g.path) if g.data is None else g.data
    except UnreadableNotebook as error:
        g.stop(UNREADABLE, str(error), with_hash=False)
        return
    g.sha = g.sha or digest(g.data)


def parse(g: Grading) -> None:
    """The notebook rebuilt on the template: its answer cells in the template's order, its written answers."""
    try:
        g.rebuilt = rebuild(g.template, parse_notebook(g.data))
    except UnreadableNotebook as error:
        g.stop(UNREADABLE, str(error))  # recorded with its hash: a rerun skips it until a new file comes
    g.data = None


def open_session(g: Grading) -> None:
    if not g.worker.alive():
        g.worker.start()  # before the clock starts: "seconds" is this submission's own time
    g.started = time.monotonic()
    plotted = {_call_key(name, list(args), {}) for name, args in _feedback_plots(g.assignment).values()}
    g.session = OncePerInput(g.worker.open(g.rebuilt.cells), plotted)


def run_public_checks(g: Grading) -> None:
    g.checks += [run_check(fn, g.session) for fn in g.assignment.checks() if not fn.hidden]


def draw_feedback_plots(g: Grading) -> None:
    """The feedback's picture, drawn on the course's public inputs before any hidden call, so it
    cannot show a hidden input (a plot function can draw whatever it was given earlier)."""
    g.plots = _student_plots(g.assignment, g.session)


def run_hidden_checks(g: Grading) -> None:
    """Hidden checks on the student's own inputs; none without a context (``dlbasics check`` without a seed)."""
    if g.context is not None:
        hidden = HiddenInputs(g.session, g.context.hidden(g.assignment.id, g.student))
        g.checks += [run_check(fn, hidden) for fn in g.assignment.checks() if fn.hidden]


def close_session(g: Grading) -> None:
    g.report = g.session.close()
    g.cells = _child_cells(g.session.cells)


def blame_broken_cells(g: Grading) -> None:
    _blame_broken_cells(g.checks, g.cells)


def build_result(g: Grading) -> None:
    """The typed result. Everything the child sent is student-controlled text: from_json makes it
    valid and checks its types before it is stored or shown."""
    status, message = GRADED, ""
    if g.session.ended:
        status, message = Status(g.session.ended), g.session.ended_message
    elif g.report.get("worker_died"):
        status, message = CRASHED, "the sandbox worker died while this submission ran"
    try:
        result = Result.from_json({
            "assignment": g.assignment.id, "student": g.student, "file": str(g.path), "hash": g.sha,
            "status": status, "message": message, "isolation": g.worker.mode,
            "isolation_note": isolation_note(g.worker.mode), "checks": [asdict(c) for c in g.checks],
            "cells": [{k: c.get(k) for k in ("label", "status", "message")} for c in g.cells],
            "notes": g.rebuilt.notes, "plots": g.plots, "seconds": round(time.monotonic() - g.started, 3),
        })
    except BadResult as error:
        g.stop(GRADER_ERROR, f"the sandbox's report could not be read ({error}); no points awarded, please report it")
        return
    g.result = finish_result(result, g.template, g.rebuilt.written)


def mark_grader_faults(g: Grading) -> None:
    """A check that broke inside the grader makes the row a grader error (its points were not awarded)."""
    faults = [c for c in g.result.checks if c.status == ERROR]
    if faults:
        g.result.status = GRADER_ERROR
        g.result.message = (f"{len(faults)} check(s) failed inside the grader ({faults[0].name}: "
                            f"{faults[0].message}); they award no points. Please report it.")


def mark_not_attempted(g: Grading) -> None:
    result = g.result
    if result.status == GRADED and all(q.status == NOT_ATTEMPTED for q in result.questions.values()):
        result.status, result.message = NOT_ATTEMPTED, "no function of the assignment was implemented"


def name_failing_dependencies(g: Grading) -> None:
    _name_failing_dependencies(g.result, g.rebuilt.sources)


def say_what_ran_out_of_time(g: Grading) -> None:
    slow = [q for q, info in g.result.questions.items() if info.status == TIMEOUT]
    slow += [f"cell {c.label}" for c in g.result.cells if c.status == TIMEOUT]
    if slow and not g.result.message:
        g.result.message = "ran out of time in: " + ", ".join(slow)


# One submission's grading, in order (nbgrader's list of preprocessors is the model): each step
# is small, named, and tested alone (tests/test_steps.py). The order matters where a step reads
# what an earlier one left: the feedback plot before any hidden call; the cells' reports (from
# closing) before blaming broken cells; the totals (build_result) before the row's status.
STEPS = [read, parse, open_session, run_public_checks, draw_feedback_plots, run_hidden_checks, close_session,
         blame_broken_cells, build_result, mark_grader_faults, mark_not_attempted, name_failing_dependencies,
         say_what_ran_out_of_time]


def grade_one(assignment: Assignment, template: Template, student: str, path: Path, worker: Worker,
              context: GradingContext | None, data: bytes | None = None, sha: str | None = None) -> Result:
    """Grade one notebook through :data:`STEPS`, from ``data`` (the bytes intake read; read here if
    not given) whose hash ``sha`` the caller may have computed already.

    Hidden checks draw ``student``'s own inputs from ``context``'s seed; without a context
    (``dlbasics check`` without a course) only the public checks run.
    """
    g = Grading(assignment, template, student, path, worker, context, data, sha)
    for step in STEPS:
        step(g)
        if g.final:
            break
    return g.result


class HiddenInputs(Student):
    """The student as a hidden check sees it: no student-written text comes back.

    A student's exception message (``raise ValueError(f"bad x {x}")``), a returned string or
    an object's ``repr`` can carry the hidden inputs into a check's message, and from there
    into results.json and, once released, feedback.html. For hidden checks they are replaced
    by their type before any check reads them; the grader's own words stay.
    """

    def __init__(self, session, hidden_key):
        self.session = session
        self.hidden_key = hidden_key  # where this student's hidden inputs come from (autograder.context)

    def request(self, name, *args, **kwargs) -> dict:
        reply = self.session.request(name, *args, **kwargs)
        if not reply.get("ok") and reply.get("kind") == "error":
            # The child's word for the type (student-controlled too: a class can be named anything),
            # shown only when it is a plain identifier.
            kind = reply.get("error_type")
            error = kind if isinstance(kind, str) and kind.isidentifier() and len(kind) <= 60 else "an exception"
            reply = {**reply, "message": f"`{name}` raised {error} on the hidden inputs (its message is not shown, "
                                         "as it could reveal them)", "traceback": ""}
        elif reply.get("ok"):
            reply = {**reply, "value": _scrub(reply.get("value"))}
        return reply


def _scrub(value):
    """A reply's value with every student-written string replaced by its type."""
    if isinstance(value, dict):
        scrubbed = {k: _scrub(v) for k, v in value.items()}
        if "repr" in scrubbed:
            scrubbed["repr"] = "(not shown for a hidden check)"
        if value.get("t") == "str":
            scrubbed["v"] = "(a string)"
        return scrubbed
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def _call_key(name: str, args: list, kwargs: dict) -> str:
    return json.dumps([name, args, kwargs], sort_keys=True)


def _feedback_plots(assignment: Assignment) -> dict:
    """question -> (function, public arguments) of the figures the feedback shows."""
    return getattr(assignment.check_module(), "FEEDBACK_PLOTS", {})


class OncePerInput(Student):
    """The session as the checks see it: each student function is called once per distinct input.

    Several checks often ask the same call (two public checks and the feedback's picture all draw
    the course's plot): the child is asked once and the reply reused. Every call in the child
    starts from the same seeds with fresh arguments, so a second call could only differ by state
    the function kept between calls, which no check grades. A call whose figure the feedback shows
    (``rendered``) is rendered the first time, so the picture costs no extra call.
    """

    def __init__(self, session, rendered: set[str] = frozenset()):
        self.session = session
        self.rendered = rendered
        self.replies: dict[str, dict] = {}

    def __getattr__(self, name):  # ended, ended_message, cells, close(): the session's own
        return getattr(self.session, name)

    def request(self, name, args, kwargs, render) -> dict:
        key = _call_key(name, args, kwargs)
        cached = self.replies.get(key)
        if cached is None or (render and not cached[0]):
            rendered = bool(render or key in self.rendered)
            cached = self.replies[key] = (rendered, self.session.request(name, args, kwargs, rendered))
        return copy.deepcopy(cached[1])  # each check reads its own copy


def _student_plots(assignment: Assignment, session) -> dict[str, str]:
    """The student's own figure for each plotted question (base64 PNG rendered in the sandbox)."""
    plots = {}
    for question, (name, args) in _feedback_plots(assignment).items():
        try:
            reply = session.call_full(name, *args, render=True)
        except Exception:  # no plot, no picture: the checks already said why
            continue
        items = reply["value"].get("items", [reply["value"]])
        png = next((item.get("png") for item in items if isinstance(item, dict) and item.get("png")), None)
        if isinstance(png, str) and len(png) < 2_000_000:
            plots[question] = png
    return plots


def _name_failing_dependencies(result: Result, sources: dict[str, str]) -> None:
    """A function that calls another question's failing function fails through it: say so.

    The grader calls the student's own functions, so ``gradient_descent`` built on a wrong
    ``gradient_descent_step`` loses its points too; the feedback then names the cause rather
    than leaving an unexplained wrong number.
    """
    questions = result.questions
    for question, source in sources.items():
        used = [other for other in questions if other != question and questions[other].status != PASSED
                and re.search(rf"\b{re.escape(other)}\s*\(", source)]
        if not used or question not in questions:
            continue
        names = " and ".join(f"`{other}`" for other in used)
        fails = "fails its own checks" if len(used) == 1 else "fail their own checks"
        for check in result.checks_of(question):
            if check.status == Status.FAILED:
                # What looks like this function's own slip may be the other's: name the cause first.
                symptom = f" (the result looks like: {check.mistake})" if check.mistake else ""
                check.mistake = f"uses {names}, which {fails}{symptom}"
                check.message += f" Note: `{question}` calls your {names}, which {fails}; fix that first."
        questions[question].mistakes = sorted({c.mistake for c in result.checks_of(question) if c.mistake})


def _child_cells(cells) -> list[dict]:
    """The child's cell reports, reduced to label, status and message, all plain text.

    The child runs the student's code, which can write anything on its channel: a malformed
    report is the submission's doing, so it is coerced here rather than refused later as the
    grader's fault: a status that is not one of the child's words is taken as "error" (it raised).
    """
    reports = []
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict):
            status = cell.get("status")
            known = isinstance(status, str) and status in CHILD_CELL_STATUS  # a list would not even hash
            reports.append({"label": str(cell.get("label", "")), "status": status if known else "error",
                            "message": str(cell.get("message") or "")})
    return reports


def _blame_broken_cells(checks: list[CheckResult], cells: list[dict]) -> None:
    """A function missing because its own cell failed was attempted: say what broke, not "not implemented"."""
    broken = {c.get("label"): c for c in cells if c.get("status") != "ok"}
    for check in checks:
        cell = broken.get(check.question)
        if cell and check.status == NOT_ATTEMPTED:
            lines = [line for line in str(cell.get("message", "")).splitlines() if line.strip()]
            check.status = TIMEOUT if cell.get("status") == "timeout" else Status.FAILED
            check.message = (f"the cell defining `{check.question}` did not run: "
                             f"{lines[-1] if lines else cell.get('status')}")


@dataclass
class Change:
    student: str
    question: str
    old: float
    new: float


def diff(previous: Result | None, result: Result) -> list[Change]:
    """What a regrade changed, question by question."""
    if previous is None:
        return []
    changes = []
    for question, info in result.questions.items():
        old = previous.questions.get(question)
        if old is not None and old.points != info.points:
            changes.append(Change(result.student, question, old.points, info.points))
    return changes
