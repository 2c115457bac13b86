"""LMS exports: Canvas's and Moodle's gradebook-import CSVs, column by column.

The course's gradebooks are written directly (results with known points, dates, hand-graded
scores), so every expected total is computed here by hand; the files are then made by the real
`dlbasics export` command and read back as a spreadsheet or the LMS would read them. The layouts
checked are those of the platforms' own importers: Canvas's ``GradebookImporter`` (the header
row, the student columns up to ``Section``, ``<name> (<id>)`` assignment columns, the ``Points
Possible`` row, numeric scores) and Moodle's CSV grade import (one identifying column mapped to
the email or ID number, one column per grade item).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from conftest import run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.course import init, load
from autograder.grading.grade import GRADER_ERROR, empty_result, finish_result, load_template
from autograder.grading.gradebook import Gradebook
from autograder.grading.result import Result
from autograder.selfcheck.status import Status

LR, GD = ASSIGNMENTS["01-linear-regression"], ASSIGNMENTS["02-gradient-descent"]
TEMPLATES = {a.id: load_template(a) for a in (LR, GD)}
WRITTEN = {a.id: next(iter(TEMPLATES[a.id].written)) for a in (LR, GD)}
AUTO = {a: sum(t.points.values()) for a, t in TEMPLATES.items()}
MAX = {a: AUTO[a] + sum(t.written.values()) for a, t in TEMPLATES.items()}
DUE = dt.datetime(2026, 12, 4, 23, 59, tzinfo=dt.UTC)

# A spreadsheet runs a cell that starts like this (safe.csv_cell puts a ' in front).
FORMULA = re.compile(r"^[\s]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r]")
# Canvas's importer reads a score through this converter (GradebookImporter, decimal_comma_to_period);
# a blank cell means "no grade".
CANVAS_NUMBER = re.compile(r"^-?[0-9.,]+%?$")
# Canvas's Assignment.title_and_id: "<title> (<assignment id>)".
CANVAS_ASSIGNMENT = re.compile(r"\A(.*)\s\((\d+)\)\Z")

ROSTER = [  # id, name, email, lms_id, section
    ("alice", "Alice Anders", "alice@uni.edu", "1001", "A"),
    ("bob", "Bob Berg", "bob@uni.edu", "1002", "A"),
    ("jane", "Doe, Jane", "doejane@uni.edu", "12345", "B"),
    ("carl", "Carl Cruz", "carl@uni.edu", "1004", "B"),
    # A student whose roster entries (typed by a student into a form, or pasted) are formulas.
    ("=cmd|' /C calc'!A0", "@SUM(A1:A9)", "+evil@uni.edu", "-1", "=1+1"),
]


def result(assignment, student: str, lost: tuple[str, ...] = (), submitted: dt.datetime | None = None,
           answer: str = "An answer.", status: str = "graded") -> Result:
    """A graded result: every check passed but those of the questions in ``lost``."""
    template = TEMPLATES[assignment.id]
    r = empty_result(assignment, template, student, Path(f"{student}.ipynb"), Status(status), "", digest=f"h-{student}")
    for check in r.checks:
        passed = check.question not in lost
        check.status = Status.PASSED if passed else Status.FAILED
        check.points, check.message = (check.max_points, "ok") if passed else (0, "wrong value")
    r.questions, r.written = {}, {}
    r = finish_result(r, template, {WRITTEN[assignment.id]: answer})
    r.submitted_at = (submitted or DUE - dt.timedelta(hours=2)).isoformat()
    return r


def points_of(assignment, question: str) -> float:
    return TEMPLATES[assignment.id].points[question]


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    init(root)
    with (root / "roster.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email", "lms_id", "section"])
        writer.writerows(ROSTER)
    config = (root / "course.toml").read_text()
    config = config.replace("[due]\n", f'[due]\n"{LR.id}" = "{DUE.isoformat()}"\n"{GD.id}" = "{DUE.isoformat()}"\n')
    config = config.replace("[extensions]\n", f'[extensions]\nbob = {{ "{LR.id}" = 3 }}\n')
    config += ('\n[canvas]\nsis_user_id = "id"\nsis_login_id = "email"\n'
               f'[canvas.assignments]\n"{LR.id}" = "Linear regression (12345)"\n'
               f'\n[moodle]\nid_number = "id"\n[moodle.assignments]\n"{LR.id}" = "Linear regression"\n')
    (root / "course.toml").write_text(config)

    # 01: alice on time with her written answer scored 2; bob 2 days late but with a 3-day
    # extension and predict wrong; jane 2 started days late (-20%); carl submitted nothing; the
    # formula student on time with nothing right; mallory is graded but not on the roster.
    late = DUE + dt.timedelta(days=1, hours=3)
    gradebook = Gradebook(root / "grades" / LR.id / "gradebook.sqlite")
    for r in (result(LR, "alice"), result(LR, "bob", lost=("predict",), submitted=late),
              result(LR, "jane", submitted=late), result(LR, ROSTER[4][0], lost=tuple(TEMPLATES[LR.id].points)),
              result(LR, "mallory")):
        gradebook.record(r, "version", "fingerprint", "limits")
    gradebook.set_manual(LR.id, [("alice", WRITTEN[LR.id], 2.0, "Clear."), ("jane", WRITTEN[LR.id], 1.0, "")])
    gradebook.close()
    # 02: only alice so far, with gradient_descent wrong.
    gradebook = Gradebook(root / "grades" / GD.id / "gradebook.sqlite")
    gradebook.record(result(GD, "alice", lost=("gradient_descent",)), "version", "fingerprint", "limits")
    gradebook.close()
    return root


def expected_totals() -> dict[str, dict[str, float]]:
    """By hand: automatic + hand-graded - late penalty (10% of the maximum per started day)."""
    unscored = 0.0  # a written answer nobody scored yet counts 0
    return {
        LR.id: {"alice": AUTO[LR.id] + 2, "bob": AUTO[LR.id] - points_of(LR, "predict") + unscored,
                "jane": AUTO[LR.id] + 1 - 0.2 * MAX[LR.id], "carl": 0.0, ROSTER[4][0]: 0.0},
        GD.id: {"alice": AUTO[GD.id] - points_of(GD, "gradient_descent"), "bob": 0.0, "jane": 0.0, "carl": 0.0,
                ROSTER[4][0]: 0.0},
    }


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark: Canvas would read it into 'Student'"
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def unquote(cell: str) -> str:
    """A cell without the apostrophe safe.csv_cell puts before text that starts like a formula."""
    return cell[1:] if cell.startswith("'") else cell


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not FORMULA.match(cell), f"a spreadsheet would run {cell!r}"


def test_a_graded_submission_on_no_roster_line_stops_the_export_until_allowed(course):
    refused = run_dlbasics("export", "canvas", "--course", course, check=False)
    assert refused.returncode == 2 and f"{LR.id}: mallory" in refused.stderr and "--allow-unmatched" in refused.stderr
    assert not (course / "grades" / "canvas-grades.csv").exists()
    allowed = run_dlbasics("export", "canvas", "--course", course, "--allow-unmatched")
    assert "mallory" in allowed.stderr and "not on the roster" in allowed.stderr


def test_canvas_export_has_canvas_gradebook_layout_column_by_column(course):
    process = run_dlbasics("export", "canvas", "--course", course, "--allow-unmatched")
    target = course / "grades" / "canvas-grades.csv"
    assert f"wrote {target}" in process.stdout and "Grades > Import" in process.stdout
    rows = read_csv(target)
    header, points, students = rows[0], rows[1], rows[2:]

    # The header, as GradebookImporter reads it: "Student" then "ID", SIS User ID and SIS Login ID
    # after them, the last student column "Section", then one column per graded assignment.
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5:] == ["Linear regression (12345)", GD.id]
    title, assignment_id = CANVAS_ASSIGNMENT.match(header[5]).groups()
    assert (title, assignment_id) == ("Linear regression", "12345")
    assert not CANVAS_ASSIGNMENT.match(header[6])  # unconfigured: matched by title, and the warning says so
    assert f"{GD.id}: no Canvas column in course.toml [canvas.assignments]" in process.stderr

    # The second row: "Points Possible" in the first column, each assignment's maximum below it.
    assert points[0] == "Points Possible" and points[1:5] == ["", "", "", ""]
    assert [float(p) for p in points[5:]] == [MAX[LR.id], MAX[GD.id]]

    # One row per roster student, in roster order, and nobody else (mallory is not on the roster).
    assert len(students) == len(ROSTER) and all(len(row) == len(header) for row in rows)
    expected = expected_totals()
    for row, (sid, name, email, lms_id, section) in zip(students, ROSTER):
        student, canvas_id, sis_user, sis_login, sec, lr, gd = row
        assert unquote(student) == name and unquote(canvas_id) == lms_id and unquote(sec) == section
        assert unquote(sis_user) == sid and unquote(sis_login) == email
        assert CANVAS_NUMBER.match(lr) and CANVAS_NUMBER.match(gd)
        assert float(lr) == pytest.approx(expected[LR.id][sid]) and float(gd) == pytest.approx(expected[GD.id][sid])
    by_id = {row[2].lstrip("'"): row for row in students}
    assert float(by_id["jane"][5]) == pytest.approx(AUTO[LR.id] + 1 - 0.2 * MAX[LR.id])  # the late penalty
    assert float(by_id["bob"][5]) == AUTO[LR.id] - points_of(LR, "predict")  # late, but within his extension
    assert by_id["carl"][5] == "0" and by_id["bob"][6] == "0"  # no submission: a zero, not a blank
    assert "mallory" in process.stderr and "not on the roster" in process.stderr
    assert not any("mallory" in cell for row in rows for cell in row)
    assert_no_formula(rows)
    assert students[4][0] == "'@SUM(A1:A9)" and students[4][1] == "'-1" and students[4][4] == "'=1+1"


def test_moodle_export_has_moodle_import_layout_column_by_column(course):
    process = run_dlbasics("export", "moodle", "--course", course, "--out", course / "moodle.csv", "--allow-unmatched")
    assert "Email address" in process.stdout  # how to map the identifying column when importing
    rows = read_csv(course / "moodle.csv")
    header, students = rows[0], rows[1:]
    # Moodle's own export columns for the user, then one per grade item (named in course.toml,
    # else by the assignment id): the import maps Email address or ID number to the user.
    assert header == ["First name", "Last name", "ID number", "Email address", "Linear regression", GD.id]
    assert "no grade item name" in process.stderr
    assert not any(row[0] == "Points Possible" for row in rows)  # Moodle would take it for a student
    expected = expected_totals()
    names = {"Alice Anders": ("Alice", "Anders"), "Doe, Jane": ("Jane", "Doe")}
    for row, (sid, name, email, _, _) in zip(students, ROSTER, strict=True):
        assert len(row) == len(header)
        assert row[2].lstrip("'") == sid and row[3].lstrip("'") == email
        if name in names:
            assert (row[0], row[1]) == names[name]
        # Moodle's unformat_float reads these; each is the total that counts.
        assert float(row[4]) == pytest.approx(expected[LR.id][sid])
        assert float(row[5]) == pytest.approx(expected[GD.id][sid])
    assert_no_formula(rows)


def test_exported_totals_are_the_totals_of_grades_csv(course):
    """One computation: what the LMS gets is what grades.csv says (late penalty and hand scores in)."""
    run_dlbasics("report", LR.id, "--course", course)
    with (course / "grades" / LR.id / "grades.csv").open(newline="", encoding="utf-8") as handle:
        totals = {row["student"].lstrip("'"): float(row["total"]) for row in csv.DictReader(handle)}
    run_dlbasics("export", "canvas", "--course", course, "--allow-unmatched")
    rows = read_csv(course / "grades" / "canvas-grades.csv")[2:]
    exported = {row[2].lstrip("'"): float(row[5]) for row in rows}
    assert exported == {sid: totals[sid] for sid, *_ in ROSTER}
    assert totals["jane"] < AUTO[LR.id] + 1  # the penalty is really in both


def test_what_cannot_be_exported_is_refused_with_the_fix(course, tmp_path):
    config = (course / "course.toml").read_text()
    (course / "course.toml").write_text(config.replace('sis_user_id = "id"', 'sis_user_id = "phone"'))
    refused = run_dlbasics("export", "canvas", "--course", course, check=False)
    assert refused.returncode == 2 and "sis_user_id names the roster column" in refused.stderr
    assert "id, name, email, lms_id, section" in refused.stderr
    assert not (course / "grades" / "canvas-grades.csv").exists()

    empty = tmp_path / "empty"
    init(empty)
    (empty / "roster.csv").write_text("id,name,email,lms_id,section\nann,Ann,ann@uni.edu,7,A\n")
    nothing = run_dlbasics("export", "moodle", "--course", empty, check=False)
    assert nothing.returncode == 2 and "is graded yet" in nothing.stderr
    (empty / "roster.csv").write_text("id,name,email,lms_id,section\n")
    no_roster = run_dlbasics("export", "moodle", "--course", empty, check=False)
    assert no_roster.returncode == 2 and "lists no student" in no_roster.stderr


def test_a_grader_fault_is_exported_but_flagged(course):
    gradebook = Gradebook(course / "grades" / LR.id / "gradebook.sqlite", create=False)
    gradebook.record(result(LR, "carl", lost=("train_model",), status=GRADER_ERROR), "version", "fingerprint",
                     "limits")
    gradebook.close()
    process = run_dlbasics("export", "canvas", "--course", course, "--allow-unmatched", check=False)
    assert process.returncode == 1 and "the grader itself failed on carl" in process.stderr
    rows = {row[2].lstrip("'"): row for row in read_csv(course / "grades" / "canvas-grades.csv")[2:]}
    assert float(rows["carl"][5]) == AUTO[LR.id] - points_of(LR, "train_model")


def test_the_course_configuration_is_read_as_written(course):
    from autograder.report.lms import export

    exported = export("canvas", load(course), course / "x.csv", allow_unmatched=True)
    assert exported.assignments == [LR.id, GD.id] and exported.students == len(ROSTER)
    assert not exported.faults
