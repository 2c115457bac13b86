"""What a student reads is about the student; lists of answers hide who wrote them.

Feedback names cells as the student knows them (no internal cell ids), uses the roster's name,
gives times in the course's time zone next to the deadline and the extension, says "1 point" and
"2 points", and says nothing of the grader's machine. Pseudonymous lists are in the order of the
pseudonyms, the choice is remembered by the gradebook, and a new course keeps its roster out of git.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess

import pytest

from autograder.checks import ASSIGNMENTS
from autograder.course import Course, LatePolicy, Student
from autograder.grading.grade import load_template
from autograder.grading.gradebook import Gradebook
from autograder.grading.result import Result
from autograder.report import feedback, grades_csv, gradescope, review
from autograder.report.outputs import marks

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]
ISOLATION = "isolation reduced: this machine does not let the grader create namespaces"


def result_for(student: str, cells=(), submitted_at="2026-12-05T10:30:00+00:00") -> Result:
    result = Result.from_json({
        "assignment": ASSIGNMENT.id, "student": student, "status": "graded", "file": "x",
        "isolation_note": ISOLATION, "auto_total": 17.0, "auto_max": 18.0, "max_points": 20.0,
        "questions": {"predict": {"points": 2.0, "max_points": 3.0, "status": "partial"}},
        "checks": [{"name": "test_predict", "question": "predict", "points": 2.0, "max_points": 3.0,
                    "status": "failed", "message": "item 0 is 1.5", "hidden": False}],
        "cells": [{"label": label, "status": "error", "message": "boom"} for label in cells],
        "written": {"written_convergence": {"max_points": 2, "answer": "because", "untouched": False}},
        "submitted_at": submitted_at,
    })
    return result


@pytest.fixture(scope="module")
def template():
    return load_template(ASSIGNMENT)


def course(tmp_path, extension=0.0) -> Course:
    due = dt.datetime(2026, 12, 4, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    return Course(root=tmp_path, seed="s" * 32, late=LatePolicy(per_day=0.05, cap=0.5, grace_minutes=15),
                  due={ASSIGNMENT.id: due}, extensions={"alice": {ASSIGNMENT.id: extension}} if extension else {},
                  roster=[Student("alice", "Alice Liddell"), Student("bob")])


def test_cells_are_named_in_the_students_words(template):
    describe = feedback.describe_cell
    assert describe("added after md_summary #1", template) == "the cell you added in the section “Summary”"
    assert describe("added after predict #2", template) == "the second cell you added after your answer predict"
    assert feedback.describe_cell("added after story_compare #1", template) == \
        "the cell you added in the section “Trained line vs least-squares line”"
    assert feedback.describe_cell("predict (copy 2)", template) == "the second copy of your answer predict"
    assert feedback.describe_cell("setup", template) == "the setup cell"


def test_feedback_is_about_the_student(tmp_path, template):
    the_course = course(tmp_path, extension=1)
    result = result_for("alice", ["added after md_summary #1"], submitted_at="2026-12-06T09:00:00+00:00")
    mark = marks(result, {}, the_course)
    page = feedback.render(result, mark=mark, course=the_course, template=template)
    assert "feedback for Alice Liddell" in page and "Feedback: 01-linear-regression · Alice Liddell" in page
    assert "md_summary" not in page and "The cell you added in the section “Summary”: failed" in page
    assert "isolation" not in page.lower() and "namespace" not in page
    # The deadline, the extension's new deadline and the submission, in the course's zone (UTC+01:00).
    assert "Deadline: 2026-12-04 23:59 (UTC+01:00)." in page
    assert "Your extension: 1 day, to 2026-12-05 23:59 (UTC+01:00)." in page
    assert "Submitted: 2026-12-06 10:00 (UTC+01:00)." in page
    assert "1 day late: 1 point off." in page, page
    assert "plus 1 written answer graded by hand" in page
    result.message = "ran out of time in: cell added after md_summary #1"
    page = feedback.render(result, mark=mark, course=the_course, template=template)
    assert "ran out of time in: the cell you added in the section “Summary”" in page
    # Without a roster name, the id.
    assert "feedback for bob" in feedback.render(result_for("bob"), course=the_course, template=template)


def test_plurals():
    assert [feedback.plural(n, "point") for n in (0, 1, 2, 0.5, 1.0)] == [
        "0 points", "1 point", "2 points", "0.5 points", "1 point"]
    assert feedback.plural(3, "day") == "3 days"


def test_results_json_keeps_the_machine_for_the_instructor(tmp_path):
    result = result_for("alice")
    data = gradescope.results_json(result, marks(result), manual_tests=False)
    visible = [t for t in data["tests"] if t["visibility"] != "hidden"]
    assert ISOLATION not in data["output"] and not any(ISOLATION in t["output"] for t in visible)
    # Gradescope never shows a "hidden" test to students; the instructor sees it.
    assert [t for t in data["tests"] if t["visibility"] == "hidden" and ISOLATION in t["output"]]
    assert "1 written answer (2 points) graded by hand" in data["output"]
    # The instructor's grades.csv says it in the note column.
    rows = list(csv.DictReader(io.StringIO(grades_csv.render([result], ["predict"], []))))
    assert ISOLATION in rows[0]["note"]


def test_pseudonyms_are_keyed_by_the_given_seed():
    assert review.pseudonym("alice", "seed-one-0123456789") != review.pseudonym("alice", "seed-two-0123456789")
    assert review.pseudonym("alice", "seed-one-0123456789") == review.pseudonym("alice", "seed-one-0123456789")
    with pytest.raises(ValueError):
        review.pseudonym("alice", "")


STUDENTS = [f"s{n:02d}" for n in range(12)]  # real ids in alphabetical order


def gradebook_of_answers(out):
    gradebook = Gradebook(out / "gradebook.sqlite")
    for student in STUDENTS:
        gradebook.record(Result.from_json({
            "assignment": ASSIGNMENT.id, "student": student, "status": "graded", "file": "x",
            "questions": {q: {"points": 0.0, "max_points": points, "status": "failed"}
                          for q, points in load_template(ASSIGNMENT).points.items()},
            "written": {"written_convergence": {"max_points": 2, "untouched": False,
                                                "answer": f"answer number {STUDENTS.index(student) * 7}"}}}), "v")
    return gradebook


def scores_template_ids(out, *flags) -> list[str]:
    from autograder.cli import main

    assert main(["scores-template", ASSIGNMENT.id, "--out", str(out), *flags]) == 0
    rows = list(csv.DictReader(io.StringIO((out / "manual-scores.csv").read_text(encoding="utf-8"))))
    return [row["student"] for row in rows]


def test_anonymous_lists_are_in_pseudonym_order_and_the_choice_is_remembered(tmp_path):
    from autograder.cli import main
    from autograder.context import environment_seed, resolve_seed

    out = tmp_path / "out"
    gradebook_of_answers(out).close()
    anonymous = scores_template_ids(out, "--anonymous")
    seed = resolve_seed(None, out, environment_seed())[0]  # what the pseudonyms were keyed with
    assert all(s.startswith("anon-") for s in anonymous)
    # In the pseudonyms' order, so the order says nothing of the real ids'.
    assert anonymous == sorted(anonymous)
    real_order = [review.pseudonym(s, seed) for s in STUDENTS]
    assert anonymous != real_order  # (12 random names: equal by chance with probability 1/12!)
    # Remembered: the next run without the flag is anonymous too, and so are the review pages.
    assert scores_template_ids(out) == anonymous
    assert main(["report", ASSIGNMENT.id, "--out", str(out)]) == 0
    page = (out / "review" / "written_convergence.html").read_text(encoding="utf-8")
    assert not any(f"<h2>{s}<" in page for s in STUDENTS) and anonymous[0] in page
    shown = [name for name in anonymous if name in page]
    assert sorted(shown, key=page.index) == anonymous
    # --names turns it off, and that is remembered too.
    assert scores_template_ids(out, "--names") == STUDENTS
    assert scores_template_ids(out) == STUDENTS
    # import-scores maps the pseudonyms back.
    (tmp_path / "scores.csv").write_text(f"student,question,points\n{anonymous[0]},written_convergence,2\n")
    assert main(["import-scores", ASSIGNMENT.id, str(tmp_path / "scores.csv"), "--out", str(out)]) == 0
    gradebook = Gradebook(out / "gradebook.sqlite", create=False)
    owner = {review.pseudonym(s, seed): s for s in STUDENTS}[anonymous[0]]
    assert gradebook.manual(ASSIGNMENT.id) == {owner: {"written_convergence": 2.0}}
    gradebook.close()


def test_drop_and_rename_keep_a_remembered_anonymous_choice(tmp_path):
    """drop and rename rewrite the outputs; a remembered --anonymous stays on (they once passed
    anonymous=False and so turned it off: the review page named every student again)."""
    from autograder.cli import main

    out = tmp_path / "out"
    gradebook_of_answers(out).close()
    anonymous = scores_template_ids(out, "--anonymous")
    page = out / "review" / "written_convergence.html"
    assert main(["report", ASSIGNMENT.id, "--out", str(out)]) == 0
    assert not any(f"<h2>{s}<" in page.read_text(encoding="utf-8") for s in STUDENTS)
    for verb in (["drop", ASSIGNMENT.id, STUDENTS[0]], ["rename", ASSIGNMENT.id, STUDENTS[1], "zed-renamed"]):
        assert main([*verb, "--out", str(out)]) == 0, verb
        text = page.read_text(encoding="utf-8")
        assert not any(f"<h2>{s}<" in text for s in [*STUDENTS, "zed-renamed"]), verb
        assert sum(name in text for name in anonymous) >= len(STUDENTS) - 2, verb
        assert scores_template_ids(out) == sorted(scores_template_ids(out))  # still pseudonyms, in their order
        assert all(s.startswith("anon-") for s in scores_template_ids(out))


def test_a_new_course_keeps_the_roster_seed_and_grades_out_of_git(tmp_path):
    from autograder.course import init

    root = tmp_path / "course"
    init(root)
    ignored = (root / ".gitignore").read_text().splitlines()
    assert {"roster.csv", "secret.toml", "grades/"} <= set(ignored)
    assert oct((root / "roster.csv").stat().st_mode & 0o777) == "0o600"
    # git itself agrees: nothing of them would be committed.
    (root / "grades").mkdir()
    (root / "grades" / "grades.csv").write_text("x")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    listed = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout
    assert "roster.csv" not in listed and "secret.toml" not in listed and "grades" not in listed
    assert "course.toml" in listed


def test_expected_figures_are_drawn_once_per_content(tmp_path, monkeypatch):
    module = ASSIGNMENT.check_module()
    first = feedback.expected_plots(ASSIGNMENT, tmp_path / "plot-cache")
    assert first and all(isinstance(v, str) for v in first.values())

    def drawn_again():
        raise AssertionError("the expected figures were drawn again")

    monkeypatch.setattr(module, "expected_plots", drawn_again)
    assert feedback.expected_plots(ASSIGNMENT, tmp_path / "plot-cache") == first
    # Another kit or library version is another key: drawn again.
    monkeypatch.setattr(feedback, "_plots_key", lambda assignment: "another")
    with pytest.raises(AssertionError, match="drawn again"):
        feedback.expected_plots(ASSIGNMENT, tmp_path / "plot-cache")
