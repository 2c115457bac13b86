"""Grading: one submission in a sandboxed child, or a whole class across parallel workers.

Every submission found gets exactly one result, whatever happens: an unreadable file, a
sandbox that dies, a check that breaks, or a bug here all end as a zero with a status and
a reason. Results go into the gradebook one transaction each, as they arrive.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.checks import KIT_ROOT, Assignment, AssignmentError
from autograder.context import GradingContext
from autograder.grading.intake import Submission, digest, read_submission
from autograder.grading.result import (
    CHILD_CELL_STATUS,
    MAX_ANSWER_CHARS,
    BadResult,
    QuestionResult,
    Result,
    WrittenAnswer,
)
from autograder.notebook.submission import Template, UnreadableNotebook, load_notebook, parse_notebook, rebuild
from autograder.sandbox.pool import SandboxUnavailable, Worker, isolation_note
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

    That is: the grader's own code (checks, references, the sandbox, intake, grading), the
    template, the hidden inputs' seed, the limits (a 1 ms call limit fails everything), the
    isolation mode, and the versions of Python, torch and numpy that run the student's code.
    """
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(context.seed.encode())
    digest.update(json.dumps([asdict(context.limits), context.isolation, sys.version], sort_keys=True).encode())
    for package in ("torch", "numpy", "matplotlib"):
        try:
            digest.update(f"{package}=={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(f"{package} missing".encode())
    package = KIT_ROOT / "autograder"
    code = [path for path in package.rglob("*") if path.suffix in (".py", ".json")
            and "report" not in path.relative_to(package).parts and path.is_file()]
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


def grade_one(assignment: Assignment, template: Template, student: str, path: Path, worker: Worker,
              context: GradingContext | None, data: bytes | None = None, sha: str | None = None) -> Result:
    """Grade one notebook from ``data``, the bytes intake read (read here if not given), whose
    hash ``sha`` the caller may have computed already.

    The bytes hashed are the bytes graded: the file is never opened a second time. Hidden
    checks draw ``student``'s own inputs from ``context``'s seed; without a context (``dlbasics
    check`` without a course) only the public checks run.
    """
    try:
        data = read_submission(path) if data is None else data
    except UnreadableNotebook as error:
        return empty_result(assignment, template, student, path, UNREADABLE, str(error))
    sha = sha or digest(data)
    try:
        notebook = parse_notebook(data)
        rebuilt = rebuild(template, notebook)
    except UnreadableNotebook as error:
        # Recorded with its hash: a rerun skips it until the student submits a new file.
        return empty_result(assignment, template, student, path, UNREADABLE, str(error), sha)
    del data, notebook
    if not worker.alive():
        worker.start()  # before the clock starts: "seconds" is this submission's own time
    started = time.monotonic()
    session = worker.open(rebuilt.cells)
    public = [fn for fn in assignment.checks() if not fn.hidden]
    checks = [run_check(fn, session) for fn in public]
    # The feedback's picture is drawn on the course's public inputs before any hidden call, so
    # it cannot show a hidden input (a plot function can draw whatever it was given earlier).
    plots = _student_plots(assignment, session)
    if context is not None:
        hidden = HiddenInputs(session, context.hidden(assignment.id, student))
        checks += [run_check(fn, hidden) for fn in assignment.checks() if fn.hidden]
    report = session.close()
    cells = _child_cells(session.cells)
    _blame_broken_cells(checks, cells)
    status, message = GRADED, ""
    if session.ended:
        status, message = Status(session.ended), session.ended_message
    elif report.get("worker_died"):
        status, message = CRASHED, "the sandbox worker died while this submission ran"
    # Everything the child sent is student-controlled text: from_json makes it valid and checks
    # its types before it is stored or shown.
    try:
        result = Result.from_json({
            "assignment": assignment.id, "student": student, "file": str(path), "hash": sha,
            "status": status, "message": message, "isolation": worker.mode,
            "isolation_note": isolation_note(worker.mode), "checks": [asdict(c) for c in checks],
            "cells": [{k: c.get(k) for k in ("label", "status", "message")} for c in cells],
            "notes": rebuilt.notes, "plots": plots, "seconds": round(time.monotonic() - started, 3),
        })
    except BadResult as error:
        return empty_result(assignment, template, student, path, GRADER_ERROR,
                            f"the sandbox's report could not be read ({error}); no points awarded, please report it",
                            sha)
    result = finish_result(result, template, rebuilt.written)
    faults = [c for c in result.checks if c.status == ERROR]
    if faults:
        result.status = GRADER_ERROR
        result.message = (f"{len(faults)} check(s) failed inside the grader ({faults[0].name}: "
                          f"{faults[0].message}); they award no points. Please report it.")
    elif status == GRADED and all(q.status == NOT_ATTEMPTED for q in result.questions.values()):
        result.status, result.message = NOT_ATTEMPTED, "no function of the assignment was implemented"
    _name_failing_dependencies(result, rebuilt.sources)
    slow = [q for q, info in result.questions.items() if info.status == TIMEOUT]
    slow += [f"cell {c.label}" for c in result.cells if c.status == TIMEOUT]
    if slow and not result.message:
        result.message = "ran out of time in: " + ", ".join(slow)
    return result


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
            kind = re.match(r"`[^`]*` raised (\w+)", str(reply.get("message", "")))
            error = kind.group(1) if kind else "an exception"
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


def _student_plots(assignment: Assignment, session) -> dict[str, str]:
    """The student's own figure for each plotted question (base64 PNG rendered in the sandbox)."""
    plots = {}
    for question, (name, args) in getattr(assignment.check_module(), "FEEDBACK_PLOTS", {}).items():
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


class Batch:
    """Grade many submissions with ``jobs`` parallel sandboxed workers."""

    def __init__(self, assignment: Assignment, context: GradingContext, jobs: int | None = None):
        self.assignment = assignment
        self.context = context
        self.template = load_template(assignment)
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.limits = context.limits
        self.version = grader_version(assignment, context)
        # Recorded with every grade (see autograder.grading.run): which seed, which limits.
        self.seed_fingerprint = context.seed_fingerprint
        self.limits_key = context.limits_key
        self.changes: list = []  # what regrading changed, question by question
        self.regrade = False  # True: grade again even what the gradebook holds for these exact bytes

    def run(self, submissions: list[Submission], gradebook=None, on_result=None, progress=None) -> None:
        """Grade ``submissions``; call ``on_result(result, reused)`` in this thread for each.

        Each worker thread reads one file at a time (so at most ``jobs`` submissions are in
        memory), hashes it, reuses the gradebook's result for those exact bytes and this
        grader, or grades the bytes it hashed. Only this thread writes the gradebook.
        """
        todo: queue.Queue = queue.Queue()
        done: queue.Queue = queue.Queue()
        for submission in submissions:
            todo.put(submission)
        threads = [threading.Thread(target=self._work, args=(todo, done, gradebook), daemon=True)
                   for _ in range(min(self.jobs, len(submissions)))]
        for thread in threads:
            thread.start()
        for _ in range(len(submissions)):
            result, reused = done.get()
            self.commit(result, reused, gradebook)
            if on_result:
                on_result(result, reused)
            if progress:
                progress.update(1)
        for thread in threads:
            thread.join()

    def commit(self, result: Result, reused: bool, gradebook) -> None:
        """Record one new result with the run's settings, and remember what it changed."""
        if gradebook is None or reused:
            return
        previous = gradebook.record(result, self.version, self.seed_fingerprint, self.limits_key)
        self.changes += diff(previous, result)

    def _one(self, submission: Submission, worker: Worker, gradebook) -> tuple[Result, bool]:
        student, path = submission.student, submission.path
        try:
            data = read_submission(path)
        except UnreadableNotebook as error:
            return empty_result(self.assignment, self.template, student, path, UNREADABLE, str(error)), False
        sha = digest(data)
        if gradebook is not None and not self.regrade:
            stored = gradebook.lookup(self.assignment.id, student, sha, self.version)
            if stored is not None:
                return stored, True
        result = grade_one(self.assignment, self.template, student, path, worker, self.context, data, sha)
        result.submitted_at = submission.submitted_at
        return result, False

    def _work(self, todo: queue.Queue, done: queue.Queue, gradebook) -> None:
        worker = Worker(self.limits)
        try:
            while True:
                try:
                    submission = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    result, reused = self._one(submission, worker, gradebook)
                except SandboxUnavailable as error:
                    result, reused = self.fault(submission, str(error)), False
                except Exception as error:  # a grader bug must still leave the student's row
                    worker.stop()
                    result, reused = self.fault(submission, f"internal grader error ({type(error).__name__}: "
                                                            f"{error}); no points awarded, please report it"), False
                    result.traceback = traceback.format_exc()[-4000:]
                done.put((result, reused))
        finally:
            worker.stop()

    def fault(self, submission: Submission, message: str) -> Result:
        return empty_result(self.assignment, self.template, submission.student, submission.path, GRADER_ERROR,
                            message)
