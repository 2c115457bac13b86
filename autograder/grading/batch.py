"""A class graded in one loop: read, hash, reuse or send, commit as results arrive.

:class:`Batch` is the one loop; where the grading happens is its executor's business, behind
``concurrent.futures``: :class:`LocalExecutor` (sandboxed workers on this machine, one per
thread) or the Dask cluster's (:mod:`autograder.grading.cluster`). Either way the loop reads
each file once, in this thread, with a bounded number in flight (so a class never sits in
memory at once); reuses the gradebook's grade of the same bytes and grader; and commits every
result in this thread, one transaction each, as it arrives, so a run killed at any point
loses nothing committed and a rerun grades only the rest.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import traceback

from autograder.checks import Assignment
from autograder.context import GradingContext
from autograder.grading.grade import (
    GRADER_ERROR,
    UNREADABLE,
    code_version,
    diff,
    empty_result,
    grade_one,
    load_template,
    seeded_version,
)
from autograder.grading.intake import Submission, digest, read_submission
from autograder.grading.result import Result
from autograder.notebook.submission import UnreadableNotebook
from autograder.sandbox.pool import SandboxUnavailable, Worker

# How often a submission is sent again when the executor hands it back unfinished (a cluster
# worker that joined after the grader verified the others): each time the grader verifies the
# newcomers first, so a second try nearly always lands on a verified worker.
SEND_TRIES = 4


class Batch:
    """Grade many submissions of one assignment with one context; see the module's docstring."""

    def __init__(self, assignment: Assignment, context: GradingContext, jobs: int | None = None):
        self.assignment = assignment
        self.context = context
        self.template = load_template(assignment)
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.limits = context.limits
        # The kit hashed once: the version without the seed (a cluster node proves it), then with it.
        self.code_version = code_version(assignment, context.limits, context.isolation)
        self.version = seeded_version(context.seed, self.code_version)
        # Recorded with every grade (see autograder.grading.run): which seed, which limits.
        self.seed_fingerprint = context.seed_fingerprint
        self.limits_key = context.limits_key
        self.changes: list = []  # what regrading changed, question by question
        self.regrade = False  # True: grade again even what the gradebook holds for these exact bytes

    def run(self, submissions: list[Submission], gradebook=None, on_result=None, progress=None,
            executor=None) -> None:
        """Grade ``submissions``; call ``on_result(result, reused)`` in this thread for each.

        ``executor`` (default: a :class:`LocalExecutor` of ``jobs`` workers) grades; this thread
        reads, hashes, looks up and commits. Raises what the executor's ``check`` raises (a lost
        cluster); what was committed until then stays committed.
        """
        executor = executor or LocalExecutor(self)
        todo = iter(submissions)
        # future -> (submission, its bytes, hash, tries): the bytes stay until the result is in, so a
        # submission the executor hands back (a cluster node not verified yet) can be sent again.
        pending: dict[concurrent.futures.Future, tuple[Submission, bytes, str, int]] = {}

        def finish(result: Result, reused: bool) -> None:
            self.commit(result, reused, gradebook)
            if on_result:
                on_result(result, reused)
            if progress:
                progress.update(1)

        def refill() -> None:
            while len(pending) < executor.window():
                submission = next(todo, None)
                if submission is None:
                    return
                sent = self.prepare(submission, gradebook, finish)
                if sent is not None:
                    data, sha = sent
                    pending[executor.submit(submission, data, sha)] = (submission, data, sha, 1)

        with executor:
            refill()
            while pending:
                done, _ = concurrent.futures.wait(pending, timeout=executor.poll_seconds,
                                                  return_when=concurrent.futures.FIRST_COMPLETED)
                if not done:
                    executor.check()  # a cluster that lost every worker for good raises here
                for future in done:
                    submission, data, sha, tries = pending.pop(future)
                    result = executor.result(future, submission, sha)
                    if result is None and tries < SEND_TRIES:
                        pending[executor.submit(submission, data, sha)] = (submission, data, sha, tries + 1)
                        continue
                    if result is None:
                        result = self.fault(submission, f"no worker of the cluster could take this submission in "
                                                        f"{SEND_TRIES} tries; no points awarded, please report it")
                    result.submitted_at = submission.submitted_at  # known here, not where it was graded
                    finish(result, False)
                refill()

    def prepare(self, submission: Submission, gradebook, finish) -> tuple[bytes, str] | None:
        """Read and hash one file: ``(bytes, hash)`` to grade, or None when its row is finished here
        (unreadable, or the gradebook's grade of these exact bytes by this grader)."""
        try:
            data = read_submission(submission.path)
        except UnreadableNotebook as error:
            finish(empty_result(self.assignment, self.template, submission.student, submission.path, UNREADABLE,
                                str(error)), False)
            return None
        sha = digest(data)
        if gradebook is not None and not self.regrade:
            stored = gradebook.lookup(self.assignment.id, submission.student, sha, self.version)
            if stored is not None:
                finish(stored, True)
                return None
        return data, sha

    def commit(self, result: Result, reused: bool, gradebook) -> None:
        """Record one new result with the run's settings, and remember what it changed."""
        if gradebook is None or reused:
            return
        previous = gradebook.record(result, self.version, self.seed_fingerprint, self.limits_key)
        self.changes += diff(previous, result)

    def fault(self, submission: Submission, message: str) -> Result:
        """The row of a submission the grader failed on: a zero that says so (status ``grader error``)."""
        return empty_result(self.assignment, self.template, submission.student, submission.path, GRADER_ERROR,
                            message)


class LocalExecutor:
    """Grading on this machine: ``batch.jobs`` threads, each with its own sandboxed worker.

    A worker is started in the thread that uses it (bubblewrap's --die-with-parent is tied to the
    thread that started it) and stopped when the batch ends; a grader bug while grading stops
    that worker (the next submission gets a fresh one) and becomes the submission's grader-error row.

    Workers start on the first submission a thread grades, or earlier with :meth:`warm` (when
    the caller knows something will be graded: each worker's start, seconds of imports, then
    overlaps intake and the gradebook lookups). A run that grades nothing starts none.
    """

    poll_seconds = None  # nothing to watch between results: wait for the next one

    def __init__(self, batch: Batch):
        self.batch = batch
        self.local = threading.local()
        self.workers: list[Worker] = []
        self.lock = threading.Lock()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=batch.jobs, thread_name_prefix="dlbasics")
        self.warming = False

    def warm(self) -> None:
        """Start every thread's worker now, in the background; returns at once. Idempotent.

        One task per thread: a thread pool adds a thread for each task submitted while the
        others are busy, and each task is busy for the worker's whole start, so each thread
        takes one (at worst a thread starts its worker on its first submission, as without this).
        """
        if self.warming:
            return
        self.warming = True
        for _ in range(self.batch.jobs):
            self.pool.submit(self._warm_one)

    def _warm_one(self) -> None:
        worker = self._worker()
        try:
            if not worker.alive():
                worker.start()
        except Exception:  # noqa: BLE001 - the submission that needs this worker starts it again and
            pass           # turns the failure into its row (SandboxUnavailable) as without warming

    def window(self) -> int:
        """Submissions read and in flight at once: enough to keep every worker busy, no more in memory."""
        return 2 * self.batch.jobs

    def submit(self, submission: Submission, data: bytes, sha: str) -> concurrent.futures.Future:
        return self.pool.submit(self._grade, submission, data, sha)

    def result(self, future, submission: Submission, sha: str) -> Result:
        return future.result()  # _grade never raises: every failure is already a row

    def check(self) -> None:
        pass

    def _worker(self) -> Worker:
        worker = getattr(self.local, "worker", None)
        if worker is None:
            worker = self.local.worker = Worker(self.batch.limits)
            with self.lock:
                self.workers.append(worker)
        return worker

    def _grade(self, submission: Submission, data: bytes, sha: str) -> Result:
        batch = self.batch
        worker = self._worker()
        try:
            return grade_one(batch.assignment, batch.template, submission.student, submission.path, worker,
                             batch.context, data, sha)
        except SandboxUnavailable as error:
            return batch.fault(submission, str(error))
        except Exception as error:  # a grader bug must still leave the student's row
            worker.stop()
            result = batch.fault(submission, f"internal grader error ({type(error).__name__}: {error}); no points "
                                             "awarded, please report it")
            result.traceback = traceback.format_exc()[-4000:]
            return result

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback_) -> None:
        if kind is not None:
            # Interrupted (Ctrl-C) or a lost run: stop the sandboxes first, so the submissions in
            # hand end at once instead of running out their time; nothing more is committed.
            self._stop_workers()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._stop_workers()

    def _stop_workers(self) -> None:
        with self.lock:
            workers = list(self.workers)
        for worker in workers:
            worker.stop()
