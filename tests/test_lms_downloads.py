"""Who handed in what, and when, from LMS downloads built exactly as the platforms build them.

Canvas (Assignments > Download Submissions; Canvas's ``submissions_zip``): every file is
``<sortable name lower-cased, non-word characters removed>[_LATE]_<user id>_<attachment id>_<file name>``,
a file name the student uploaded before may carry ``-1``, ``-2`` ("How do I download all student
submissions for an assignment?", Canvas Instructor Guide). Moodle (Assignment > Download all
submissions): one folder per student, ``<Full Name>_<participant id>_assignsubmission_file_``.
Unzipping gives every file the download time as its modification time, so the files here
carry the download time (the day after the deadline), never the submission time.

These tests run intake only (no grading): each rule is shown on the real layout and fails
when the rule is removed.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from autograder.checks import ASSIGNMENTS
from autograder.course import CourseError, canvas_name, identify, init, load
from autograder.grading.intake import checked_time, collect, find_notebook, parse_time
from autograder.grading.result import Result
from autograder.notebook.fill import fill, solution_answers, write
from autograder.notebook.submission import load_notebook
from autograder.report.outputs import marks

A = ASSIGNMENTS["01-linear-regression"]
DUE = dt.datetime(2026, 12, 4, 23, 59, tzinfo=dt.UTC)
DOWNLOAD = DUE + dt.timedelta(days=1, hours=2)  # graded the day after the deadline
NOW = DOWNLOAD + dt.timedelta(minutes=10)
ROSTER = ("id,name,email,lms_id,section\n"
          "alice,Alice Adams,alice@uni.edu,1001,A\n"
          "mallory,Mallory Mint,alice@evil.org,1002,A\n"  # her email's local part is alice's id
          "sobrien,Sean O'Brien,sobrien@uni.edu,1003,A\n"
          "fnunez,Fe Nunez,fnunez@uni.edu,1004,B\n"
          "tom,Tom Nolms,tom@uni.edu,,B\n"  # no Canvas id in the roster: matched by Canvas's name rule
          "bo,Bo Bix,bo@uni.edu,2001,B\n"
          "2001,Zed Zeta,zed@uni.edu,,B\n"  # a roster (SIS) id equal to bo's Canvas user id
          "jdoe1,Jo Doe,jdoe@uni.edu,,B\n"
          "jdoe2,Jo Doe,jdoe@other.edu,,B\n")


def answered() -> dict:
    return fill(A, solution_answers(A))


def untouched() -> dict:
    return load_notebook(A.release)


def downloaded(path, notebook: dict, when: dt.datetime = DOWNLOAD):
    write(notebook, path)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    init(root)
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    text = (root / "course.toml").read_text()
    (root / "course.toml").write_text(text.replace("[due]\n", f'[due]\n"{A.id}" = "{DUE.isoformat()}"\n'))
    return load(root)


def days_late(course, submission) -> int:
    result = Result(A.id, submission.student, str(submission.path), "graded", max_points=20,
                    auto_total=20, submitted_at=submission.submitted_at, time_note=submission.time_note,
                    late_marker=submission.late_marker)
    return marks(result, None, course).days_late


def by_student(intake) -> dict:
    return {s.student: s for s in intake.submissions}


def test_canvas_download_the_day_after_punctual_students_are_on_time_late_ones_say_so(course, tmp_path):
    folder = tmp_path / "canvas"
    downloaded(folder / f"adamsalice_1001_5001_{A.notebook}", answered())
    downloaded(folder / f"obriensean_LATE_1003_5003_{A.notebook}", answered())
    downloaded(folder / "nolmstom_9000_5004_linear_regression-1.ipynb", answered())  # re-uploaded name
    intake = collect([folder], A, course, now=NOW)
    found = by_student(intake)
    assert set(found) == {"alice", "sobrien", "tom"}
    # The download time is no submission time: punctual students are 0 days late.
    assert found["alice"].submitted_at is None and days_late(course, found["alice"]) == 0
    assert days_late(course, found["tom"]) == 0
    # Canvas's _LATE marker without a time: at least one started day, and a note that says so.
    late = found["sobrien"]
    assert late.late_marker and "late per Canvas, time unknown: give --times" in late.time_note
    assert days_late(course, late) == 1
    assert any("late per Canvas" in w and "sobrien" in w for w in intake.warnings)
    assert any("time unknown" in w and "alice" in w for w in intake.warnings)


def test_a_late_marker_does_not_count_late_against_an_extension(course, tmp_path):
    """Canvas's _LATE is against Canvas's own due date; with the course's extension the marker alone
    cannot show the work came after the extended date: 0 days, and a warning that says why."""
    folder = tmp_path / "canvas"
    downloaded(folder / f"obriensean_LATE_1003_5003_{A.notebook}", answered())
    downloaded(folder / f"adamsalice_LATE_1001_5001_{A.notebook}", answered())
    course.extensions = {"sobrien": {A.id: 3}}
    intake = collect([folder], A, course, now=NOW)
    found = by_student(intake)
    assert days_late(course, found["sobrien"]) == 0 and days_late(course, found["alice"]) == 1
    assert any("NOT counted late" in w and "sobrien" in w and "alice" not in w for w in intake.warnings)
    assert any("counted as 1 day late" in w and "alice" in w and "sobrien" not in w for w in intake.warnings)
    # Given the time, the extension is counted as for any other time: 4 days after the due date is 1 late.
    later = DUE + dt.timedelta(days=3, hours=2)
    found = by_student(collect([folder], A, course, {"sobrien": later.isoformat()}, now=later + dt.timedelta(hours=1)))
    assert days_late(course, found["sobrien"]) == 1


def test_file_times_count_only_where_the_course_says_so(course, tmp_path):
    folder = tmp_path / "kept-times"
    downloaded(folder / "alice.ipynb", answered(), DUE + dt.timedelta(hours=25))
    assert collect([folder], A, course, now=NOW).submissions[0].submitted_at is None
    course.late.times = "file"
    submission = collect([folder], A, course, now=NOW).submissions[0]
    assert submission.submitted_at == (DUE + dt.timedelta(hours=25)).isoformat()
    assert days_late(course, submission) == 2


def test_times_from_the_instructors_csv(course, tmp_path):
    folder = tmp_path / "canvas"
    downloaded(folder / f"obriensean_LATE_1003_5003_{A.notebook}", answered())
    downloaded(folder / f"adamsalice_1001_5001_{A.notebook}", answered())
    late = (DUE + dt.timedelta(days=1, hours=1)).isoformat()
    found = by_student(collect([folder], A, course, {"sobrien": late, "alice": "9999-12-31T23:59:59-01:00",
                                                     "nobody": late}, now=NOW))
    assert found["sobrien"].submitted_at == late
    assert days_late(course, found["sobrien"]) == 2 and not found["sobrien"].time_note
    # An out-of-range time is kept out of the arithmetic and named in the note, never an exception.
    assert found["alice"].submitted_at is None and "9999-12-31T23:59:59-01:00" in found["alice"].time_note
    assert days_late(course, found["alice"]) == 0


@pytest.mark.parametrize("text, expected", [
    ("2026-11-21 19:00:00.000000 UTC", "2026-11-21T19:00:00+00:00"),  # nbgrader's default format
    ("2026-11-21 20:00:00.000000 CET", "2026-11-21T19:00:00+00:00"),  # Exchange.timezone = "Europe/Paris"
    ("2026-11-21 20:00:00.000000 +0100", "2026-11-21T19:00:00+00:00"),
    ("2026-11-21T19:00:00", "2026-11-21T19:00:00+00:00"),  # ISO without a zone: UTC, as nbgrader's parse_utc
    ("2026-11-21T20:00:00+01:00", "2026-11-21T19:00:00+00:00"),
    ("2026-11-21T19:00:00Z", "2026-11-21T19:00:00+00:00"),
])
def test_every_format_nbgrader_writes_is_read(text, expected):
    assert parse_time(text).astimezone(dt.UTC).isoformat() == expected
    assert checked_time(text, "x", NOW, None) == (expected, "")


@pytest.mark.parametrize("text, why", [
    ("9999-12-31T23:59:59-01:00", "not usable"), ("yesterday", "not usable"), ("2026-11-21 19:00:00 XYZ", "zone"),
    ((NOW + dt.timedelta(days=3)).isoformat(), "in the future"),
    ("2026-11-01T00:00:00+00:00", "before the assignment was handed out"),
])
def test_a_time_that_cannot_be_believed_is_flagged_not_used(text, why):
    released = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    when, note = checked_time(text, "nbgrader's timestamp.txt", NOW, released)
    assert when is None and why in note and text[:20] in note


def test_timestamp_txt_counts_only_in_nbgraders_submitted_tree(course, tmp_path):
    stamp = (DUE + dt.timedelta(hours=20)).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    exchange = tmp_path / "submitted" / "alice" / A.id
    downloaded(exchange / A.notebook, answered(), DUE - dt.timedelta(days=3))  # mtime: not the record
    (exchange / "timestamp.txt").write_text(stamp)
    own = tmp_path / "flat" / "sobrien"  # a student's own folder, with a stamp the student wrote
    downloaded(own / A.notebook, answered())
    (own / "timestamp.txt").write_text("2026-12-01 00:00:00.000000 UTC")
    nested = tmp_path / "flat" / "fnunez" / A.id  # nbgrader's shape, but not in nbgrader's submitted/
    downloaded(nested / A.notebook, answered())
    (nested / "timestamp.txt").write_text("2026-12-01 00:00:00.000000 UTC")
    other = tmp_path / "submitted" / "sobrien" / "02-gradient-descent"  # another assignment's submission
    downloaded(other / A.notebook, answered())
    (other / "timestamp.txt").write_text(stamp)
    exchange_intake = collect([tmp_path / "submitted"], A, course, now=NOW)
    assert [s.student for s in exchange_intake.submissions] == ["alice"]
    assert any("no 01-linear-regression folder" in s.reason for s in exchange_intake.skipped)
    alice = exchange_intake.submissions[0]
    assert alice.submitted_at == (DUE + dt.timedelta(hours=20)).isoformat() and days_late(course, alice) == 1
    flat = by_student(collect([tmp_path / "flat"], A, course, now=NOW))
    for student in ("sobrien", "fnunez"):
        assert flat[student].submitted_at is None
        assert "timestamp.txt in the student's folder was ignored" in flat[student].time_note


def test_identity_strongest_field_wins_and_each_field_is_its_own_namespace(course, tmp_path):
    folder = tmp_path / "flat"
    downloaded(folder / "alice.ipynb", answered())  # alice's id; mallory's email local part is also "alice"
    downloaded(folder / "bo@uni.edu.ipynb", answered())  # a full email
    canvas = tmp_path / "canvas"
    downloaded(canvas / f"mintmallory_1002_7001_{A.notebook}", answered())
    # A Canvas user id equal to another student's roster id: the user id is compared with lms_id only.
    downloaded(canvas / f"bixbo_2001_7003_{A.notebook}", answered())
    downloaded(folder / "zed@uni.edu.ipynb", answered())
    intake = collect([folder, canvas], A, course, now=NOW)
    found = by_student(intake)
    assert found["alice"].path.name == "alice.ipynb"
    assert found["mallory"].path.parent == canvas
    assert found["bo"].path.parent == canvas and found["2001"].path.name == "zed@uni.edu.ipynb"
    assert not intake.problems and not intake.unmatched
    assert identify([("lms_id", "2001")], course.roster)[0] == "bo"
    assert identify([("id", "2001")], course.roster)[0] == "2001"


def test_a_canvas_display_name_is_not_trusted_for_a_student_with_a_canvas_id(course, tmp_path):
    canvas = tmp_path / "canvas"
    # The sortable name of Alice Adams, under an unknown user id: not Alice's (she has an lms_id).
    downloaded(canvas / f"adamsalice_4444_7002_{A.notebook}", answered())
    intake = collect([canvas], A, course, now=NOW)
    assert [s.student for s in intake.submissions] == ["adamsalice_4444"]
    assert [u for u, _ in intake.unmatched] == ["adamsalice_4444"]
    assert canvas_name("Tom Nolms") == "nolmstom" and canvas_name("O'Brien, Sean") == "obriensean"


def test_a_file_inside_an_unknown_folder_never_takes_a_roster_students_row(course, tmp_path):
    folder = tmp_path / "folders"
    downloaded(folder / "stranger" / "alice@uni.edu.ipynb", answered())
    downloaded(folder / "sobrien" / "fnunez@uni.edu.ipynb", answered())  # folder and file disagree
    intake = collect([folder], A, course, now=NOW)
    assert "alice" not in by_student(intake) and ("stranger", folder / "stranger" / "alice@uni.edu.ipynb") in \
        intake.unmatched
    problems = {student: reason for student, _, reason in intake.problems}
    assert "sobrien" in problems and "named for fnunez" in problems["sobrien"]


def test_a_tie_at_the_strongest_field_is_a_row_that_says_so(course, tmp_path):
    folder = tmp_path / "flat"
    downloaded(folder / "jdoe.ipynb", answered())  # the local part of two students' emails
    intake = collect([folder], A, course, now=NOW)
    assert not intake.submissions
    (student, _, reason), = intake.problems
    assert student == "jdoe" and "several roster students" in reason and "jdoe1" in reason


def test_moodle_folders_map_by_participant_id_then_full_name(tmp_path):
    root = tmp_path / "moodle-course"
    init(root)
    (root / "roster.csv").write_text("id,name,email,lms_id,section\nann,Ann Lee,ann@uni.edu,88,A\n"
                                     "ben,Ben Ode,ben@uni.edu,,A\n")
    course = load(root)
    folder = tmp_path / "moodle"
    downloaded(folder / "Ann Lee_88_assignsubmission_file_" / A.notebook, answered())
    downloaded(folder / "Ben Ode_91_assignsubmission_file_" / A.notebook, answered())
    downloaded(folder / "Ann Lee_77_assignsubmission_file_" / A.notebook, answered())  # another Ann Lee
    found = by_student(collect([folder], A, course, now=NOW))
    assert found["ann"].path.parent.name == "Ann Lee_88_assignsubmission_file_"
    assert found["ben"].path.parent.name == "Ben Ode_91_assignsubmission_file_"
    assert "Ann Lee_77_assignsubmission_file_" in found  # the name is weaker than ann's own id: not hers


def test_one_row_per_student_the_worked_notebook_over_a_template_copy(course, tmp_path):
    folder = tmp_path / "flat-canvas"
    downloaded(folder / "nunezfe_1004_6001_Untitled.ipynb", untouched())  # scratch: the blank template
    downloaded(folder / f"nunezfe_1004_6000_{A.notebook}", answered())
    own = tmp_path / "folders" / "sobrien"
    downloaded(own / "Untitled.ipynb", untouched())
    downloaded(own / "linear_regression-Copy1.ipynb", answered())
    intake = collect([folder, tmp_path / "folders"], A, course, now=NOW)
    found = by_student(intake)
    assert found["fnunez"].path.name.endswith(A.notebook)
    assert found["sobrien"].path.name == "linear_regression-Copy1.ipynb"
    assert not intake.problems and not any("~" in s.student for s in intake.submissions)
    assert sum("not graded" in s.reason for s in intake.skipped) == 2


def test_the_newest_submission_wins(course, tmp_path):
    course.late.times = "file"
    folder = tmp_path / "kept" / "sobrien"
    downloaded(folder / "v1.ipynb", answered(), DUE - dt.timedelta(days=1))
    downloaded(folder / "v2.ipynb", answered(), DUE + dt.timedelta(hours=3))
    intake = collect([tmp_path / "kept"], A, course, now=NOW)
    (only,) = intake.submissions
    assert only.path.name == "v2.ipynb" and days_late(course, only) == 1
    assert any(s.path.name == "v1.ipynb" and "newest" in s.reason for s in intake.skipped)


def test_the_gradescope_runner_finds_the_notebook_by_the_same_rules(tmp_path):
    folder = tmp_path / "submission"
    downloaded(folder / "Untitled.ipynb", untouched())
    downloaded(folder / "linear_regression-Copy1.ipynb", answered())
    assert find_notebook(folder, A)[0].name == "linear_regression-Copy1.ipynb"
    from autograder.platforms.gradescope import find_notebook as gradescope_find
    from autograder.platforms.gradescope import submission_time

    assert gradescope_find(folder, A)[0].name == "linear_regression-Copy1.ipynb"
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"created_at": "2026-12-04T23:00:00.5-08:00"}))
    assert submission_time(tmp_path) == ("2026-12-05T07:00:00+00:00", "")


@pytest.mark.parametrize("edit, message", [
    (("[due]\n", '[due]\n"01-linear-regresion" = "2026-12-04T23:59:00Z"\n'), "[due] 01-linear-regresion: unknown"),
    (("[extensions]\n", '[extensions]\nalicia = { "01-linear-regression" = 2 }\n'), "'alicia' is not an id"),
    (("[extensions]\n", '[extensions]\nalice = { "01-linear-regresion" = 2 }\n'), "unknown assignment id"),
    (("per_day = 0.10", "per_day = -0.10"), "must be between 0 and 1"),
    (("per_day = 0.10", "per_day = 1.5"), "must be between 0 and 1"),
    (("cap = 0.50", "capp = 0.50"), "[late] capp: unknown key"),
    (("[due]\n", "[deu]\n"), "unknown section [deu]"),
    (("grace_minutes = 15", 'grace_minutes = 15\ntimes = "mtime"'), "one of 'record', 'file'"),
    (("[due]\n", '[due]\n"01-linear-regression" = "9999-12-31T23:59:59-01:00"\n'), "out of range"),
    (("cell_seconds = 5.0", "cell_second = 5.0"), "unknown limit"),
])
def test_course_toml_mistakes_are_refused_with_the_line_to_fix(tmp_path, edit, message):
    root = tmp_path / "c"
    init(root)
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    text = (root / "course.toml").read_text()
    assert edit[0] in text
    text = text.replace(edit[0], edit[1], 1)
    (root / "course.toml").write_text(text)
    with pytest.raises(CourseError) as error:
        load(root, ASSIGNMENTS)
    assert message in str(error.value)
    line = next(n for n, line in enumerate(text.splitlines(), 1) if edit[1].strip().splitlines()[-1] in line)
    assert f"course.toml:{line}:" in str(error.value)


@pytest.mark.parametrize("stored", ["9999-12-31T23:59:59-01:00", "not a time", "2026-12-05T03:00:00+00:00"])
def test_a_stored_time_that_cannot_be_read_never_stops_the_outputs(course, stored):
    result = Result(A.id, "alice", "alice.ipynb", "graded", max_points=20, auto_total=20, submitted_at=stored)
    mark = marks(result, None, course)
    assert mark.days_late == (1 if stored.startswith("2026") else 0) and mark.total == 20 - mark.penalty


def test_an_unmatched_file_never_takes_a_roster_row_by_its_raw_name(tmp_path):
    root = tmp_path / "c"
    init(root)
    (root / "roster.csv").write_text("id,name,email,lms_id,section\nqq_5,Quinn Q,q@uni.edu,9,A\n")
    course = load(root)
    downloaded(tmp_path / "canvas" / f"qq_5_100_{A.notebook}", answered())  # user 5: nobody's Canvas id
    intake = collect([tmp_path / "canvas"], A, course, now=NOW)
    assert [s.student for s in intake.submissions] == ["qq_5 (unmatched)"]
    assert intake.unmatched == [("qq_5 (unmatched)", tmp_path / "canvas" / f"qq_5_100_{A.notebook}")]


def test_an_older_download_never_replaces_a_newer_graded_submission(tmp_path):
    from autograder.grading.intake import Submission, keep_newer

    newer = Result(A.id, "bo", str(tmp_path / "new" / f"bixbo_2001_7003_{A.notebook}"), "graded")
    older = Submission("bo", tmp_path / "old" / f"bixbo_2001_7001_{A.notebook}")  # Canvas: a smaller attachment id
    kept, notes = keep_newer([older], {"bo": newer})
    assert kept == [] and "kept bo's newer graded submission" in notes[0] and "--replace" in notes[0]
    assert keep_newer([older], {"bo": newer}, replace=True) == ([older], [])
    timed = Result(A.id, "al", "al.ipynb", "graded", submitted_at="2026-12-05T10:00:00+00:00")
    before = Submission("al", tmp_path / "al.ipynb", "2026-12-04T10:00:00+00:00")
    after = Submission("al", tmp_path / "al.ipynb", "2026-12-06T00:00:00+00:00")
    assert keep_newer([before], {"al": timed})[0] == [] and keep_newer([after], {"al": timed})[0] == [after]
    unknown = Submission("al", tmp_path / "al.ipynb")  # no record of order: graded as given
    assert keep_newer([unknown], {"al": timed})[0] == [unknown]
