"""Grading on a Dask cluster (``dlbasics grade --cluster``) gives the grades of a local run.

Each test starts its own ``LocalCluster`` of worker processes (each with its own sandboxed
workers, as on a real node). The cluster's workers get another ``DLBASICS_SEED`` than the
grader on purpose: the seed must travel with each task, not come from the node.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from conftest import grade_notebooks, read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.grading.result import Result
from autograder.notebook.fill import fill, solution_answers

A1 = "01-linear-regression"
GRADER_SEED = "seed-of-the-course-under-test"
NODE_SEED = "another-seed-that-must-not-be-used"


def _class() -> dict:
    """Reference answers (one with a slow added cell, so work is in flight for a while), a stub,
    a known mistake, a partial answer, and two files intake refuses."""
    from corpus.mistakes import MISTAKES

    assignment = ASSIGNMENTS[A1]
    reference = solution_answers(assignment)
    swapped = next(source for a, question, case, source, _ in MISTAKES
                   if a == A1 and question == "fit_least_squares" and case == "slope and intercept swapped")
    return {
        "ref": fill(assignment, reference),
        "ref-slow": fill(assignment, reference, extra_cells=["import time\ntime.sleep(2)\n"]),
        "stub": fill(assignment, {}),
        "swapped": fill(assignment, {**reference, "fit_least_squares": swapped}),
        "partial": fill(assignment, {q: reference[q] for q in ("to_column_tensors", "predict")}),
        "garbage": b"{this is not a notebook",
        "empty": "",
    }


def _cluster(certificates: Path, **kwargs):
    """A cluster of worker processes on this machine, reached over TLS with the certificates that
    `dlbasics cluster-certs --out OUT` writes (``certificates`` = OUT), as the README starts one."""
    from distributed import LocalCluster

    from autograder.grading import certs

    if not (certificates / certs.FOLDER / certs.CA).exists():
        certs.make(certificates)
    options = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None,
               "env": {"DLBASICS_SEED": NODE_SEED}, "protocol": "tls://",
               "security": certs.security(certificates, "node")}
    return LocalCluster(**{**options, **kwargs})


def _without_timing(value):
    """A result with its measured durations removed (they differ from run to run)."""
    if isinstance(value, Result):
        return _without_timing(value.to_json())
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The class graded on this machine, without a cluster."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLBASICS_SEED", GRADER_SEED)
        return grade_notebooks(A1, _class(), tmp_path_factory.mktemp("local"), "--jobs", "2")


@pytest.mark.slow
def test_cluster_grades_byte_identical_to_local(local, tmp_path):
    from distributed import Client

    with _cluster(tmp_path / "out") as cluster, Client(cluster) as client:
        run = run_dlbasics("grade", A1, local.out.parent / "submissions", "--out", tmp_path / "out", "--quiet",
                           "--cluster", cluster.scheduler_address, env={"DLBASICS_SEED": GRADER_SEED})
        # Both Dask workers graded (each kept a sandboxed worker warm), not this machine's pool.
        sandboxes = client.run(lambda dask_worker: sum(
            len(idle) for idle in dask_worker.plugins["dlbasics-sandbox-pool"].idle.values()))
    assert sorted(sandboxes.values()) == [1, 1], sandboxes
    graded = read_outputs(tmp_path / "out", run)
    assert (graded.out / "grades.csv").read_bytes() == (local.out / "grades.csv").read_bytes()
    assert set(graded.results) == set(local.results) == set(_class())
    for student, result in local.results.items():
        assert _without_timing(graded.results[student]) == _without_timing(result), student
    # The class is what it should be, so "identical" is not identical nonsense.
    assert local.results["ref"].auto_total == local.results["ref"].auto_max > 0
    assert local.results["stub"].auto_total == 0
    assert 0 < local.results["swapped"].auto_total < local.results["swapped"].auto_max
    assert {local.results[s].status for s in ("garbage", "empty")} == {"unreadable"}


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(local, tmp_path, monkeypatch):
    """One Dask worker is SIGKILLed while it grades: its submission is graded again elsewhere,
    every submission is recorded exactly once, with the local run's totals."""
    from distributed import Client

    from autograder.context import GradingContext
    from autograder.grading import certs
    from autograder.grading.batch import Batch
    from autograder.grading.cluster import run_on_cluster
    from autograder.grading.gradebook import Gradebook
    from autograder.grading.intake import find_submissions

    # Twice the class, so that plenty is left to grade after the first results.
    submissions_dir = local.out.parent / "submissions"
    folder = tmp_path / "submissions"
    folder.mkdir()
    for path in submissions_dir.iterdir():
        for prefix in ("a-", "b-"):
            (folder / f"{prefix}{path.name}").write_bytes(path.read_bytes())
    assignment = ASSIGNMENTS[A1]
    submissions, _, problems = find_submissions([folder], assignment)
    assert len(submissions) == 14 and not problems

    recorded: Counter = Counter()

    class CountingGradebook(Gradebook):
        def record(self, result, *args, **kwargs):
            recorded[result.student] += 1
            return super().record(result, *args, **kwargs)

    gradebook = CountingGradebook(tmp_path / "gradebook.sqlite")
    seen: Counter = Counter()
    killed: dict = {}

    with _cluster(tmp_path) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)

        def on_result(result: dict, reused: bool) -> None:
            seen[result.student] += 1
            if killed or not result.isolation:  # the first result that came from the cluster
                return
            busy = {address: keys for address, keys in client.processing().items() if keys}
            address = sorted(busy)[0]  # a worker with a submission in hand
            killed.update(address=address, tasks=list(busy[address]))
            os.kill(pids[address], signal.SIGKILL)

        batch = Batch(assignment, GradingContext(GRADER_SEED, "test", isolation="bwrap"))
        run_on_cluster(batch, submissions, cluster.scheduler_address, gradebook=gradebook, on_result=on_result,
                       security=certs.security(tmp_path))
        after = client.run(os.getpid)
    results = {r.student: r for r in gradebook.results(A1)}
    gradebook.close()

    assert killed["tasks"], "the killed worker had nothing in hand: the test proved nothing"
    assert pids[killed["address"]] not in after.values()  # it really died (its nanny started another)
    students = {s.student for s in submissions}
    assert set(seen) == students and set(seen.values()) == {1}, seen
    assert set(results) == students
    assert {s for s in students if recorded[s] != 1} == set(), recorded
    assert {s: r.status for s, r in results.items() if r.status == "grader error"} == {}
    for student in students:
        original = local.results[student.split("-", 1)[1]]
        assert results[student].auto_total == original.auto_total, student
        assert results[student].status == original.status, student


@pytest.mark.slow
def test_a_node_with_another_grader_grades_nothing(local, tmp_path):
    """A node whose grader differs (here: no bubblewrap, so reduced isolation) refuses every
    submission: `grader error` rows with the reason, never a point, exit status 1."""
    from autograder.sandbox.pool import isolation_mode

    if isolation_mode() != "bwrap":
        pytest.skip("needs bubblewrap here, so that a node without it grades differently")
    with _cluster(tmp_path / "out", n_workers=1,
                  env={"DLBASICS_SEED": NODE_SEED, "DLBASICS_SANDBOX": "rlimits"}) as cluster:
        run = run_dlbasics("grade", A1, local.out.parent / "submissions", "--out", tmp_path / "out", "--quiet",
                           "--cluster", cluster.scheduler_address, env={"DLBASICS_SEED": GRADER_SEED}, check=False)
    graded = read_outputs(tmp_path / "out", run)
    # Every file intake could read went to the node, the garbage one too (parsing is grading).
    for student in ("ref", "ref-slow", "stub", "swapped", "partial", "garbage"):
        result = graded.results[student]
        assert (student, result.status, result.auto_total) == (student, "grader error", 0)
        assert float(graded.rows[student]["total"]) == 0
        assert "isolation mode 'rlimits' here, 'bwrap' on the grader" in result.message, result.message
    assert run.returncode == 1, run.stderr
    assert "the grader itself failed on 6 submission(s)" in run.stderr
    assert graded.results["empty"].status == "unreadable"  # refused by intake, before any node


def test_a_node_whose_checks_differ_has_another_grader_version(tmp_path):
    """What a node refuses on: its grader version, which must cover the assignment's own checks,
    references and expected values (they live in its folder, not in autograder/)."""
    import dataclasses
    import shutil

    from autograder.context import GradingContext
    from autograder.grading.grade import grader_version
    from autograder.sandbox.pool import Limits

    assignment = ASSIGNMENTS[A1]
    context = GradingContext("a course's secret seed", "test", Limits(), None, "bwrap")
    mine = grader_version(assignment, context)
    for name in ("checks.py", "reference.py", "public_checks.py"):
        folder = tmp_path / name / assignment.id
        shutil.copytree(assignment.folder, folder)
        with (folder / name).open("a", encoding="utf-8") as handle:
            handle.write("\n# one node's edited copy\n")
        other = dataclasses.replace(assignment, folder=folder)
        assert grader_version(other, context) != mine, name
    same = tmp_path / "same" / assignment.id
    shutil.copytree(assignment.folder, same)
    assert grader_version(dataclasses.replace(assignment, folder=same), context) == mine


def test_an_unencrypted_cluster_is_refused_unless_asked_for(tmp_path):
    (tmp_path / "subs").mkdir()
    write_notebook = fill(ASSIGNMENTS[A1], solution_answers(ASSIGNMENTS[A1]))
    import json

    (tmp_path / "subs" / "alice.ipynb").write_text(json.dumps(write_notebook))
    run = run_dlbasics("grade", A1, tmp_path / "subs", "--out", tmp_path / "out", "--cluster", "tcp://127.0.0.1:9",
                       env={"DLBASICS_SEED": GRADER_SEED}, check=False)
    assert run.returncode == 2 and "tls://" in run.stderr and "--insecure-cluster" in run.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    missing = run_dlbasics("grade", A1, tmp_path / "subs", "--out", tmp_path / "out", "--cluster",
                           "tls://127.0.0.1:9", env={"DLBASICS_SEED": GRADER_SEED}, check=False)
    assert missing.returncode == 2 and "cluster-certs" in missing.stderr, missing.stderr



def test_the_cluster_transport_rule(tmp_path):
    """tls:// needs the course's certificates; any other address is refused unless explicitly allowed."""
    from autograder.grading.certs import CertificatesMissing, InsecureCluster, cluster_security

    with pytest.raises(InsecureCluster, match="--insecure-cluster"):
        cluster_security("tcp://127.0.0.1:9", False, tmp_path)
    assert cluster_security("tcp://127.0.0.1:9", True, tmp_path) is None
    with pytest.raises(CertificatesMissing):
        cluster_security("tls://127.0.0.1:9", True, tmp_path)

@pytest.mark.slow
def test_only_a_peer_certified_by_the_course_reaches_the_cluster(tmp_path):
    """Mutual TLS: a peer with its own certificate (or none) is refused; the course's grader is let in."""
    from distributed import Client
    from distributed.security import Security

    from autograder.grading import certs

    with _cluster(tmp_path, n_workers=0) as cluster:
        with Client(cluster.scheduler_address, security=certs.security(tmp_path), timeout=20) as client:
            assert client.scheduler_info()["address"].startswith("tls://")
        for stranger in (Security.temporary(), Security()):
            with pytest.raises((OSError, TimeoutError, ValueError, TypeError)):  # no TLS at all: TypeError
                Client(cluster.scheduler_address, security=stranger, timeout=5)


class _FakeClient:
    """What DaskExecutor.verify asks of a Dask client: two workers, one grading as we do, one not."""

    def __init__(self, versions: dict):
        self.versions = versions
        self.accepted: list = []

    def scheduler_info(self):
        return {"workers": {address: {} for address in self.versions}}

    def run(self, function, *args, workers, on_error):
        if function.__name__ == "_prove":
            return {w: {"version": self.versions[w], "parts": {}} for w in workers}
        assert function.__name__ == "_accept"
        self.accepted += workers
        return {w: True for w in workers}


def test_the_seed_goes_only_to_workers_that_proved_the_graders_version():
    from autograder.context import GradingContext
    from autograder.grading.batch import Batch
    from autograder.grading.cluster import DaskExecutor

    batch = Batch(ASSIGNMENTS[A1], GradingContext(GRADER_SEED, isolation="bwrap"))
    executor = DaskExecutor(batch, None)
    executor.client = _FakeClient({"tls://good:1": executor.code, "tls://other:1": "another version"})
    executor.verify()
    assert executor.client.accepted == ["tls://good:1"] and executor.verified == {"tls://good:1"}
    executor.client.versions["tls://late:1"] = executor.code  # joins later: verified at the next look
    executor.verify()
    assert executor.client.accepted == ["tls://good:1", "tls://late:1"]
