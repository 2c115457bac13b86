"""The command line: clear errors for bad input, a row for every submission, the demo works."""

from __future__ import annotations

import os

import pytest
from conftest import grade_notebooks, read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.grading.grade import load_template


def test_unknown_assignment_and_missing_folder_are_usage_errors(tmp_path):
    bad = run_dlbasics("grade", "03-nope", tmp_path, "--out", tmp_path / "out", check=False)
    assert bad.returncode == 2 and "unknown assignment '03-nope'" in bad.stderr and "01-linear-regression" in bad.stderr
    missing = run_dlbasics("grade", "01", tmp_path / "nothing", "--out", tmp_path / "out", check=False)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr


def test_broken_files_get_a_row_with_a_reason(solution_notebook, tmp_path):
    run = grade_notebooks("01-linear-regression", {
        "honest": solution_notebook("01-linear-regression"),
        "empty": b"",
        "not json": "{ this is not json",
        "binary": bytes(range(256)) * 4,
        "no cells": '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
    }, tmp_path)
    full = sum(load_template(ASSIGNMENTS["01-linear-regression"]).points.values())
    assert run.results["honest"].auto_total == full
    for student, word in [("empty", "empty"), ("not json", "not valid notebook JSON"), ("binary", "UTF-8"),
                          ("no cells", "no list of cells")]:
        assert run.rows[student]["status"] == "unreadable"
        assert float(run.rows[student]["total"]) == 0
        assert word in run.results[student].message, run.results[student].message


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS.values()), ids=list(ASSIGNMENTS))
def test_sample_class_grades_as_described(tmp_path, assignment):
    """alice: full marks; bob: the corpus's sample mistakes, named; carol: nothing; dave: a loop that times out."""
    full = sum(load_template(assignment).points.values())
    corpus = assignment.corpus_module()
    out = tmp_path / "demo"
    process = run_dlbasics("grade", assignment.id, KIT_ROOT / "samples" / assignment.id, "--out", out)
    run = read_outputs(out, process)
    assert float(run.rows["alice"]["automatic"]) == full
    assert float(run.rows["carol"]["automatic"]) == 0
    assert 0 < float(run.rows["bob"]["automatic"]) < full
    for question in corpus.SAMPLE_MISTAKES:  # each sample mistake costs points and is named
        info = run.results["bob"].questions[question]
        assert info.points < info.max_points and info.mistakes, info
    assert run.results["dave"].questions[corpus.SAMPLE_LOOP].status == "timeout"
    assert "ran out of time" in run.results["dave"].message
    assert "most frequent mistakes" in process.stdout
    for name in ("summary.html", "histogram.png", "summary.json"):
        assert (out / name).stat().st_size > 0
    assert (out / "feedback" / "bob" / "feedback.html").stat().st_size > 0


@pytest.mark.parametrize("assignment", list(ASSIGNMENTS.values()), ids=list(ASSIGNMENTS))
def test_check_command_and_pytest_agree_with_grade(tmp_path, assignment):
    """`dlbasics check`, `pytest <folder>/checks.py` and `dlbasics grade` give bob the same score."""
    import subprocess
    import sys

    full = sum(load_template(assignment).points.values())
    bob = KIT_ROOT / "samples" / assignment.id / "bob.ipynb"
    out = tmp_path / "out"
    seed = {"DLBASICS_SEED": "the course's secret seed"}  # the same hidden inputs (bob's) for all three
    graded = read_outputs(out, run_dlbasics("grade", assignment.id, bob, "--out", out, "--quiet", env=seed))
    score = float(graded.rows["bob"]["automatic"])
    checked = run_dlbasics("check", bob, env=seed)
    assert f"automatic score: {score:g} / {full:g}" in checked.stdout
    for notebook, expected in ((None, full), (bob, score)):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   str(assignment.folder / "checks.py")]
        if notebook:
            command += ["--dlbasics-notebook", str(notebook), "--dlbasics-student", "bob"]
        result = subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True, timeout=300,
                                env={**os.environ, **seed})
        assert f"dlbasics points: {expected:g} / {full:g}" in result.stdout, result.stdout[-3000:]


def test_check_command_explains_an_unreadable_notebook(tmp_path):
    empty = tmp_path / "linear_regression.ipynb"
    empty.write_text("")
    guessed = run_dlbasics("check", empty, check=False)
    assert guessed.returncode == 1 and "status: unreadable: the file is empty" in guessed.stdout
    unknown = tmp_path / "mine.ipynb"
    unknown.write_text("")
    result = run_dlbasics("check", unknown, check=False)
    assert result.returncode == 2 and "the file is empty" in result.stderr and "Traceback" not in result.stderr


def test_every_verb_module_is_listed_once_and_reaches_the_parser():
    """autograder/cli/: each verb module (all but __init__, __main__, common) is in VERBS, and its NAME is a
    subcommand that runs that module's run: a module left out of the list would be a verb nobody can call."""
    import argparse
    import importlib

    from autograder.cli import VERBS, parser

    folder = KIT_ROOT / "autograder" / "cli"
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem not in {"__init__", "__main__", "common"})
    listed = [verb.__name__.rpartition(".")[2] for verb in VERBS]
    assert sorted(listed) == modules and len(set(listed)) == len(listed), (listed, modules)
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in modules:
        verb = importlib.import_module(f"autograder.cli.{name}")
        assert isinstance(verb.HELP, str) and verb.HELP
        assert sub.choices[verb.NAME].get_default("func") is verb.run, name
