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
import hashlib
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


def seed_fingerprint(seed: str) -> str:
    """Names a seed in the gradebook and in messages without revealing it."""
    return hashlib.sha256(f"dlbasics-seed:{seed}".encode()).hexdigest()[:16]


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


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
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
    return when


def load(root: Path) -> Course:
    if not root.is_dir():
        raise CourseError(f"no course folder at {root}: create one with `dlbasics init {root}`")
    config = _toml(root / COURSE_FILE)
    secret = _toml(root / SECRET_FILE)
    seed = secret.get("seed")
    if not isinstance(seed, str) or len(seed) < 16:
        raise CourseError(f"{root / SECRET_FILE} needs a line seed = \"…\" of at least 16 characters")
    limits = config.get("limits", {})
    if not isinstance(limits, dict) or not all(isinstance(v, (int, float)) and v > 0 for v in limits.values()):
        raise CourseError(f"{root / COURSE_FILE}: [limits] takes positive numbers of seconds")
    late = config.get("late", {})
    try:
        policy = LatePolicy(**{k: float(v) for k, v in late.items()})
    except (TypeError, ValueError) as error:
        raise CourseError(f"{root / COURSE_FILE}: [late] takes per_day, cap and grace_minutes ({error})") from None
    due = {name: _when(value, f"{root / COURSE_FILE}: [due] {name}") for name, value in config.get("due", {}).items()}
    extensions = config.get("extensions", {})
    for student, days in extensions.items():
        if not isinstance(days, dict) or not all(isinstance(v, (int, float)) for v in days.values()):
            raise CourseError(f"{root / COURSE_FILE}: [extensions] {student} = {{ \"<assignment>\" = <days> }}")
    roster_path = root / ROSTER_FILE
    roster = read_roster(roster_path) if roster_path.exists() else []
    return Course(root=root, seed=seed, limits=dict(limits), late=policy, due=due, extensions=extensions,
                  roster=roster)


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


# Canvas's bulk download: <login><_LATE>_<user id>_<submission id>_<the file's name>.
_CANVAS = re.compile(r"^(?P<login>[^_]+?)(?:_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$")


def roster_id(name: str, roster: list[Student]) -> str | None:
    """The roster id a submission's file or folder name belongs to, or None.

    Tried in order: the roster id itself, an email or LMS id, then an LMS bulk-download
    name (Canvas: ``doejane_LATE_12345_67890_linear_regression.ipynb``, matched by its user
    id against ``lms_id``, or by its login against the email's local part or the id).
    """
    stem = name.removesuffix(".ipynb")
    by_key: dict[str, str] = {}
    for student in roster:
        for key in (student.id, student.email, student.lms_id):
            if key:
                by_key.setdefault(key.lower(), student.id)
    if stem.lower() in by_key:
        return by_key[stem.lower()]
    match = _CANVAS.match(name)
    if match:
        if match["user"] in by_key:
            return by_key[match["user"]]
        login = match["login"].lower()
        for student in roster:
            if login in (student.id.lower(), student.email.lower().split("@")[0]):
                return student.id
    return None
