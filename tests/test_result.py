"""The result of a grade is typed data: it survives the gradebook and the wire, and nothing else passes for it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.context import GradingContext
from autograder.grading.batch import Batch
from autograder.grading.grade import empty_result, finish_result, load_template
from autograder.grading.gradebook import Gradebook, GradebookCorrupt
from autograder.grading.intake import Submission
from autograder.grading.result import BadResult, CellOutcome, QuestionResult, Result, WrittenAnswer
from autograder.selfcheck.api import CheckResult
from autograder.selfcheck.status import Status

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]


def graded(student: str = "alice") -> Result:
    """A result with every kind of part: a passed and a failed check, a cell, a written answer."""
    template = load_template(ASSIGNMENT)
    result = empty_result(ASSIGNMENT, template, student, Path(f"{student}.ipynb"), Status.GRADED, "", "h1")
    result.questions, result.written = {}, {}
    for number, check in enumerate(result.checks):
        check.status = Status.PASSED if number % 2 else Status.FAILED
        check.points = check.max_points if number % 2 else 0
        check.mistake = None if number % 2 else "slope and intercept are swapped"
    result.cells = [CellOutcome("predict", Status.FAILED, "ValueError: no")]
    result.plots, result.seconds, result.submitted_at = {"plot_regression": "iVBOR"}, 1.5, "2026-11-20T10:00:00+00:00"
    return finish_result(result, template, {next(iter(template.written)): "Because the intercept is slow."})


def test_a_result_survives_json_unchanged_and_keeps_its_types():
    result = graded()
    again = Result.from_json(json.loads(json.dumps(result.to_json())))
    assert again == result
    assert isinstance(again.status, Status) and all(isinstance(c.status, Status) for c in again.checks)
    assert all(isinstance(q, QuestionResult) and isinstance(q.status, Status) for q in again.questions.values())
    assert all(isinstance(w, WrittenAnswer) for w in again.written.values())
    assert again.questions["fit_least_squares"].mistakes or again.questions["predict"].mistakes
    assert 0 < again.auto_total < again.auto_max


def test_an_older_gradebook_row_loads_with_defaults():
    """A row stored before plots, seconds, submitted_at and typed cells existed."""
    old = graded().to_json()
    for key in ("plots", "seconds", "submitted_at", "traceback", "notes"):
        del old[key]
    old["cells"] = [{"label": "predict", "status": "error", "message": "boom"}]  # the child's old word
    for check in old["checks"]:
        del check["seconds"]
    old["retired_key"] = 1
    result = Result.from_json(old)
    assert result.plots == {} and result.seconds == 0.0 and result.submitted_at is None
    assert result.cells == [CellOutcome("predict", Status.FAILED, "boom")]


@pytest.mark.parametrize("damage", [
    lambda r: "not a result",
    lambda r: [r],
    lambda r: {k: v for k, v in r.items() if k != "student"},
    lambda r: {**r, "status": "excellent"},  # not a status
    lambda r: {**r, "student": ["alice"]},
    lambda r: {**r, "auto_total": "18"},  # a number as text
    lambda r: {**r, "auto_total": True},
    lambda r: {**r, "questions": {"predict": {"points": 3}}},
    lambda r: {**r, "checks": [{**r["checks"][0], "points": "3"}]},
    lambda r: {**r, "checks": [{**r["checks"][0], "status": "PASSED!"}]},
    lambda r: {**r, "written": {"w": {"answer": "x"}}},
    lambda r: {**r, "cells": ["ok"]},
], ids=["text", "list", "no student", "unknown status", "student a list", "points as text", "a bool",
        "question without max", "check points as text", "check status unknown", "written without max",
        "cell not a dict"])
def test_what_is_not_a_result_is_refused(damage):
    with pytest.raises(BadResult):
        Result.from_json(damage(graded().to_json()))


def test_text_from_json_is_made_valid():
    data = graded().to_json()
    data["checks"][0]["message"] = "bad \ud800 text"
    data["student"] = "x\udcff"
    result = Result.from_json(data)
    assert "\ud800" not in result.checks[0].message and result.checks[0].message.startswith("bad ")
    result.student.encode("utf-8")  # no lone surrogate left


def test_a_corrupted_gradebook_row_is_a_clear_error_not_a_traceback(tmp_path):
    out = tmp_path / "out"
    gradebook = Gradebook(out / "gradebook.sqlite")
    gradebook.record(graded("alice"), "v1")
    gradebook.record(graded("bob"), "v1")
    gradebook.close()
    db = sqlite3.connect(out / "gradebook.sqlite")
    db.execute("UPDATE grades SET result=? WHERE student='bob'", (json.dumps({"student": "bob", "points": "all"}),))
    db.commit()
    db.close()
    with pytest.raises(GradebookCorrupt, match="not a grading result"):
        Gradebook(out / "gradebook.sqlite").results(ASSIGNMENT.id)
    run = run_dlbasics("report", ASSIGNMENT.id, "--out", out, check=False, env={"DLBASICS_SEED": "s" * 20})
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "not a grading result" in run.stderr and "backup" in run.stderr


def _finished(value):
    """A future (as the Dask executor hands them to the batch) that finished with ``value``."""
    import concurrent.futures

    future = concurrent.futures.Future()
    future.set_result(value)
    return future


@pytest.mark.parametrize("reply", [
    "{}", "[1, 2]", "null", json.dumps({"assignment": ASSIGNMENT.id, "student": "alice", "hash": "h1"}),
    "[" * 100_000, {"not": "text"}, '"' + "x" * 5_000_000 + '"',
])
def test_a_cluster_reply_that_is_not_a_result_is_a_grader_error(reply):
    pytest.importorskip("distributed")
    from autograder.grading.cluster import DaskExecutor

    run = DaskExecutor.__new__(DaskExecutor)
    run.batch = Batch(ASSIGNMENT, GradingContext("a course's secret seed"))
    submission = Submission("alice", Path("alice.ipynb"))
    result = run.result(_finished(reply), submission, "h1")
    assert result.status == Status.GRADER_ERROR and result.auto_total == 0
    assert "not a result" in result.message
    good = run.result(_finished(json.dumps(graded().to_json())), submission, "h1")
    assert good.status == Status.GRADED and good.auto_total == graded().auto_total
    assert isinstance(good.checks[0], CheckResult)


def test_a_forged_cell_report_is_the_submissions_doing_not_a_grader_error():
    """The child runs the student's code, which can write anything as its cell reports."""
    from autograder.grading.grade import _child_cells

    forged = [{"label": 5, "status": "owned", "message": ["x"]}, "not a cell", {"status": "ok"},
              {"label": "predict", "status": "timeout", "message": None}]
    cells = _child_cells(forged)
    assert [c["status"] for c in cells] == ["error", "ok", "timeout"]
    data = {**graded().to_json(), "cells": cells}
    result = Result.from_json(data)  # no BadResult: nothing here can make the row a grader error
    assert [c.status for c in result.cells] == [Status.FAILED, Status.OK, Status.TIMEOUT]
    assert result.cells[0].label == "5" and _child_cells("nonsense") == []
    assert _child_cells([{"label": "x", "status": ["ok"]}])[0]["status"] == "error"  # unhashable: no crash
