"""Written answers: one review page per question; scores come back from a CSV into the gradebook."""

from __future__ import annotations

import csv
import shlex

import pytest
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
    imported = run_dlbasics("import-scores", ASSIGNMENT, scores, "--gradebook", gradebook)
    # Located by --gradebook alone, the printed next step still works as printed (it adds --out).
    run_dlbasics(*_printed_command(imported.stdout, "now run"))
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


# --- the CSV round trip on a course (issue 23 item 7, issue 19 item 5) ------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from desk_class import graded_course

    return graded_course(tmp_path_factory.mktemp("scores-class"))


def _printed_command(stdout: str, marker: str) -> list[str]:
    """The `dlbasics ...` command a message tells the user to run next, as they would paste it."""
    line = stdout.split(marker, 1)[1].strip().strip("`").split("`")[0]
    words = shlex.split(line)
    assert words[0] == "dlbasics", line
    return words[1:]


def test_the_template_holds_each_answer_and_the_printed_next_steps_work(course, tmp_path):
    from desk_class import GOOD, QUESTION

    mine = course.copy(tmp_path / "course")
    made = run_dlbasics("scores-template", ASSIGNMENT, "--course", mine.root)
    with (mine.out / "manual-scores.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"ann", "ben", "cat", "dan", "eve", "fay", "gus"}  # zed submitted nothing
    assert rows["ann"]["answer"] == GOOD and rows["ann"]["max_points"] == "2" and rows["ann"]["points"] == ""
    assert rows["ben"]["points"] == "0" and rows["ben"]["answer"] == ""
    assert rows["cat"]["answer"].startswith("'#") or rows["cat"]["answer"].startswith("#")
    # Filled in as a grader would, then the command it printed, exactly as printed.
    with (mine.out / "manual-scores.csv").open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    for line in lines[1:]:
        if line[0] == "ann":
            line[3], line[4] = "1.5", "good"
    with (mine.out / "manual-scores.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(lines)
    imported = run_dlbasics(*_printed_command(made.stdout, "then:"))
    assert "imported 2 score(s)" in imported.stdout  # ann, and ben's blank answer pre-filled with 0
    run_dlbasics(*_printed_command(imported.stdout, "now run"))
    with (mine.out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        assert {r["student"]: r for r in csv.DictReader(handle)}["ann"][QUESTION] == "1.5"


def test_every_bad_line_is_reported_at_once_and_nothing_is_imported(course, tmp_path):
    from desk_class import QUESTION

    mine = course.copy(tmp_path / "course")
    scores = tmp_path / "scores.csv"
    scores.write_text("student,question,points,comment\n"
                      f"ann,{QUESTION},1,fine\n"  # line 2: good, but not imported with the rest
                      f"dan,{QUESTION},lots,\n"  # 3: not a number
                      f"zed,{QUESTION},1,\n"  # 4: on the roster, no submission (issue 19 item 5)
                      f"ben,{QUESTION},1,\n"  # 5: left the answer blank: only 0
                      f"nobody,{QUESTION},1,\n"  # 6: a typo
                      f"ann,{QUESTION},2,\n"  # 7: a second score
                      "eve,predict,1,\n"  # 8: not a written question
                      f"eve,{QUESTION},3,\n",  # 9: over the maximum
                      encoding="utf-8")
    result = run_dlbasics("import-scores", ASSIGNMENT, scores, "--course", mine.root, check=False)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "scores.csv:" in line]
    assert [int(line.split("scores.csv:")[1].split(":")[0]) for line in errors] == [3, 4, 5, 6, 7, 8, 9], \
        result.stderr
    assert "'zed' has no submission" in result.stderr and "'ben' wrote no answer" in result.stderr
    assert "first is on line 2" in result.stderr and "7 line(s) to fix; nothing was imported" in result.stderr
    from autograder.grading.gradebook import Gradebook

    gradebook = Gradebook(mine.gradebook, create=False)
    assert gradebook.manual_entries(ASSIGNMENT) == {}
    gradebook.close()


def test_a_gradebook_from_before_rubric_items_keeps_its_scores(tmp_path):
    """The manual_scores table as the first releases wrote it (no version, no adjust): opened, its
    scores stay whole, become version 1, and the points besides items are the whole score."""
    import sqlite3

    from autograder.grading.gradebook import Gradebook

    path = tmp_path / "gradebook.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE manual_scores (assignment TEXT NOT NULL, student TEXT NOT NULL, question TEXT NOT NULL, "
               "points REAL NOT NULL, comment TEXT NOT NULL DEFAULT '', answer_hash TEXT NOT NULL DEFAULT '', "
               "PRIMARY KEY (assignment, student, question))")
    db.execute("INSERT INTO manual_scores VALUES ('a', 'ann', 'q', 1.5, 'good', '')")
    db.commit()
    db.close()
    gradebook = Gradebook(path, create=False)
    entry = gradebook.manual_entries("a")["ann"]["q"]
    gradebook.close()
    assert (entry.points, entry.comment, entry.adjust, entry.version, entry.items) == (1.5, "good", 1.5, 1, ())
