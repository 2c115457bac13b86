"""Written answers: one review page per question; scores come back from a CSV into the gradebook."""

from __future__ import annotations

from conftest import grade_notebooks, read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.grading.grade import load_template

ASSIGNMENT = "01-linear-regression"
FULL = sum(load_template(ASSIGNMENTS[ASSIGNMENT]).points.values())


def test_manual_scores_are_merged_without_regrading(solution_notebook, stub_notebook, tmp_path):
    run = grade_notebooks(ASSIGNMENT, {"ann": solution_notebook(ASSIGNMENT), "ben": stub_notebook(ASSIGNMENT)},
                          tmp_path)
    page = (run.out / "review" / "written_convergence.html").read_text()
    # ben left the answer untouched: it scores 0 by itself and is not listed for grading.
    assert "<h2>ann</h2>" in page and "<h2>ben</h2>" not in page
    assert run.rows["ann"]["written_convergence"] == "" and run.rows["ben"]["written_convergence"] == "0"

    scores = tmp_path / "scores.csv"
    scores.write_text("student,question,points,comment\nann,written_convergence,1.5,good\n"
                      "ben,written_convergence,0,no answer\n")
    gradebook = run.out / "gradebook.sqlite"
    run_dlbasics("import-scores", ASSIGNMENT, scores, "--gradebook", gradebook)
    again = run_dlbasics("grade", ASSIGNMENT, tmp_path / "submissions", "--out", run.out)
    assert "graded 0, reused 2" in again.stdout
    merged = read_outputs(run.out, again)
    assert merged.rows["ann"]["written_convergence"] == "1.5"
    assert float(merged.rows["ann"]["total"]) == FULL + 1.5
    assert float(merged.rows["ben"]["total"]) == 0
    gradescope = merged.gradescope("ann")
    assert gradescope["score"] == FULL + 1.5
    assert any(t["name"].startswith("written_convergence") and t["score"] == 1.5 for t in gradescope["tests"])


def test_a_bad_scores_file_is_rejected_whole(tmp_path):
    from autograder.grading.gradebook import Gradebook

    gradebook = tmp_path / "gradebook.sqlite"
    Gradebook(gradebook).close()  # an existing (empty) gradebook: a missing one is refused first
    bad = tmp_path / "bad.csv"
    bad.write_text("student,question,points\nann,written_convergence,lots\n")
    result = run_dlbasics("import-scores", ASSIGNMENT, bad, "--gradebook", gradebook, check=False)
    assert result.returncode == 2 and "bad.csv:2: points must be a number" in result.stderr
    assert "nothing was imported" in result.stderr
    wrong_columns = tmp_path / "columns.csv"
    wrong_columns.write_text("name,score\nann,1\n")
    result = run_dlbasics("import-scores", ASSIGNMENT, wrong_columns, "--gradebook", gradebook, check=False)
    assert result.returncode == 2 and "needs the columns student, question, points" in result.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("student,question,points\nann,predict,1\n")
    result = run_dlbasics("import-scores", ASSIGNMENT, unknown, "--gradebook", gradebook, check=False)
    assert result.returncode == 2 and "'predict' is not a hand-graded question" in result.stderr
    too_many = tmp_path / "too_many.csv"
    too_many.write_text("student,question,points\nann,written_convergence,5\n")
    result = run_dlbasics("import-scores", ASSIGNMENT, too_many, "--gradebook", gradebook, check=False)
    assert result.returncode == 2 and "outside 0..2" in result.stderr
