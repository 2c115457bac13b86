"""Broken files, metadata tricks, odd student ids and an interrupted batch.

Each submission is graded through the real `dlbasics grade` beside an honest one: the
honest keeps full marks, the broken one gets no point it did not earn and a status that
says what happened, and every submission gets exactly one row.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import grade_notebooks, overall_max, question_points, read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.grading.grade import load_template
from autograder.grading.intake import MAX_FILE_BYTES, folder_name, student_folder
from autograder.notebook.fill import fill, solution_answers, write
from autograder.notebook.submission import nbgrader_meta

ASSIGNMENT = "01-linear-regression"
FULL = sum(load_template(ASSIGNMENTS["01-linear-regression"]).points.values())
POINTS = question_points(ASSIGNMENTS[ASSIGNMENT])  # from the checks, never pasted from a run


def reference() -> dict:
    assignment = ASSIGNMENTS[ASSIGNMENT]
    return fill(assignment, solution_answers(assignment))


def stub() -> dict:
    return fill(ASSIGNMENTS[ASSIGNMENT], {})


def cells_with(notebook: dict, prefix: str) -> list[dict]:
    return [c for c in notebook["cells"] if str(nbgrader_meta(c).get("grade_id", "")).startswith(prefix)]


def metadata_tricks() -> dict[str, dict]:
    """Stub notebooks whose metadata or test cells were tampered with: worth nothing."""
    cases = {}
    notebook = stub()
    notebook["metadata"]["kernelspec"] = {"name": "evil", "display_name": "evil", "language": "python"}
    notebook["metadata"]["execution"] = {"timeout": 100000}
    cases["kernelspec-and-timeout"] = notebook
    notebook = stub()
    for cell in notebook["cells"]:
        cell.setdefault("metadata", {})["tags"] = ["raises-exception", "skip-execution"]
    cases["tags"] = notebook
    notebook = stub()
    for cell in cells_with(notebook, "check_"):
        cell["source"] = "assert True\n"
        nbgrader_meta(cell)["points"] = 1000
    cases["test-cells-edited-points-raised"] = notebook
    notebook = stub()
    notebook["cells"] = [c for c in notebook["cells"] if not cells_with({"cells": [c]}, "check_")]
    cases["test-cells-deleted"] = notebook
    notebook = stub()
    notebook["cells"] += [copy.deepcopy(c) for c in cells_with(notebook, "check_")]
    cases["test-cells-duplicated"] = notebook
    notebook = stub()
    for cell in cells_with(notebook, "check_"):
        cell["cell_type"] = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    cases["test-cells-to-markdown"] = notebook
    notebook = stub()
    for cell in notebook["cells"]:
        cell.get("metadata", {}).pop("nbgrader", None)
    cases["nbgrader-metadata-removed"] = notebook
    return cases


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    work = tmp_path_factory.mktemp("broken")
    notebooks: dict = {"honest": reference(), **metadata_tricks()}

    # The reference answers with the metadata stripped: still the student's code, still graded.
    answers_without_metadata = reference()
    for cell in answers_without_metadata["cells"]:
        cell.get("metadata", {}).pop("nbgrader", None)
    notebooks["answers-without-metadata"] = answers_without_metadata

    renamed = reference()
    for cell in cells_with(renamed, "predict"):
        cell["source"] = cell["source"].replace("def predict(", "def my_predict(")
    notebooks["renamed-function"] = renamed

    syntax = reference()
    for cell in cells_with(syntax, "fit_least_squares"):
        cell["source"] += "\nprint(\"unclosed\"\n"
    notebooks["syntax-error-in-one-cell"] = syntax

    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "def predict(x, m, b):\n    return m * x + b\n", "language": "python",
         "outputs": [], "metadata": {}}]}]}
    notebooks["nbformat-3"] = json.dumps(v3)
    notebooks["no-cells"] = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
    notebooks["latin-1"] = "{\"cells\": [], \"x\": \"caf\xe9\"}".encode("latin-1")

    big = reference()  # just under the size limit, as a notebook with large saved outputs would be
    big["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "big",
                         "source": "data " * ((MAX_FILE_BYTES - 200_000) // 5)})
    notebooks["large"] = big
    huge = reference()
    huge["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "huge",
                          "source": "data " * (MAX_FILE_BYTES // 5)})
    notebooks["over-the-limit"] = huge

    notebooks["José Núñez"] = reference()
    notebooks["with spaces"] = reference()
    notebooks["..dots"] = reference()
    run = grade_notebooks(ASSIGNMENT, notebooks, work, "--jobs", "2", timeout=900)
    return run, notebooks


def test_every_submission_has_exactly_one_row(batch):
    run, notebooks = batch
    assert set(run.rows) == set(notebooks) == set(run.results)


@pytest.mark.parametrize("name", list(metadata_tricks()))
def test_metadata_tricks_earn_nothing(batch, name):
    run, _ = batch
    assert run.results[name].auto_total == 0
    # points come from the template, never the submission
    assert float(run.rows[name]["max"]) == overall_max(ASSIGNMENTS[ASSIGNMENT])
    assert {q.status for q in run.results[name].questions.values()} == {"not attempted"}


def test_answers_are_graded_even_without_their_metadata(batch):
    run, _ = batch
    assert run.results["answers-without-metadata"].auto_total == FULL


def test_renamed_function_loses_only_its_question(batch):
    run, _ = batch
    questions = run.results["renamed-function"].questions
    assert questions["predict"].points == 0
    assert "not defined" in " ".join(c.message for c in run.checks("renamed-function", "predict"))
    assert sum(q.points for name, q in questions.items() if name != "predict") == FULL - POINTS["predict"]


def test_a_syntax_error_costs_only_its_cell(batch):
    run, _ = batch
    result = run.results["syntax-error-in-one-cell"]
    assert result.questions["fit_least_squares"].points == 0
    assert result.questions["fit_least_squares"].status == "failed"
    assert "SyntaxError" in " ".join(c.message for c in run.checks("syntax-error-in-one-cell", "fit_least_squares"))
    assert result.auto_total == FULL - POINTS["fit_least_squares"]


def test_old_empty_and_undecodable_notebooks(batch):
    run, _ = batch
    # nbformat 3 is upgraded and graded: its one function is a correct predict, and nothing else.
    assert run.results["nbformat-3"].status == "graded"
    assert run.results["nbformat-3"].questions["predict"].points == POINTS["predict"]
    assert run.results["nbformat-3"].auto_total == POINTS["predict"]
    assert run.results["no-cells"].auto_total == 0
    assert run.results["latin-1"].status == "unreadable" and "UTF-8" in run.results["latin-1"].message


def test_a_large_notebook_is_graded_and_one_over_the_limit_is_refused_with_the_fix(batch):
    run, _ = batch
    assert run.results["large"].auto_total == FULL
    refused = run.results["over-the-limit"]
    assert refused.status == "unreadable" and refused.auto_total == 0
    assert "clear the outputs" in refused.message.lower()


@pytest.mark.parametrize("student", ["José Núñez", "with spaces", "..dots"])
def test_odd_student_ids_keep_their_name_and_stay_inside_the_output(batch, student):
    run, _ = batch
    assert float(run.rows[student]["total"]) == FULL
    folder = student_folder(run.out, student)
    assert folder.parent == run.out / "feedback" and (folder / "results.json").exists()


def test_folder_names_cannot_escape_and_never_collide():
    odd = ["../evil", "..", ".", "/etc/passwd", "a/../../b", "", "x" * 500, "x" * 500 + "y", "__evil",
           "%2E%2E", "a b", "a%20b", "grades.csv", "alice~2", "José", "Jose\u0301", "a\x00b", "\ud800"]
    names = [folder_name(student) for student in odd]
    assert len(set(names)) == len(odd), "two ids share a folder"
    for name in names:
        assert "/" not in name and "\x00" not in name and not name.startswith(".") and 0 < len(name) <= 140
        name.encode("utf-8")  # valid text, writable as a file name
    assert folder_name("alice") == "alice" and folder_name("jane.doe@uni.edu") == "jane.doe@uni.edu"


def test_killed_batch_resumes_and_grades_each_submission_once(tmp_path):
    """SIGKILL the grader mid-batch, rerun: every submission graded exactly once, nothing lost."""
    submissions = tmp_path / "submissions"
    for number in range(12):
        write(reference() if number % 2 else stub(), submissions / f"student{number:02d}.ipynb")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT, str(submissions), "--out", str(out),
               "--quiet", "--jobs", "2"]
    process = subprocess.Popen(command, cwd=KIT_ROOT, start_new_session=True)
    database = out / "gradebook.sqlite"
    deadline = time.monotonic() + 120
    graded_before_kill = 0
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            try:
                graded_before_kill = sqlite3.connect(database).execute("SELECT COUNT(*) FROM grades").fetchone()[0]
            except sqlite3.Error:
                pass
        if graded_before_kill >= 3:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < graded_before_kill < 12, "the kill should land mid-batch"
    rerun = run_dlbasics("grade", ASSIGNMENT, submissions, "--out", out)
    run = read_outputs(out, rerun)
    assert len(run.rows) == 12 == len(run.results)
    reused = int(rerun.stdout.split("reused ")[1].split()[0])
    assert reused >= graded_before_kill - 1  # what was committed before the kill is not graded again
    for number in range(12):
        assert float(run.rows[f"student{number:02d}"]["total"]) == (FULL if number % 2 else 0)
