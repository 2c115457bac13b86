"""The reference solutions get full marks, the stubs get zero, in every output."""

from __future__ import annotations

import pytest
from conftest import grade_notebooks, run_dlbasics

from autograder.checks import ASSIGNMENTS


@pytest.fixture(scope="module", params=list(ASSIGNMENTS))
def graded(request, tmp_path_factory):
    from autograder.notebook.fill import fill, solution_answers

    assignment = ASSIGNMENTS[request.param]
    notebooks = {"reference": fill(assignment, solution_answers(assignment)), "stub": fill(assignment, {})}
    return request.param, grade_notebooks(request.param, notebooks, tmp_path_factory.mktemp(request.param))


def test_reference_gets_every_automatic_point(graded):
    _, run = graded
    result = run.results["reference"]
    assert result.status == "graded"
    assert result.auto_total == result.auto_max > 0
    assert all(q.status == "passed" for q in result.questions.values())
    row = run.rows["reference"]
    assert float(row["total"]) == result.auto_max
    gradescope = run.gradescope("reference")
    assert gradescope["score"] == result.auto_max
    assert all(t["score"] == t["max_score"] for t in gradescope["tests"] if "by hand" not in t["name"])


def test_stub_gets_zero_and_not_attempted(graded):
    _, run = graded
    result = run.results["stub"]
    assert result.auto_total == 0
    assert {q.status for q in result.questions.values()} == {"not attempted"}
    assert result.status == "not attempted"
    row = run.rows["stub"]
    assert float(row["total"]) == 0 and row["status"] == "not attempted"
    for question in result.questions:
        assert float(row[question]) == 0
    assert run.gradescope("stub")["score"] == 0
    assert all("**not attempted**" in t["output"]
               for t in run.gradescope("stub")["tests"] if "by hand" not in t["name"])


def test_written_answers_are_collected_for_review(graded):
    assignment_id, run = graded
    reference = run.results["reference"].written
    assert reference and all(w.answer.strip() for w in reference.values())
    for question in reference:
        page = (run.out / "review" / f"{question}.html").read_text()
        # The stub's answer is untouched: it scores 0 by itself and is not listed for grading.
        assert "<h2>reference</h2>" in page and "<h2>stub</h2>" not in page and "left untouched" in page
        assert run.results["stub"].written[question].untouched


def test_rerun_reuses_the_gradebook_and_gives_identical_grades(graded, tmp_path):
    assignment_id, run = graded
    before = (run.out / "grades.csv").read_text()
    again = run_dlbasics("grade", assignment_id, run.out.parent / "submissions", "--out", run.out)
    assert "graded 0, reused 2" in again.stdout
    assert (run.out / "grades.csv").read_text() == before


def test_a_fresh_regrade_gives_identical_grades(graded, tmp_path):
    assignment_id, run = graded
    fresh = tmp_path / "fresh"
    run_dlbasics("grade", assignment_id, run.out.parent / "submissions", "--out", fresh, "--quiet", "--jobs", "1")
    assert (fresh / "grades.csv").read_text() == (run.out / "grades.csv").read_text()


def test_answers_that_use_randomness_grade_the_same_every_time(solution_notebook, tmp_path, monkeypatch):
    """Every cell and call starts from the same seeds (random, numpy, torch)."""
    monkeypatch.setenv("DLBASICS_SEED", "one seed for both runs")  # the same hidden inputs twice
    noisy = ("import random, numpy, torch\n"
             "def predict(x, m, b):\n"
             "    jitter = random.random() + numpy.random.rand() + torch.rand(1).item()\n"
             "    return m * x + b + (jitter if jitter > 1.5 else 0.0)\n")
    notebooks = {"dice": solution_notebook("01-linear-regression", {"predict": noisy})}
    first = grade_notebooks("01-linear-regression", notebooks, tmp_path / "first")
    second = grade_notebooks("01-linear-regression", notebooks, tmp_path / "second")
    assert [c.points for c in first.checks("dice")] == [c.points for c in second.checks("dice")]
    # Everything but the submission time (each run wrote its own copy of the file) is identical.
    assert {k: v for k, v in first.rows["dice"].items() if k != "submitted"} == \
        {k: v for k, v in second.rows["dice"].items() if k != "submitted"}
