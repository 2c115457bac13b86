"""Grading a class on a Dask cluster: ``dlbasics grade ... --cluster ADDRESS``.

The process that runs ``dlbasics grade`` stays the only one that reads the submissions,
owns the gradebook and writes outputs, exactly as without a cluster. Only the grading of one
submission moves: the grader reads each file once (bounded, no links), hashes it, reuses the
gradebook's result if it has one for those bytes and this grader, and otherwise sends the
bytes to the cluster as one task. On each Dask worker a :class:`SandboxPool` plugin keeps a
small pool of sandboxed workers (the same :class:`~autograder.sandbox.pool.Worker` as
locally, so bubblewrap must be on every node), the task grades with the same
:func:`~autograder.grading.grade.grade_one`, and the result comes back as a JSON string:
data, nothing else. The grader records each result in the gradebook from its main thread.

Exactly once: one future per submission, consumed with ``as_completed`` (each future is
yielded once) and forgotten once recorded. A Dask worker that dies mid-grade loses nothing:
the scheduler runs its tasks again on another worker (up to its ``allowed-failures``, 3 by
default, after which the submission gets a ``grader error`` row instead of hanging the batch).

A node must grade as the grader would: the task carries the grader's version (code, seed,
limits, isolation mode, Python/torch/numpy versions: see ``grader_version``) and the node
refuses the task, with the reason, if its own version differs. The seed travels with each
task and is used for that task only, so the nodes need no configuration of their own.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
import uuid
from dataclasses import asdict
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from autograder.checks import get_assignment
from autograder.context import GradingContext
from autograder.grading.batch import Batch
from autograder.grading.grade import code_version, grade_one, load_template, seeded_version
from autograder.grading.intake import Submission
from autograder.grading.result import Result
from autograder.grading.run import ClusterUnavailable
from autograder.sandbox.pool import Limits, SandboxUnavailable, Worker, isolation_mode

PLUGIN_NAME = "dlbasics-sandbox-pool"

# Submissions sent to the cluster and not yet back, per thread of the cluster. Each holds its
# bytes (up to intake's 20 MB) in the grader, the scheduler and a worker: 4 per thread keeps
# every thread busy while the next task travels, and bounds memory at ~80 MB per thread in
# the worst case instead of the whole class.
IN_FLIGHT_PER_THREAD = 4

# How long to wait for a Dask scheduler to answer, and for a cluster that has none to gain a
# worker. A nanny restarts a dead worker in seconds, Kubernetes reschedules a pod in a minute
# or two; a cluster still without a worker after this is not coming back by itself.
CONNECT_SECONDS = 30.0
NO_WORKER_SECONDS = 300.0
# The largest reply a node may send back: a result is a few KB of checks and messages plus at
# most one rendered plot (intake's 2 MB bound on a plot, base64); anything larger is not a result.
MAX_REPLY_CHARS = 4_000_000


class VersionMismatch(RuntimeError):
    """A node whose grader differs from the grader's: its grades could differ, so it grades nothing."""


class NotVerified(RuntimeError):
    """A node the grader has not verified (and so not given the seed) yet: the task is sent again."""


def fingerprint(mode: str) -> dict[str, str]:
    """The parts of the grader's version that a mismatch can be explained by (the version decides)."""
    from importlib.metadata import PackageNotFoundError, version

    parts = {"isolation mode": mode, "Python": sys.version.split()[0]}
    for package in ("torch", "numpy", "matplotlib"):
        try:
            parts[package] = version(package)
        except PackageNotFoundError:
            parts[package] = "missing"
    return parts


# --- on each Dask worker ----------------------------------------------------------------------

class SandboxPool(WorkerPlugin):
    """A Dask worker plugin: this worker process's sandboxed workers, started lazily.

    One sandboxed worker per task running at once (so at most the Dask worker's threads), kept
    warm between tasks and between grading runs (the plugin is idempotent: a second grader
    reuses the pool), stopped when the Dask worker closes.
    """

    name = PLUGIN_NAME
    idempotent = True

    def setup(self, worker=None) -> None:
        self.lock = threading.Lock()
        self.idle: dict[str, list[Worker]] = {}  # by limits
        self.busy: set[Worker] = set()
        self.closed = False
        self.versions: dict[tuple, str] = {}
        self.templates: dict[str, object] = {}
        # The seed of each run (by its token), given by the grader only after this node proved it
        # grades exactly as the grader does (prove, accept); forgotten when the run ends.
        self.seeds: dict[str, str] = {}

    def teardown(self, worker=None) -> None:
        with self.lock:
            self.closed = True
            idle = [w for workers in self.idle.values() for w in workers]
            self.idle.clear()
        # Busy ones are stopped when their task hands them back (see release).
        for sandbox in idle:
            sandbox.stop()

    def acquire(self, limits: Limits) -> Worker:
        key = json.dumps(asdict(limits), sort_keys=True)
        with self.lock:
            if self.closed:
                raise SandboxUnavailable("this Dask worker is closing; the task will run elsewhere")
            workers = self.idle.get(key) or []
            sandbox = workers.pop() if workers else Worker(limits)
            self.busy.add(sandbox)
        return sandbox

    def release(self, sandbox: Worker) -> None:
        key = json.dumps(asdict(sandbox.limits), sort_keys=True)
        with self.lock:
            self.busy.discard(sandbox)
            if not self.closed:
                self.idle.setdefault(key, []).append(sandbox)
                return
        sandbox.stop()

    def version(self, assignment, limits: Limits) -> str:
        """This node's grader version without a seed (hashing the kit once per assignment and limits)."""
        key = (assignment.id, json.dumps(asdict(limits), sort_keys=True))
        with self.lock:
            known = self.versions.get(key)
        if known is None:
            known = code_version(assignment, limits, isolation_mode())
            with self.lock:
                self.versions[key] = known
        return known

    def prove(self, assignment_id: str, limits: dict) -> dict:
        """What this node would grade with, before it is given any seed: its version and the parts behind it."""
        return {"version": self.version(get_assignment(assignment_id), Limits(**limits)),
                "parts": fingerprint(isolation_mode())}

    def accept(self, token: str, seed: str, assignment_id: str, limits: dict, expected: str) -> bool:
        """Keep the grader's seed for the run ``token``, if this node grades exactly as the grader would."""
        if seeded_version(seed, self.version(get_assignment(assignment_id), Limits(**limits))) != expected:
            return False
        with self.lock:
            self.seeds[token] = seed
        return True

    def forget(self, token: str) -> None:
        with self.lock:
            self.seeds.pop(token, None)

    def template(self, assignment):
        with self.lock:
            known = self.templates.get(assignment.id)
        if known is None:
            known = load_template(assignment)
            with self.lock:
                self.templates[assignment.id] = known
        return known

    def grade(self, assignment_id: str, student: str, label: str, data: bytes, limits: dict, expected: str,
              token: str, grader_parts: dict) -> str:
        assignment = get_assignment(assignment_id)
        if self.version(assignment, Limits(**limits)) != expected:
            raise VersionMismatch(_mismatch(grader_parts, fingerprint(isolation_mode())))
        with self.lock:
            seed = self.seeds.get(token)
        if seed is None:  # a node that joined after the grader asked (or restarted): not given the seed yet
            raise NotVerified("this Dask worker has not proved its grader yet; the grader asks it and sends again")
        # The grader's seed and limits, for this run only: this node's own environment has no say.
        context = GradingContext(seed, "the grader", Limits(**limits), None, isolation_mode())
        template = self.template(assignment)
        sandbox = self.acquire(context.limits)
        try:
            result = grade_one(assignment, template, student, Path(label), sandbox, context, data)
        except BaseException:
            sandbox.stop()  # restarted clean for the next task
            raise
        finally:
            self.release(sandbox)
        # JSON text, so that only data goes back to the grader.
        return json.dumps(result.to_json())


def _mismatch(theirs: dict, mine: dict) -> str:
    import socket

    differences = [f"{key} {mine.get(key)!r} here, {value!r} on the grader" for key, value in theirs.items()
                   if mine.get(key) != value]
    what = ("; ".join(differences) if differences
            else "the kit's code, or the assignment's checks or notebook, differs from the grader's")
    return (f"the Dask worker on {socket.gethostname()} grades differently from the grader ({what}), so it "
            "grades nothing: install the same dlbasics checkout, Python, torch and bubblewrap on every node "
            "and on the grader's machine; no points awarded")


def _pool(worker):
    pool = worker.plugins.get(PLUGIN_NAME)
    if pool is None:
        raise SandboxUnavailable("this Dask worker has no dlbasics sandbox pool (the grader registers it "
                                 "before sending any submission); no points awarded")
    return pool


def grade_task(assignment_id: str, student: str, label: str, data: bytes, limits: dict, expected: str,
               token: str, grader_parts: dict) -> str:
    """One submission, graded on whichever Dask worker runs this task; the result as JSON text.

    The task carries no seed: only a node that proved its grader holds the run's seed (``token``)."""
    from distributed import get_worker

    return _pool(get_worker()).grade(assignment_id, student, label, data, limits, expected, token, grader_parts)


# Run on workers by the grader with Client.run (Dask passes the worker as ``dask_worker``).
def _prove(assignment_id: str, limits: dict, dask_worker=None) -> dict:
    return _pool(dask_worker).prove(assignment_id, limits)


def _accept(token: str, seed: str, assignment_id: str, limits: dict, expected: str, dask_worker=None) -> bool:
    return _pool(dask_worker).accept(token, seed, assignment_id, limits, expected)


def _forget(token: str, dask_worker=None) -> None:
    _pool(dask_worker).forget(token)


# --- in the grader ----------------------------------------------------------------------------

def run_on_cluster(batch: Batch, submissions: list[Submission], address, gradebook=None, on_result=None,
                   progress=None, security=None) -> None:
    """:meth:`Batch.run`, with the grading done on the Dask cluster at ``address``.

    ``address`` is a scheduler address (``tcp://host:8786``) or anything ``distributed.Client``
    accepts (a ``LocalCluster``). Raises :class:`ClusterUnavailable` if the cluster cannot be
    reached or loses every worker for good; what was recorded until then stays recorded.
    """
    from distributed import Client

    if isinstance(address, str):
        _check_address(address)
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False, security=security)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address} ({type(error).__name__}: "
                                 f"{error}); start it with `dask scheduler` and one `dask worker {address}` "
                                 "per node, or leave out --cluster to grade on this machine") from None
    try:
        batch.run(submissions, gradebook=gradebook, on_result=on_result, progress=progress,
                  executor=DaskExecutor(batch, client))
    finally:
        client.close()


def _check_address(address: str) -> None:
    """A malformed address is refused before connecting (a half-made client would linger a minute)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as error:
        raise ClusterUnavailable(f"--cluster {address!r} is not a Dask scheduler address ({error}): give it as "
                                 "tcp://HOST:PORT, as `dask scheduler` prints it (the default port is 8786)") from None


class DaskExecutor:
    """Grading on a Dask cluster, behind the batch's one loop (see :mod:`autograder.grading.batch`)."""

    poll_seconds = 1.0  # how often, without a result, the loop asks whether the cluster still has workers

    def __init__(self, batch: Batch, client):
        self.batch, self.client = batch, client
        self.token = uuid.uuid4().hex  # task keys of this run: never shared with another run's
        self.parts = fingerprint(isolation_mode())
        self.seed = batch.context.seed
        self.code = batch.code_version
        self.asked: set[str] = set()  # workers asked to prove their grader (by address)
        self.verified: set[str] = set()  # ... and given the seed
        self.index = 0
        self.next_look = 0.0  # when check next asks the scheduler for its workers
        self.without_workers: float | None = None  # since when the cluster has had none
        self.threads = 0
        self.executor = None

    def __enter__(self):
        self.client.register_plugin(SandboxPool())
        self.threads = self._threads()
        self.verify()
        self.executor = self.client.get_executor(pure=False)
        return self

    def __exit__(self, *exc) -> None:
        # The workers keep their sandboxes warm, not the seed; the client is closed by run_on_cluster.
        try:
            self.client.run(_forget, self.token, workers=sorted(self.verified), on_error="ignore")
        except Exception:  # a lost scheduler forgets with its workers
            pass

    def verify(self) -> None:
        """Ask every worker not asked yet what it grades with; give the seed only to those that grade as we do.

        A worker whose grader differs never receives the seed: its tasks come back VersionMismatch
        (a grader-error row naming the difference, as before). Nothing about a node is trusted but
        what it proves with the grader's version, over the cluster's authenticated connections.
        """
        batch = self.batch
        workers = sorted(set(self.client.scheduler_info()["workers"]) - self.asked)
        if not workers:
            return
        limits = asdict(batch.limits)
        proofs = self.client.run(_prove, batch.assignment.id, limits, workers=workers, on_error="return")
        for address in workers:
            self.asked.add(address)
            proof = proofs.get(address)
            if not isinstance(proof, dict) or proof.get("version") != self.code:
                continue
            accepted = self.client.run(_accept, self.token, self.seed, batch.assignment.id, limits, batch.version,
                                       workers=[address], on_error="return")
            if accepted.get(address) is True:
                self.verified.add(address)

    def window(self) -> int:
        return IN_FLIGHT_PER_THREAD * max(1, self.threads)

    def submit(self, submission: Submission, data: bytes, sha: str):
        # A key of our own per submission: identical bytes from two students are two tasks
        # (pure=False alone would do that too; the key also names nothing a student controls).
        self.index += 1
        batch = self.batch
        return self.executor.submit(grade_task, batch.assignment.id, submission.student, str(submission.path), data,
                                    asdict(batch.limits), self.code, self.token, self.parts,
                                    key=f"dlbasics-grade-{self.token}-{self.index}")

    def _threads(self) -> int:
        """The cluster's threads, once it has a worker."""
        deadline = time.monotonic() + NO_WORKER_SECONDS
        said = False
        while True:
            threads = sum(self.client.nthreads().values())
            if threads:
                return threads
            if not said:
                print(f"waiting for a Dask worker to join the cluster (up to {NO_WORKER_SECONDS:g} s)", file=sys.stderr)
                said = True
            if time.monotonic() > deadline:
                raise ClusterUnavailable(f"the Dask cluster has no worker after {NO_WORKER_SECONDS:g} s; start "
                                         "`dask worker SCHEDULER_ADDRESS` on each node")
            time.sleep(1)

    def check(self) -> None:
        """Between results: new workers are verified; a cluster without workers for long is an error."""
        now = time.monotonic()
        if now < self.next_look:
            return
        self.next_look = now + 5  # a round trip to the scheduler; results are what we wait for
        try:
            self.verify()
            workers = sum(self.client.nthreads().values())
        except Exception as error:  # the scheduler went away
            raise ClusterUnavailable(f"lost the Dask scheduler ({type(error).__name__}: {error}); what was "
                                     "graded is in the gradebook: run the same command again to resume") from None
        if workers:
            self.without_workers = None
        elif self.without_workers is None:
            self.without_workers = now
        elif now - self.without_workers > NO_WORKER_SECONDS:
            raise ClusterUnavailable(f"the Dask cluster has had no worker for {NO_WORKER_SECONDS:g} s; what was "
                                     "graded is in the gradebook: start workers and run the same command again")

    def result(self, future, submission: Submission, sha: str) -> Result | None:
        """The submission's row from its finished task, or None to send it again (a node not verified yet)."""
        from distributed import KilledWorker

        batch = self.batch
        if future.cancelled():
            raise ClusterUnavailable("the Dask scheduler cancelled the grading (was it restarted?); what was graded "
                                     "is in the gradebook: run the same command again to resume")
        error = future.exception()
        if error is not None:
            if isinstance(error, NotVerified):
                self.verify()  # the worker that ran it joined after we asked: ask it now
                return None  # and send the submission again
            if isinstance(error, VersionMismatch | SandboxUnavailable):
                return batch.fault(submission, str(error))
            if isinstance(error, KilledWorker):
                return batch.fault(submission, "the Dask workers grading this submission died each time it was "
                                               "tried (see the scheduler's allowed-failures); no points awarded, "
                                               "please report it")
            result = batch.fault(submission, f"internal grader error on a Dask worker ({type(error).__name__}: "
                                             f"{error}); no points awarded, please report it")
            result.traceback = "".join(traceback.format_tb(error.__traceback__))[-4000:]
            return result
        reply = future.result()
        try:
            if not isinstance(reply, str) or len(reply) > MAX_REPLY_CHARS:
                raise ValueError(f"a reply of {len(reply) if isinstance(reply, str) else type(reply).__name__} "
                                 f"characters, more than the {MAX_REPLY_CHARS} a result can take")
            result = Result.from_json(json.loads(reply))
        except (TypeError, ValueError, RecursionError) as error:  # BadResult is a ValueError
            return batch.fault(submission, f"a Dask worker sent back something that is not a result ({error}); "
                                           "no points awarded, please report it")
        # The one result for this submission, or nothing: never a row under another name.
        if (result.assignment, result.student, result.hash) != (
                batch.assignment.id, submission.student, sha):
            return batch.fault(submission, "a Dask worker sent back the result of another submission; no points "
                                           "awarded, please report it")
        return result
