"""Each step of one submission's grading (autograder.grading.grade.STEPS), alone, on made-up state."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.checks import ASSIGNMENTS
from autograder.context import GradingContext
from autograder.grading import grade
from autograder.grading.grade import STEPS, Grading, empty_result, finish_result, load_template
from autograder.selfcheck.status import Status

ASSIGNMENT = next(iter(ASSIGNMENTS.values()))
TEMPLATE = load_template(ASSIGNMENT)


def state(**given) -> Grading:
    return Grading(ASSIGNMENT, TEMPLATE, "alice", Path("alice.ipynb"), **{"worker": None, "context": None, **given})


def graded_result(status=Status.PASSED) -> grade.Result:
    """Every check with ``status`` (points when passed)."""
    result = empty_result(ASSIGNMENT, TEMPLATE, "alice", Path("alice.ipynb"), Status.GRADED, "", "h")
    for check in result.checks:
        check.status = status
        check.points = check.max_points if status == Status.PASSED else 0
    return finish_result(result, TEMPLATE)


def test_read_an_unreadable_file_is_the_students_row_without_a_hash(tmp_path):
    g = state()
    g.path = tmp_path / "missing.ipynb"
    grade.read(g)
    assert g.final and g.result.status == Status.UNREADABLE and g.result.hash == ""


def test_read_hashes_the_bytes_it_was_given():
    g = state(data=b"{}")
    grade.read(g)
    assert not g.final and g.sha == grade.digest(b"{}")


def test_parse_broken_bytes_is_an_unreadable_row_kept_with_its_hash():
    g = state(data=b"not a notebook", sha="abc")
    grade.parse(g)
    assert g.final and g.result.status == Status.UNREADABLE and g.result.hash == "abc" and g.data is None


def test_hidden_checks_do_not_run_without_a_context():
    g = state()
    g.session = object()  # never called: no context, no hidden check
    grade.run_hidden_checks(g)
    assert g.checks == []


def test_hidden_checks_get_the_students_own_key(monkeypatch):
    seen = []
    monkeypatch.setattr(grade, "run_check", lambda fn, student: seen.append(student.hidden_key))
    g = state(context=GradingContext("a course's secret seed"))
    g.session = object()
    grade.run_hidden_checks(g)
    assert seen and {key.student for key in seen} == {"alice"} and {key.assignment for key in seen} == {ASSIGNMENT.id}


def test_a_check_broken_inside_the_grader_makes_a_grader_error_row():
    g = state(result=graded_result())
    g.result.checks[0].status = Status.ERROR
    grade.mark_grader_faults(g)
    assert g.result.status == Status.GRADER_ERROR and g.result.checks[0].name in g.result.message


def test_nothing_implemented_is_not_attempted_and_something_implemented_is_graded():
    g = state(result=graded_result(Status.NOT_ATTEMPTED))
    grade.mark_not_attempted(g)
    assert g.result.status == Status.NOT_ATTEMPTED
    g = state(result=graded_result(Status.PASSED))
    grade.mark_not_attempted(g)
    assert g.result.status == Status.GRADED


def test_a_question_that_timed_out_is_named_in_the_rows_message():
    g = state(result=graded_result(Status.TIMEOUT))
    grade.say_what_ran_out_of_time(g)
    assert g.result.message.startswith("ran out of time in: ") and next(iter(TEMPLATE.points)) in g.result.message


def test_broken_cells_explain_a_missing_function():
    question = next(iter(TEMPLATE.points))
    g = state(result=None)
    g.checks = [grade.CheckResult("test_x", question, 0, 1, Status.NOT_ATTEMPTED, "not implemented", False)]
    g.cells = [{"label": question, "status": "error", "message": "Traceback\nNameError: name 'torhc' is not defined"}]
    grade.blame_broken_cells(g)
    assert g.checks[0].status == Status.FAILED and "torhc" in g.checks[0].message


@pytest.mark.parametrize("before,after", [
    ("draw_feedback_plots", "run_hidden_checks"),  # the picture never sees a hidden input
    ("run_public_checks", "run_hidden_checks"),
    ("close_session", "blame_broken_cells"),  # the cells' reports come with closing
    ("build_result", "mark_grader_faults"),
    ("mark_grader_faults", "mark_not_attempted"),  # a grader fault is never called "not attempted"
])
def test_the_order_of_the_steps(before, after):
    names = [step.__name__ for step in STEPS]
    assert names.index(before) < names.index(after)
