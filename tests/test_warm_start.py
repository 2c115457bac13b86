"""When the sandboxed workers start: during intake when something will be graded, never when nothing is.

Functional tests (what starts when), not timed ones: the speed is measured in bench/grade_speed.py.
"""

from __future__ import annotations

import re
import threading

import pytest
from conftest import run_dlbasics

import autograder.grading.intake as intake
from autograder.checks import ASSIGNMENTS
from autograder.notebook.fill import fill, solution_answers, write
from autograder.sandbox import pool

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]
SEED = {"DLBASICS_SEED": "a seed for the warm-start tests"}
# How long intake waits for a worker to begin starting: a worker begins within milliseconds of
# being asked; this only bounds the test on a machine shared by many jobs.
WAIT_SECONDS = 120


@pytest.fixture
def starts(monkeypatch):
    """Every Worker.start of the run (the workers themselves), and an event set at the first."""
    record = {"workers": [], "begun": threading.Event(), "finished": [], "stopped": []}
    real_start, real_stop = pool.Worker.start, pool.Worker.stop

    def stop(self):
        if self in record["finished"]:  # (start itself calls stop first)
            record["stopped"].append(self)
        real_stop(self)

    def start(self):
        record["workers"].append(self)
        record["begun"].set()
        try:
            real_start(self)
        finally:
            record["finished"].append(self)

    monkeypatch.setattr(pool.Worker, "start", start)
    monkeypatch.setattr(pool.Worker, "stop", stop)
    return record


def _reused(process) -> tuple[int, int]:
    """(graded, reused) as the run's last line says."""
    graded, reused = re.search(r"graded (\d+), reused (\d+) unchanged", process.stdout).groups()
    return int(graded), int(reused)


def test_a_first_run_starts_its_workers_while_intake_runs(tmp_path, starts, monkeypatch):
    write(fill(ASSIGNMENT, solution_answers(ASSIGNMENT)), tmp_path / "subs" / "alice.ipynb")
    real_collect = intake.collect
    seen = {}

    def collect(*args, **kwargs):
        # Intake does not finish until a worker has begun starting: without the warm start
        # no worker starts before the first submission is sent, after intake, and this fails.
        seen["worker_began_during_intake"] = starts["begun"].wait(WAIT_SECONDS)
        return real_collect(*args, **kwargs)

    monkeypatch.setattr(intake, "collect", collect)
    process = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", tmp_path / "out", "--jobs", "2",
                           env=SEED)
    assert seen["worker_began_during_intake"]
    assert _reused(process) == (1, 0)
    assert len(starts["workers"]) == 2  # one per --jobs, each started once
    assert not any(worker.alive() for worker in starts["workers"])


def test_a_rerun_with_nothing_to_grade_starts_no_worker(tmp_path, starts):
    write(fill(ASSIGNMENT, solution_answers(ASSIGNMENT)), tmp_path / "subs" / "alice.ipynb")
    run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", tmp_path / "out", env=SEED)
    first = len(starts["workers"])
    again = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", tmp_path / "out", env=SEED)
    assert _reused(again) == (0, 1)
    assert first >= 1 and len(starts["workers"]) == first


def test_a_rerun_with_a_new_student_starts_workers_and_grades_only_that_one(tmp_path, starts):
    write(fill(ASSIGNMENT, solution_answers(ASSIGNMENT)), tmp_path / "subs" / "alice.ipynb")
    run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", tmp_path / "out", env=SEED)
    first = len(starts["workers"])
    write(fill(ASSIGNMENT, {}), tmp_path / "subs" / "bob.ipynb")
    again = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", tmp_path / "out", env=SEED)
    assert _reused(again) == (1, 1)
    assert len(starts["workers"]) > first


def test_workers_warmed_for_a_run_that_is_refused_are_stopped(tmp_path, starts):
    """A first run warms its workers before intake; intake then finds nothing: the run is refused
    and every worker it started is stopped by the grader before the run returns (not left to die
    with its pool thread whenever that ends, nor running until the grader exits)."""
    (tmp_path / "empty").mkdir()
    refused = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "empty", "--out", tmp_path / "out", check=False,
                           env=SEED)
    stopped_by_then = list(starts["stopped"])
    assert refused.returncode != 0 and "no notebooks found" in refused.stderr
    assert starts["workers"], "the first run did not warm its workers"
    assert len(starts["finished"]) == len(starts["workers"]), "the run returned while its workers were starting"
    assert set(map(id, stopped_by_then)) == set(map(id, starts["workers"]))
    assert not any(worker.alive() for worker in starts["workers"])
