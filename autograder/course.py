"""A course directory: its secret seed, limits, due dates, late policy and roster.

``dlbasics init COURSE`` writes::

    COURSE/course.toml   limits, due dates, late policy, extensions (share it with your TAs)
    COURSE/secret.toml   the seed of the hidden inputs (never commit or publish it)
    COURSE/roster.csv    one row per student (id, name, email, lms_id, section)
    COURSE/.gitignore    keeps secret.toml out of any repository the folder ends up in

Every grading command takes ``--course COURSE``; its grades then go to
``COURSE/grades/<assignment>/``. The seed is random per course and lives only in
``secret.toml``: knowing the kit tells nothing about a course's hidden inputs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

COURSE_FILE = "course.toml"
SECRET_FILE = "secret.toml"
ROSTER_FILE = "roster.csv"
ROSTER_COLUMNS = ["id", "name", "email", "lms_id", "section"]


class CourseError(Exception):
    """A course folder or file that cannot be used; the message says what to fix."""


COURSE_TEMPLATE = """\
# dlbasics course configuration. Share this file with your TAs; the seed is in secret.toml.

[limits]
# Seconds one notebook cell may run, and one call of a student function by a check.
cell_seconds = 5.0
call_seconds = 5.0

[late]
# Fraction of an assignment's points taken off per started day late, and at most in all.
per_day = 0.10
cap = 0.50
# Minutes after the deadline that still count as on time (uploads take a moment).
grace_minutes = 15

[due]
# When each assignment is due (ISO 8601 with a time zone), e.g.
# "01-linear-regression" = "2026-12-04T23:59:00+01:00"

[extensions]
# Extra days for one student on one assignment, e.g.
# alice = {{ "01-linear-regression" = 2 }}
"""

SECRET_TEMPLATE = """\
# The seed of the hidden checks' random inputs for this course. Keep it secret: with it,
# anyone holding the kit can compute every hidden input. Changing it changes every hidden
# input, so grades made with the old seed are kept apart (see `dlbasics grade --regrade`).
seed = "{seed}"
"""


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    section: str = ""


@dataclass
class LatePolicy:
    per_day: float = 0.10
    cap: float = 0.50
    grace_minutes: float = 15.0
    times: str = "record"  # see SCHEMA["late"]["times"]

    def days_late(self, submitted: dt.datetime | None, due: dt.datetime | None, extension_days: float = 0) -> int:
        """Started days after the deadline (plus extension and grace); 0 when on time or unknown."""
        if submitted is None or due is None:
            return 0
        over = submitted - due - dt.timedelta(days=extension_days, minutes=self.grace_minutes)
        return max(0, math.ceil(over.total_seconds() / 86400))

    def penalty(self, days: int, max_points: float) -> float:
        return round(min(self.cap, self.per_day * days) * max_points, 6)


@dataclass
class Course:
    root: Path
    seed: str
    limits: dict = field(default_factory=dict)
    late: LatePolicy = field(default_factory=LatePolicy)
    due: dict[str, dt.datetime] = field(default_factory=dict)
    extensions: dict[str, dict[str, float]] = field(default_factory=dict)
    roster: list[Student] = field(default_factory=list)
    released: dict[str, dt.datetime] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)  # [canvas], [moodle]: read once, checked

    def grades_dir(self, assignment_id: str) -> Path:
        return self.root / "grades" / assignment_id

    def extension(self, student: str, assignment_id: str) -> float:
        return float(self.extensions.get(student, {}).get(assignment_id, 0))


def init(root: Path) -> list[Path]:
    """Create a course folder; never overwrites (an existing secret would be lost)."""
    root.mkdir(parents=True, exist_ok=True)
    written = []
    files = {
        COURSE_FILE: COURSE_TEMPLATE.format(),
        SECRET_FILE: SECRET_TEMPLATE.format(seed=secrets.token_hex(32)),
        ROSTER_FILE: ",".join(ROSTER_COLUMNS) + "\n",
        # What must never reach a repository: the seed of the hidden inputs, the students' names and
        # emails, and their grades (course.toml holds no secret and may be shared).
        ".gitignore": (f"# never commit the seed of the hidden inputs\n{SECRET_FILE}\n"
                       f"# nor the students' names, emails and grades\n{ROSTER_FILE}\ngrades/\n"),
    }
    existing = [name for name in files if (root / name).exists()]
    if existing:
        raise CourseError(f"{root} already holds {', '.join(existing)}: nothing was changed "
                          "(remove them first to start a new course)")
    for name, text in files.items():
        path = root / name
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        # The seed and the roster (names, emails) are the instructor's only.
        fd = os.open(path, flags, 0o600 if name in (SECRET_FILE, ROSTER_FILE) else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        written.append(path)
    return written


def _toml(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
        return tomllib.loads(text), text
    except FileNotFoundError:
        raise CourseError(f"{path} is missing: create the course with `dlbasics init {path.parent}`") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CourseError(f"{path} is not valid TOML ({error}): fix it and run again") from None


def _when(value, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            raise CourseError(f"{where}: {value!r} is not a date and time like 2026-12-04T23:59:00+01:00") from None
    else:
        raise CourseError(f"{where}: give a date and time like 2026-12-04T23:59:00+01:00")
    if when.tzinfo is None:
        raise CourseError(f"{where}: {value!r} has no time zone; add one, e.g. +01:00 or Z")
    try:
        when.astimezone(dt.UTC)
    except OverflowError:
        raise CourseError(f"{where}: {value!r} is out of range") from None
    return when


@dataclass(frozen=True)
class Key:
    """One key of course.toml: what it takes, its default, and why it exists."""

    kind: str  # "number" (>= 0), "fraction" (0..1), "positive", "text", "choice", "time", "table"
    default: object
    reason: str
    choices: tuple = ()


# The one declared schema of course.toml. Every section and key the kit reads is here; any
# other is a typo and refused with its line, because a silently ignored typo (a misspelled
# assignment id under [due]) silently removes a penalty. Tables keyed by assignment ids or
# student ids ([due], [released], [extensions]) are checked against the assignments and the
# roster in :func:`load`. [limits] takes the fields of ``autograder.sandbox.pool.Limits``
# (their defaults and reasons are there).
SCHEMA: dict[str, dict[str, Key]] = {
    "late": {
        "per_day": Key("fraction", 0.10, "fraction of the points taken off per started day late; over 1 "
                                         "would take more than the assignment is worth"),
        "cap": Key("fraction", 0.50, "at most this fraction is taken off in all"),
        "grace_minutes": Key("number", 15.0, "minutes after the deadline still on time: an upload takes a moment"),
        "times": Key("choice", "record", "where submission times come from: 'record' (nbgrader's timestamp.txt, "
                                         "--times, Gradescope's metadata) or 'file' (the files' modification "
                                         "times, only for a folder whose times were preserved; an LMS download's "
                                         "are the download time)", ("record", "file")),
    },
    "canvas": {
        "sis_user_id": Key("text", "id", "the roster column of Canvas's SIS User ID"),
        "sis_login_id": Key("text", "email", "the roster column of Canvas's SIS Login ID"),
        "assignments": Key("table", {}, "assignment id -> Canvas column name '<title> (<assignment id>)'"),
    },
    "moodle": {
        "id_number": Key("text", "id", "the roster column of Moodle's ID number"),
        "assignments": Key("table", {}, "assignment id -> Moodle grade item name"),
    },
}
# Sections keyed by assignment id (values: a date and time with a zone).
TIME_TABLES = {"due": "when each assignment is due", "released": "when each assignment was handed out: a "
               "submission time before it is not believed"}
SECTIONS = ("limits", *SCHEMA, *TIME_TABLES, "extensions")


def _line(text: str, section: str, key: str | None = None) -> str:
    """``:N`` of the line in course.toml that holds ``[section]`` (and ``key`` in it), or ''."""
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            current = line.strip("[] ").split(".")[0].strip('"')
            if key is None and current == section:
                return f":{number}"
            continue
        if current == section and key is not None:
            name = line.split("=", 1)[0].strip().strip('"').strip("'")
            if name == key:
                return f":{number}"
    return ""


def _check_key(where: str, key: Key, value):
    """The value of one declared key, or CourseError saying what it takes."""
    if key.kind in ("number", "fraction", "positive"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise CourseError(f"{where}: give a number (default {key.default}: {key.reason})")
        if value < 0 or (key.kind == "fraction" and value > 1) or (key.kind == "positive" and value <= 0):
            bound = "between 0 and 1" if key.kind == "fraction" else "positive" if key.kind == "positive" else ">= 0"
            raise CourseError(f"{where}: {value!r} must be {bound} ({key.reason})")
        return float(value)
    if key.kind == "choice":
        if value not in key.choices:
            raise CourseError(f"{where}: one of {', '.join(map(repr, key.choices))}, got {value!r} ({key.reason})")
        return value
    if key.kind == "text":
        if not isinstance(value, str):
            raise CourseError(f"{where}: give a text in quotes ({key.reason})")
        return value
    if not isinstance(value, dict):
        raise CourseError(f"{where}: give a table ({key.reason})")
    return value


def check_config(config: dict, text: str, path: Path, roster: list[Student] | None = None,
                 assignments=None) -> dict:
    """``config`` checked against :data:`SCHEMA`; every problem names the line to fix."""
    from dataclasses import fields

    from autograder.sandbox.pool import Limits

    # The assignment ids of the kit, given by the caller (course.py does not discover assignments):
    # None leaves them unchecked.
    ASSIGNMENTS = assignments
    def at(section, key=None):
        return f"{path}{_line(text, section, key)}: [{section}]" + (f" {key}" if key is not None else "")

    for section, table in config.items():
        if section not in SECTIONS:
            raise CourseError(f"{path}{_line(text, section)}: unknown section [{section}]; the sections are "
                              f"{', '.join(f'[{s}]' for s in SECTIONS)}")
        if not isinstance(table, dict):
            raise CourseError(f"{at(section)} must be a table")
    limit_names = [f.name for f in fields(Limits)]
    for name, value in config.get("limits", {}).items():
        if name not in limit_names:
            raise CourseError(f"{at('limits', name)}: unknown limit; the limits are: {', '.join(limit_names)}")
        _check_key(at("limits", name), Key("positive", None, "seconds (see Limits in autograder/sandbox/pool.py)"),
                   value)
    for section, keys in SCHEMA.items():
        for name, value in config.get(section, {}).items():
            if name not in keys:
                raise CourseError(f"{at(section, name)}: unknown key; [{section}] takes "
                                  + ", ".join(f"{k} ({v.reason})" for k, v in keys.items()))
            _check_key(at(section, name), keys[name], value)
        names = config.get(section, {}).get("assignments", {})
        for assignment, column in names.items():
            if ASSIGNMENTS is not None and assignment not in ASSIGNMENTS:
                raise CourseError(f"{path}{_line(text, section, assignment)}: [{section}.assignments] names the "
                                  f"unknown assignment {assignment!r}; the assignments are: {', '.join(ASSIGNMENTS)}")
            if not isinstance(column, str) or not column.strip():
                raise CourseError(f"{path}{_line(text, section, assignment)}: [{section}.assignments] maps an "
                                  'assignment id to its column name, e.g. "01-linear-regression" = '
                                  '"Linear regression (12345)"')
    for section in TIME_TABLES:
        for assignment, value in config.get(section, {}).items():
            if ASSIGNMENTS is not None and assignment not in ASSIGNMENTS:
                raise CourseError(f"{at(section, assignment)}: unknown assignment id; the assignments are: "
                                  f"{', '.join(ASSIGNMENTS)}")
            _when(value, at(section, assignment))
    known = {student.id for student in roster or []}
    for student, days in config.get("extensions", {}).items():
        where = at("extensions", student)
        if student not in known:
            raise CourseError(f"{where}: {student!r} is not an id of {path.parent / ROSTER_FILE}; an extension is "
                              "given to a roster id")
        if not isinstance(days, dict):
            raise CourseError(f"{where}: write {student} = {{ \"<assignment>\" = <days> }}")
        for assignment, value in days.items():
            if ASSIGNMENTS is not None and assignment not in ASSIGNMENTS:
                raise CourseError(f"{where}: unknown assignment id {assignment!r}; the assignments are: "
                                  f"{', '.join(ASSIGNMENTS)}")
            _check_key(f"{where} {assignment}", Key("number", 0, "extra days on the deadline"), value)
    return config


def load(root: Path, assignments=None) -> Course:
    """The course folder, its files read once and checked (:func:`check_config`); ``assignments``:
    the kit's assignment ids, which every id the course file names must be one of."""
    if not root.is_dir():
        raise CourseError(f"no course folder at {root}: create one with `dlbasics init {root}`")
    path = root / COURSE_FILE
    config, text = _toml(path)
    secret, _ = _toml(root / SECRET_FILE)
    seed = secret.get("seed")
    if not isinstance(seed, str) or len(seed) < 16:
        raise CourseError(f"{root / SECRET_FILE} needs a line seed = \"…\" of at least 16 characters")
    roster_path = root / ROSTER_FILE
    roster = read_roster(roster_path) if roster_path.exists() else []
    check_config(config, text, path, roster, assignments)
    late = {key: config.get("late", {}).get(key, spec.default) for key, spec in SCHEMA["late"].items()}
    policy = LatePolicy(per_day=float(late["per_day"]), cap=float(late["cap"]),
                        grace_minutes=float(late["grace_minutes"]), times=late["times"])
    due = {name: _when(value, name) for name, value in config.get("due", {}).items()}
    released = {name: _when(value, name) for name, value in config.get("released", {}).items()}
    return Course(root=root, seed=seed, limits=dict(config.get("limits", {})), late=policy, due=due,
                  extensions=config.get("extensions", {}), roster=roster, released=released,
                  tables={name: config.get(name, {}) for name in SCHEMA})


def read_roster(path: Path) -> list[Student]:
    """The roster CSV (a spreadsheet's UTF-8 export with its BOM is fine); ``id`` is required."""
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "id" not in columns:
        raise CourseError(f"{path} needs a header row with at least the column id "
                          f"(all columns: {', '.join(ROSTER_COLUMNS)})")
    students, seen = [], set()
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("id"):
            raise CourseError(f"{path}:{line}: the id is empty")
        if row["id"] in seen:
            raise CourseError(f"{path}:{line}: the id {row['id']!r} appears twice")
        seen.add(row["id"])
        students.append(Student(**{k: row.get(k, "") for k in ROSTER_COLUMNS}))
    return students


def canvas_name(name: str) -> str:
    """What Canvas puts first in a bulk-download file name for a student called ``name``.

    Canvas names each file by the user's sortable name ("Last, First"), lower-cased, with
    every non-word character removed (Tom Nolms -> ``nolmstom``). A roster name written
    "Last, First" is already sortable; otherwise the last word is taken as the last name,
    as Canvas does when it derives a sortable name.
    """
    if "," in name:
        sortable = name
    else:
        first, _, last = name.strip().rpartition(" ")
        sortable = f"{last}, {first}" if first else last
    return re.sub(r"\W", "", sortable.lower())


# Identity fields, strongest first; each is its own namespace (a value is compared only with
# that field of each roster student). "lms_id" is the platform's own id (Canvas's user id,
# Moodle's participant id), "id" the roster id (nbgrader's student folder is one), "email"
# the full address; "local" (the part before @), "canvas_name" (for students without an
# lms_id) and "name" (Moodle's full name, likewise) are weak: a student chooses them.
FIELDS = ("lms_id", "id", "email", "local", "canvas_name", "name")


def _field(student: Student, kind: str) -> str:
    if kind == "local":
        return student.email.split("@")[0] if "@" in student.email else ""
    if kind in ("canvas_name", "name"):  # a display name counts only where the roster lacks the platform's id
        if student.lms_id or not student.name:
            return ""
        return canvas_name(student.name) if kind == "canvas_name" else student.name
    return getattr(student, kind)


def identify(claims: list[tuple[str, str]], roster: list[Student]) -> tuple[str | None, str]:
    """The roster id that ``claims`` [(field, value), ...] name, or ``(None, why not)``.

    Claims are tried in the order of :data:`FIELDS`: the strongest field whose value matches
    exactly one roster student decides; two students matching at that strength is a tie,
    refused rather than guessed. Comparison ignores case and surrounding space.
    """
    for kind in FIELDS:
        for claimed, value in claims:
            value = value.strip().casefold()
            if claimed != kind or not value:
                continue
            matches = [s.id for s in roster if _field(s, kind).strip().casefold() == value]
            if len(matches) == 1:
                return matches[0], ""
            if len(matches) > 1:
                return None, (f"{kind} {value!r} matches several roster students ({', '.join(matches[:5])}): "
                              "rename the file to one roster id")
    return None, "on no roster line"


# Canvas's bulk download (Canvas's SubmissionsController#index zip, "submissions_zip"):
# <sortable name lower-cased, non-word characters removed>[_LATE]_<user id>_<attachment id>_<file name>;
# a file the student uploaded twice under one name may carry -1, -2 before the extension.
CANVAS_FILE = re.compile(r"^(?P<login>[^_]*?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)$")
# Moodle's "Download all submissions": one folder per student,
# <Full Name>_<participant id>_assignsubmission_file_ (the file plugin's folder).
MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<user>\d+)_assignsubmission_file_?$")


def roster_id(name: str, roster: list[Student]) -> str | None:
    """The roster id a plain file or folder name (id, email, email's local part) names, or None."""
    stem = name.removesuffix(".ipynb")
    return identify([("id", stem), ("email", stem), ("local", stem)], roster)[0]
