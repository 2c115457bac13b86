"""Grades for an LMS gradebook import: one CSV, one row per roster student, one column per assignment.

``dlbasics export canvas|moodle --course C`` reads every assignment's gradebook under
``C/grades/<assignment>/gradebook.sqlite`` and writes each roster student's total: automatic
plus hand-graded points, minus the late penalty, exactly as ``grades.csv`` computes it
(:func:`autograder.report.outputs.marks`). A roster student without a submission gets 0, as in
``grades.csv`` (a blank cell is "no grade" to both LMSs, which leaves them out of the course
total instead of counting the missing work). An assignment nobody was graded on yet has no
gradebook and no column: an import never overwrites grades with zeros for work not graded.

**Canvas** (Grades > Import). The layout of Canvas's own gradebook export, which its importer
(``GradebookImporter``) reads: the columns ``Student``, ``ID`` (Canvas's user id: the roster's
``lms_id``), ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment named
``<name> (<Canvas assignment id>)``; the second row is ``Points Possible``. Canvas finds each
student by ``ID``, else by the SIS ids, else by name, and each assignment by the id in
parentheses, else by title; an unknown title becomes a new assignment. Which roster column holds
the SIS ids, and each assignment's column name, come from ``course.toml``::

    [canvas]
    sis_user_id = "id"        # roster column, or "" for none
    sis_login_id = "email"
    [canvas.assignments]
    "01-linear-regression" = "Linear regression (12345)"   # as in Canvas's own export

**Moodle** (Grades > Import > CSV file). Moodle asks which column identifies the user (map from
``Email address`` to the email, or ``ID number`` to the ID number) and which grade item each
other column is (or "new grade item", named after the column). The columns are those of Moodle's
own export: ``First name``, ``Last name``, ``ID number``, ``Email address``, then one per
assignment, named by ``[moodle.assignments]`` (default: the assignment id); ``[moodle] id_number``
names the roster column of the ID number (default ``id``).

Every cell goes through ``safe.csv_row``: roster names and ids are the students' own text, and a
spreadsheet opened on the file must not run any of it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import ROSTER_COLUMNS, Course, CourseError
from autograder.report.safe import csv_row

PLATFORMS = ("canvas", "moodle")
CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_STUDENT_COLUMNS = ["First name", "Last name", "ID number", "Email address"]
POINTS_POSSIBLE = "Points Possible"
# Canvas's Assignment.title_and_id: a column "<title> (<digits>)" names the assignment with that id.
CANVAS_COLUMN = re.compile(r"\A(.*)\s\((\d+)\)\Z")
# Canvas exports scores with two decimals and compares imported ones at that precision; two
# decimals are also far finer than any total here (points come in halves, penalties in tenths).
DECIMALS = 2
# What is said about students in a warning: enough to find them, not a page of names.
NAMED = 8

IMPORT_HOWTO = {
    "canvas": "in Canvas: Grades > Import, choose the file, check the changes Canvas lists, then Upload",
    "moodle": "in Moodle: Grades > Import > CSV file; identify users by 'Email address' (to Email address) or "
              "'ID number' (to ID number), and map each assignment column to its grade item",
}


class LmsError(Exception):
    """The export cannot be made; the message says what to fix."""


@dataclass
class Export:
    path: Path
    students: int
    assignments: list[str]
    warnings: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # grades that should not be imported as they are
    how_to_import: str = ""


@dataclass
class Column:
    assignment_id: str
    max_points: float
    totals: dict[str, float]  # roster id -> total that counts


def _names(items) -> str:
    items = sorted(items)
    return ", ".join(items[:NAMED]) + (f" and {len(items) - NAMED} more" if len(items) > NAMED else "")


def _config(course: Course, platform: str) -> dict:
    """The course.toml table of ``platform`` (``[canvas]`` / ``[moodle]``), read and checked once by
    :func:`autograder.course.load` (unknown keys and assignment ids are refused there)."""
    return course.tables.get(platform, {})


def _roster_column(course: Course, table: dict, key: str, default: str, platform: str) -> str:
    column = table.get(key, default)
    if not isinstance(column, str) or column not in [*ROSTER_COLUMNS, ""]:
        raise LmsError(f"{course.root / 'course.toml'}: [{platform}] {key} names the roster column that holds it, "
                       f"one of {', '.join(ROSTER_COLUMNS)} (or \"\" for none); got {column!r}")
    return column


class Unmatched(LmsError):
    """A graded submission maps to no roster student: exporting would give that student 0."""


def columns(course: Course) -> tuple[list[Column], list[str], list[str], dict[str, set[str]]]:
    """Every graded assignment's totals per roster student; ``(columns, warnings, faults, unmatched)``,
    ``unmatched``: assignment id -> the graded submissions on no roster line."""
    from autograder.checks import ASSIGNMENTS
    from autograder.grading.grade import GRADER_ERROR, load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.report.outputs import marks

    roster = {student.id for student in course.roster}
    found, warnings, faults, unmatched = [], [], [], {}
    for assignment in ASSIGNMENTS.values():
        path = course.grades_dir(assignment.id) / "gradebook.sqlite"
        if not path.is_file():
            warnings.append(f"{assignment.id}: not graded yet (no {path}); left out of the file")
            continue
        gradebook = Gradebook(path, create=False)
        try:
            results = {r.student: r for r in gradebook.results(assignment.id)}
            entries = gradebook.manual_entries(assignment.id)
        finally:
            gradebook.close()
        template = load_template(assignment)
        totals, unscored, broken = {}, set(), set()
        for student in course.roster:
            result = results.get(student.id)
            if result is None:
                totals[student.id] = 0.0  # no submission: 0, as in grades.csv
                continue
            mark = marks(result, entries.get(student.id), course)  # hand-graded points and the late penalty
            totals[student.id] = round(mark.total, DECIMALS)
            if result.status == GRADER_ERROR:
                broken.add(student.id)
            if any(not answer.untouched and question not in mark.manual
                   for question, answer in result.written.items()):
                unscored.add(student.id)
        if broken:
            faults.append(f"{assignment.id}: the grader itself failed on {_names(broken)} (status "
                          f"'{GRADER_ERROR}'): their totals lack what failed; regrade them before importing")
        if unscored:
            warnings.append(f"{assignment.id}: the written answer(s) of {_names(unscored)} are not scored by hand "
                            "(or changed since): their totals do not count them yet (dlbasics scores-template)")
        strangers = set(results) - roster
        if strangers:
            unmatched[assignment.id] = strangers
            warnings.append(f"{assignment.id}: graded but not on the roster, so not exported: {_names(strangers)} "
                            "(add them to roster.csv, or rename their files to their roster id and regrade)")
        found.append(Column(assignment.id, sum(template.points.values()) + sum(template.written.values()), totals))
    return found, warnings, faults, unmatched


def _column_names(course: Course, table: dict, found: list[Column], platform: str) -> tuple[list[str], list[str]]:
    names = table.get("assignments", {})
    headers, warnings = [], []
    for column in found:
        name = names.get(column.assignment_id)
        if name is None:
            name = column.assignment_id
            if platform == "canvas":
                warnings.append(
                    f"{column.assignment_id}: no Canvas column in course.toml [canvas.assignments] "
                    f'("{column.assignment_id}" = "<name> (<Canvas assignment id>)", as Canvas\'s own export names '
                    f"it): the column is '{name}', which Canvas matches to an assignment of exactly that title, "
                    "or imports as a new assignment")
            else:
                warnings.append(f"{column.assignment_id}: no grade item name in course.toml [moodle.assignments]: "
                                f"the column is '{name}'; map it to its grade item when importing")
        elif platform == "canvas" and not CANVAS_COLUMN.match(name):
            warnings.append(f"{column.assignment_id}: the Canvas column '{name}' does not end in ' (<assignment id>)': "
                            "Canvas matches it by title only")
        headers.append(name.strip())
    duplicates = {h for h in headers if headers.count(h) > 1}
    if duplicates:
        raise LmsError(f"two assignments would share the column {_names(duplicates)}: give each its own name in "
                       f"course.toml [{platform}.assignments]")
    return headers, warnings


def _split_name(name: str) -> tuple[str, str]:
    """First and last name for Moodle's display columns (users are matched by email or ID number)."""
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return first, last
    first, _, last = name.strip().rpartition(" ")
    return (first, last) if first else (last, "")


def canvas_rows(course: Course, found: list[Column], headers: list[str], table: dict) -> tuple[list[list], list[str]]:
    sis_user = _roster_column(course, table, "sis_user_id", "id", "canvas")
    sis_login = _roster_column(course, table, "sis_login_id", "email", "canvas")
    rows = [CANVAS_STUDENT_COLUMNS + headers,
            [POINTS_POSSIBLE, "", "", "", ""] + [column.max_points for column in found]]
    no_canvas_id = set()
    for student in course.roster:
        if not student.lms_id.isdigit():  # Canvas's user id is a number; else Canvas falls back to the SIS ids
            no_canvas_id.add(student.id)
        rows.append([student.name or student.id, student.lms_id,
                     getattr(student, sis_user) if sis_user else "", getattr(student, sis_login) if sis_login else "",
                     student.section] + [column.totals[student.id] for column in found])
    warnings = []
    if no_canvas_id:
        warnings.append(f"no Canvas user id (a number in the roster's lms_id) for {_names(no_canvas_id)}: Canvas "
                        "matches them by SIS User ID, SIS Login ID or name instead")
    return rows, warnings


def moodle_rows(course: Course, found: list[Column], headers: list[str], table: dict) -> tuple[list[list], list[str]]:
    id_number = _roster_column(course, table, "id_number", "id", "moodle")
    rows = [MOODLE_STUDENT_COLUMNS + headers]
    unmatched = set()
    for student in course.roster:
        first, last = _split_name(student.name)
        number = getattr(student, id_number) if id_number else ""
        if not number and not student.email:
            unmatched.add(student.id)
        rows.append([first, last, number, student.email] + [column.totals[student.id] for column in found])
    warnings = []
    if unmatched:
        warnings.append(f"neither an email nor an ID number for {_names(unmatched)}: Moodle skips their rows")
    return rows, warnings


def render(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        # Numbers formatted by csv_row (14, 16.5), every string neutralised against formulas.
        writer.writerow(csv_row(row))
    return buffer.getvalue()


def export(platform: str, course: Course, out: Path | None = None, allow_unmatched: bool = False) -> Export:
    """Write the CSV of ``platform`` for ``course``; return what was written and what to look at."""
    from autograder.report.outputs import write_atomic

    if platform not in PLATFORMS:
        raise LmsError(f"unknown platform {platform!r}: one of {', '.join(PLATFORMS)}")
    if not course.roster:
        raise LmsError(f"{course.root / 'roster.csv'} lists no student: an LMS import needs the roster "
                       f"({','.join(ROSTER_COLUMNS)}; lms_id is Canvas's user id)")
    table = _config(course, platform)
    try:
        found, warnings, faults, unmatched = columns(course)
    except CourseError as error:
        raise LmsError(str(error)) from None
    if not found:
        raise LmsError(f"no assignment of {course.root} is graded yet (no gradebook under "
                       f"{course.root / 'grades'}): grade first, with dlbasics grade ... --course {course.root}")
    headers, named = _column_names(course, table, found, platform)
    rows, more = (canvas_rows if platform == "canvas" else moodle_rows)(course, found, headers, table)
    if unmatched and not allow_unmatched:
        # A roster student whose file this is would be exported as 0: refuse until it is settled.
        raise Unmatched("graded submission(s) on no roster line: " + "; ".join(
            f"{assignment}: {_names(students)}" for assignment, students in sorted(unmatched.items()))
            + ". A roster student whose file this is would export 0: give it to its student (dlbasics rename "
              "ASSIGNMENT ID ROSTER_ID), add them to roster.csv, drop what is no one's (dlbasics drop ASSIGNMENT "
              "ID), or export anyway with --allow-unmatched; nothing was written")
    target = out or course.root / "grades" / f"{platform}-grades.csv"
    write_atomic(target, render(rows))
    return Export(target, len(course.roster), [c.assignment_id for c in found], warnings + named + more, faults,
                  IMPORT_HOWTO[platform])
