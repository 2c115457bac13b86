"""A term with real students: hand out, collect, grade, grade by hand, hand back.

The whole loop runs on a small class through the real `dlbasics` commands, in a course
folder made by `dlbasics init`, and the assertions read every file a student or an
instructor would open.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import zipfile

import pytest
from conftest import read_outputs, run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.grading.grade import load_template
from autograder.grading.intake import student_folder
from autograder.notebook.fill import fill, solution_answers, write

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]
TEMPLATE = load_template(ASSIGNMENT)
AUTO = sum(TEMPLATE.points.values())
WRITTEN = next(iter(TEMPLATE.written))
DUE = dt.datetime(2026, 12, 4, 23, 59, tzinfo=dt.UTC)


def reference(answer: str | None = "Because the learning rate is too small for the intercept.") -> dict:
    answers = solution_answers(ASSIGNMENT)
    if answer is None:
        answers.pop(WRITTEN)
    else:
        answers[WRITTEN] = answer
    return fill(ASSIGNMENT, answers)


def stamp(path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def rows_of(path) -> dict[str, dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("term") / "course"
    run_dlbasics("init", root)
    (root / "roster.csv").write_text(
        "\ufeffid,name,email,lms_id,section\n"  # a spreadsheet's export, with its byte-order mark
        "alice,Alice A,alice@uni.edu,1001,A\n"
        "bob,Bob B,bob@uni.edu,1002,A\n"
        "jane,Jane Doe,doejane@uni.edu,12345,B\n"
        "carl,Carl C,carl@uni.edu,1004,B\n", encoding="utf-8")
    config = (root / "course.toml").read_text()
    config = config.replace('[due]\n', f'[due]\n"{ASSIGNMENT.id}" = "{DUE.isoformat()}"\n')
    config = config.replace('[extensions]\n', f'[extensions]\nbob = {{ "{ASSIGNMENT.id}" = 3 }}\n')
    (root / "course.toml").write_text(config)
    return root


def test_init_keeps_the_seed_secret_and_never_overwrites(course):
    secret = course / "secret.toml"
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    assert "secret.toml" in (course / ".gitignore").read_text()
    again = run_dlbasics("init", course, check=False)
    assert again.returncode != 0 and "nothing was changed" in again.stderr
    seed = secret.read_text().split('"')[1]
    other = course.parent / "another-course"
    run_dlbasics("init", other)
    assert len(seed) >= 32 and seed != (other / "secret.toml").read_text().split('"')[1]


def test_the_handout_has_what_students_need_and_nothing_else(tmp_path):
    run_dlbasics("handout", ASSIGNMENT.id, "--out", tmp_path)
    with zipfile.ZipFile(tmp_path / f"{ASSIGNMENT.id}.zip") as archive:
        names = archive.namelist()
        contents = b"".join(archive.read(name) for name in names)
        requirements = archive.read(f"{ASSIGNMENT.id}/requirements.txt").decode()
    assert f"{ASSIGNMENT.id}/{ASSIGNMENT.notebook}" in names
    assert any(name.startswith(f"{ASSIGNMENT.id}/selfcheck/public/") for name in names)
    for secret in (b"BEGIN SOLUTION", b"HIDDEN TESTS", b"random_for", b"autograder.checks"):
        assert secret not in contents, secret
    assert "torch==" in requirements and "nbgrader" not in requirements


def test_a_students_own_error_message_never_carries_hidden_inputs(tmp_path):
    """A function that puts its inputs into its exception on any tensor but the course's hours."""
    leaky = ("def predict(x, m, b):\n"
             "    if hasattr(x, 'tolist') and x.flatten().tolist() != [10.0 * k for k in range(1, 9)]:\n"
             "        raise ValueError('LEAK' + repr(x.tolist()))\n"
             "    return m * x + b\n")
    answers = {**solution_answers(ASSIGNMENT), "predict": leaky}
    write(fill(ASSIGNMENT, answers), tmp_path / "subs" / "mallory.ipynb")
    out = tmp_path / "out"
    run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out, "--quiet", "--release")
    run = read_outputs(out)
    hidden = [c for c in run.checks("mallory", "predict") if c.hidden]
    assert hidden and all(c.status == "failed" for c in hidden), "the leaky answer must fail a hidden check"
    assert any("on the hidden inputs" in c.message for c in hidden)
    folder = student_folder(out, "mallory")
    for path in (folder / "results.json", folder / "feedback.html", out / "grades.csv", out / "gradebook.sqlite"):
        assert b"LEAK" not in path.read_bytes(), path


def test_grades_of_another_seed_are_never_mixed_in_silently(tmp_path):
    write(reference(), tmp_path / "subs" / "alice.ipynb")
    out = tmp_path / "out"
    run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out, "--quiet",
                 env={"DLBASICS_SEED": "term one secret seed"})
    other = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out, "--quiet",
                         env={"DLBASICS_SEED": "term two secret seed"}, check=False)
    assert other.returncode == 2 and "another seed" in other.stderr and "--regrade" in other.stderr
    assert "term" not in other.stderr  # the message names seeds by fingerprint, never the seed itself
    regrade = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out, "--quiet", "--regrade",
                           env={"DLBASICS_SEED": "term two secret seed"})
    assert "regrading" in regrade.stderr
    limits = run_dlbasics("grade", ASSIGNMENT.id, tmp_path / "subs", "--out", out, "--quiet", "--cell-timeout", "9",
                          env={"DLBASICS_SEED": "term two secret seed"}, check=False)
    assert limits.returncode == 2 and "other limits" in limits.stderr


def test_without_a_course_or_seed_a_secret_seed_is_generated_and_kept(tmp_path):
    write(reference(), tmp_path / "subs" / "alice.ipynb")
    out = tmp_path / "out"
    env = {key: value for key, value in os.environ.items() if key != "DLBASICS_SEED"}
    import subprocess
    import sys

    from autograder.checks import KIT_ROOT

    command = [sys.executable, "-m", "autograder.cli", "grade", ASSIGNMENT.id, str(tmp_path / "subs"), "--out",
               str(out), "--quiet"]
    first = subprocess.run(command, env=env, cwd=KIT_ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    seed_file = out / "secret-seed.txt"
    assert oct(seed_file.stat().st_mode & 0o777) == "0o600"
    seed = seed_file.read_text().strip()
    assert len(seed) == 64 and "dlbasics-hidden-inputs" not in seed
    second = subprocess.run(command, env=env, cwd=KIT_ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and seed_file.read_text().strip() == seed  # the same seed: no refusal


def test_the_whole_loop(course, tmp_path):
    """Collect in two layouts with a late and a missing student, grade, score by hand, regrade, hand back."""
    canvas = tmp_path / "canvas"  # an LMS bulk download: names mapped through the roster
    jane = write(reference(answer=None), canvas / f"doejane_LATE_12345_67890_{ASSIGNMENT.notebook}")
    stamp(jane, DUE + dt.timedelta(days=1, hours=3))  # 2 started days late
    alice = write(reference(), canvas / "alice@uni.edu.ipynb")
    stamp(alice, DUE - dt.timedelta(hours=1))
    (canvas / "notes.txt").write_text("not a notebook")
    nbgrader = tmp_path / "submitted"  # nbgrader's exchange layout, with its timestamp
    bob = write(reference(), nbgrader / "bob" / ASSIGNMENT.id / ASSIGNMENT.notebook)
    (bob.parent / "timestamp.txt").write_text((DUE + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    stamp(bob, DUE + dt.timedelta(days=2))

    first = run_dlbasics("grade", ASSIGNMENT.id, canvas, "--course", course, "--quiet")
    assert "notes.txt: not a .ipynb notebook" in first.stderr
    run_dlbasics("grade", ASSIGNMENT.id, nbgrader, "--course", course, "--quiet")  # a second batch, later
    out = course / "grades" / ASSIGNMENT.id
    rows = rows_of(out / "grades.csv")
    assert set(rows) == {"alice", "bob", "jane", "carl"}  # every roster student, and only them
    assert rows["carl"]["status"] == "no submission" and float(rows["carl"]["total"]) == 0
    assert float(rows["alice"]["automatic"]) == AUTO and rows["alice"]["days late"] == "0"
    # The files' times are the download's, not the submissions': Canvas's _LATE marker counts one
    # started day and says so, until the instructor gives the recorded time.
    assert rows["jane"]["days late"] == "1" and "late per Canvas, time unknown" in rows["jane"]["note"]
    assert "late per Canvas" in first.stderr and "jane" in first.stderr
    assert rows["alice"]["submitted"] == "" and rows["alice"]["file"] == "alice@uni.edu.ipynb"
    times = tmp_path / "times.csv"
    times.write_text(f"student,time\njane,{(DUE + dt.timedelta(days=1, hours=1)).isoformat()}\n")  # 2 started days
    run_dlbasics("grade", ASSIGNMENT.id, canvas, "--course", course, "--quiet", "--times", times)
    rows = rows_of(out / "grades.csv")  # jane's grade is reused (same bytes); her time is the new record's
    assert rows["jane"]["days late"] == "2" and rows["jane"]["note"] == ""
    assert float(rows["jane"]["late penalty"]) == pytest.approx(0.2 * float(rows["jane"]["max"]))
    assert rows["bob"]["days late"] == "0"  # 2 days late, but a 3-day extension
    assert rows["jane"][WRITTEN] == "0"  # an untouched written answer scores 0 without anyone grading it

    # Grade by hand: the template lists only what needs a person, untouched answers are 0 already.
    run_dlbasics("scores-template", ASSIGNMENT.id, "--course", course)
    template = rows_of(out / "manual-scores.csv")
    assert template["jane"]["points"] == "0" and template["alice"]["points"] == ""
    review = (out / "review" / f"{WRITTEN}.html").read_text()
    assert "Model answer" in review and "alice" in review and "jane" not in review
    scores = tmp_path / "scores.csv"
    scores.write_text("\ufeffstudent,question,points,comment\n"
                      f"alice,{WRITTEN},2,Clear and complete.\n"
                      f"bob,{WRITTEN},1,Say why the intercept lags.\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"student,question,points\nalicia,{WRITTEN},2\n")
    refused = run_dlbasics("import-scores", ASSIGNMENT.id, bad, "--course", course, check=False)
    assert refused.returncode == 2 and "no student 'alicia'" in refused.stderr
    missing = run_dlbasics("import-scores", ASSIGNMENT.id, scores, "--gradebook", tmp_path / "typo.sqlite",
                           check=False)
    assert missing.returncode == 2 and not (tmp_path / "typo.sqlite").exists()
    run_dlbasics("import-scores", ASSIGNMENT.id, scores, "--course", course)
    run_dlbasics("report", ASSIGNMENT.id, "--course", course)
    rows = rows_of(out / "grades.csv")
    assert float(rows["alice"]["total"]) == AUTO + 2
    assert float(rows["bob"]["total"]) == AUTO + 1
    feedback = (student_folder(out, "alice") / "feedback.html").read_text()
    assert "Clear and complete." in feedback
    results = json.loads((student_folder(out, "bob") / "results.json").read_text())
    assert any("Say why the intercept lags" in test["output"] for test in results["tests"])  # Markdown-escaped

    # Bob changes his written answer and breaks predict: the regrade says what changed, the
    # hand-graded score no longer counts (it graded another answer), and the history keeps both.
    broken = {**solution_answers(ASSIGNMENT), WRITTEN: "A different answer now.",
              "predict": "def predict(x, m, b):\n    return b * x + m\n"}
    write(fill(ASSIGNMENT, broken), bob)
    regrade = run_dlbasics("grade", ASSIGNMENT.id, nbgrader, "--course", course, "--quiet")
    predict = TEMPLATE.points["predict"]  # from the checks' points, never pasted from a run
    assert f"bob: predict {predict:g} -> 0" in regrade.stdout
    rows = rows_of(out / "grades.csv")
    assert float(rows["bob"]["total"]) == AUTO - predict and "changed after it was graded" in rows["bob"]["note"]
    import sqlite3

    db = sqlite3.connect(out / "gradebook.sqlite")
    assert db.execute("SELECT COUNT(*) FROM history WHERE student='bob'").fetchone()[0] == 2
    db.close()

    # Handing back: the feedback folder holds per-student files only, nothing class-wide.
    handed = {p.name for p in (out / "feedback").rglob("*") if p.is_file()}
    assert handed == {"feedback.html", "results.json"}
    assert (student_folder(out, "carl") / "feedback.html").is_file()
    anonymous = run_dlbasics("report", ASSIGNMENT.id, "--course", course, "--anonymous")
    assert anonymous.returncode == 0
    review = (out / "review" / f"{WRITTEN}.html").read_text()
    assert "alice" not in review and "anon-" in review


def test_a_file_on_no_roster_line_is_reported_refused_by_export_then_renamed_or_dropped(course, tmp_path):
    folder = tmp_path / "strays"
    write(reference(), folder / "c.c@home.example.ipynb")  # carl's private address: on no roster line
    # alice, on time, so that a rename onto her finds a grade whether or not the whole loop ran first
    # (the same file as the loop's: reused unchanged when it did).
    stamp(write(reference(), folder / "alice@uni.edu.ipynb"), DUE - dt.timedelta(hours=1))
    graded = run_dlbasics("grade", ASSIGNMENT.id, folder, "--course", course, "--quiet")
    assert "maps to no roster student" in graded.stderr and "c.c@home.example" in graded.stderr
    out = course / "grades" / ASSIGNMENT.id
    stray = "c.c@home.example"
    assert rows_of(out / "grades.csv")["carl"]["status"] == "no submission"
    refused = run_dlbasics("export", "canvas", "--course", course, check=False)
    assert refused.returncode == 2 and stray in refused.stderr
    scores = tmp_path / "scores.csv"
    scores.write_text(f"student,question,points,comment\n{stray},{WRITTEN},2,Good.\n")
    run_dlbasics("import-scores", ASSIGNMENT.id, scores, "--course", course)

    run_dlbasics("rename", ASSIGNMENT.id, stray, "carl", "--course", course)
    rows = rows_of(out / "grades.csv")
    assert stray not in rows and float(rows["carl"]["automatic"]) == AUTO
    assert float(rows["carl"][WRITTEN]) == 2  # the hand score followed the rename
    assert run_dlbasics("export", "canvas", "--course", course).returncode == 0
    taken = run_dlbasics("rename", ASSIGNMENT.id, "carl", "alice", "--course", course, check=False)
    assert taken.returncode == 2 and "already has a grade" in taken.stderr

    run_dlbasics("drop", ASSIGNMENT.id, "carl", "--course", course)
    rows = rows_of(out / "grades.csv")
    assert rows["carl"]["status"] == "no submission" and float(rows["carl"]["total"]) == 0
    import sqlite3

    db = sqlite3.connect(out / "gradebook.sqlite")
    statuses = [row[0] for row in db.execute("SELECT status FROM history WHERE student='carl' ORDER BY graded_at")]
    db.close()
    assert statuses[0] != "dropped" and f"renamed from {stray}" in statuses and statuses[-1] == "dropped"
    missing = run_dlbasics("drop", ASSIGNMENT.id, "carl", "--course", course, check=False)
    assert missing.returncode == 2 and "nothing was changed" in missing.stderr
