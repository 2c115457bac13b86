"""The grade cache reuses a grade only when everything that decided it is unchanged."""

from __future__ import annotations

from conftest import read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.context import GradingContext
from autograder.grading.grade import grader_version, load_template
from autograder.notebook.fill import fill, solution_answers, write
from autograder.sandbox.pool import Limits

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]


def reused(process) -> int:
    return int(process.stdout.split("reused ")[1].split()[0])


def test_grades_from_other_limits_are_not_reused(tmp_path):
    """A run with a 1 ms call limit fails every check; a rerun with the defaults is refused, or regrades."""
    full = sum(load_template(ASSIGNMENT).points.values())
    write(fill(ASSIGNMENT, solution_answers(ASSIGNMENT)), tmp_path / "subs" / "alice.ipynb")
    out = tmp_path / "out"
    starved = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out, "--call-timeout", "0.001")
    assert float(read_outputs(out, starved).rows["alice"]["total"]) < full
    refused = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out, check=False)
    assert refused.returncode == 2 and "other limits" in refused.stderr
    rerun = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out, "--regrade")
    assert reused(rerun) == 0
    assert float(read_outputs(out, rerun).rows["alice"]["total"]) == full
    again = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out)
    assert reused(again) == 1  # and an unchanged rerun still reuses


def _context(seed="one term's secret seed", limits=None, mode="bwrap"):
    return GradingContext(seed, "test", limits or Limits(), None, mode)


def test_the_version_covers_seed_limits_and_isolation():
    base = grader_version(ASSIGNMENT, _context())
    assert grader_version(ASSIGNMENT, _context()) == base
    assert grader_version(ASSIGNMENT, _context(limits=Limits(cell_seconds=1))) != base
    assert grader_version(ASSIGNMENT, _context(mode="rlimits")) != base
    assert grader_version(ASSIGNMENT, _context(seed="another term's secret seed")) != base
