"""Intake: which files are submissions, who they belong to, and their bytes, read once.

Everything here handles what students control: file names, folder names, the file type,
the size, the bytes. So it takes only regular files, never follows a symbolic link inside
the submissions (a link to the kit's solution would otherwise be graded, a link to
``/dev/zero`` read forever), checks the size with ``fstat`` before reading, reads with a
bound, and hands the grader exactly the bytes it hashed. Student ids are valid text and
unique by construction; output folder names are an injective encoding of the id, so two
students never share a folder and no id can name one of the kit's own files.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from autograder.notebook.submission import UnreadableNotebook
from autograder.text import name_text

# A course notebook with its plots saved is well under 5 MB. Past 20 MB it is not an answer
# but a payload: parsing 20 MB of JSON costs the grader ~0.2 s and ~200 MB, a bound that
# holds for every submission of a class graded in parallel.
MAX_FILE_BYTES = 20 * 1024 * 1024

# Per-student outputs live under this folder of the output directory, apart from the
# class-wide files (grades.csv, the gradebook, summaries): handing out OUT/feedback/ hands
# out feedback and nothing else.
FEEDBACK_DIR = "feedback"


@dataclass(frozen=True)
class Submission:
    """One student's file. ``student`` is unique in the batch; ``path`` is never followed if a link.

    ``submitted_at`` (ISO 8601, UTC) comes from a record (see :func:`collect`), or is None:
    time unknown, no penalty. ``time_note`` says why a time is missing or was not believed;
    ``late_marker``: the platform marked it late without saying when (Canvas's ``_LATE``).
    """

    student: str
    path: Path
    submitted_at: str | None = None
    time_note: str = ""
    late_marker: bool = False


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


def read_submission(path: Path) -> bytes:
    """The file's bytes, or :class:`UnreadableNotebook` saying why they cannot be graded.

    Opened without following a link and without blocking (a FIFO would block an ordinary
    open forever); only a regular file is read, and only after ``fstat`` shows a size
    within the bound; the read itself is bounded too, in case the file grows meanwhile.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnreadableNotebook("the submission is a symbolic link, not a file: submit the notebook "
                                     "itself (links are never followed)") from None
        raise UnreadableNotebook(f"cannot open the file ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                    else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                    else "a socket" if stat.S_ISSOCK(info.st_mode) else "not an ordinary file")
            raise UnreadableNotebook(f"the submission is {kind}, not a notebook file")
        if info.st_size == 0:
            raise UnreadableNotebook("the file is empty: submit the saved notebook (File > Save, then upload it)")
        if info.st_size > MAX_FILE_BYTES:
            raise UnreadableNotebook(f"the file is {info.st_size / 2**20:.0f} MB, over the "
                                     f"{MAX_FILE_BYTES // 2**20} MB limit: clear the outputs "
                                     "(Edit > Clear Outputs of All Cells), save, and submit again")
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise UnreadableNotebook(f"the file grew past the {MAX_FILE_BYTES // 2**20} MB limit while it was read")
        return b"".join(chunks)
    except OSError as error:
        raise UnreadableNotebook(f"cannot read the file ({error.strerror})") from None
    finally:
        os.close(fd)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        return sorted(entries, key=lambda e: e.name)


# --- Times ----------------------------------------------------------------------------------

# nbgrader's Exchange.timestamp_format default, e.g. "2026-11-21 19:00:00.000000 UTC" (the zone
# as strftime's %Z names it, or a numeric offset when configured so).
NBGRADER_TIME = re.compile(r"^(?P<when>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s+(?P<zone>\S+)$")
# A clock a few minutes ahead (the LMS's, nbgrader's server's) is not a forged time; more is.
CLOCK_SKEW = dt.timedelta(minutes=5)
# timestamp.txt holds one line of ~30 characters; anything longer is not nbgrader's.
MAX_STAMP_BYTES = 200


def parse_time(text: str) -> dt.datetime:
    """A submission time as nbgrader or an LMS writes it, as an aware datetime; ValueError if not one.

    nbgrader's default ``%Y-%m-%d %H:%M:%S.%f %Z`` and ISO 8601 forms. Written by hand
    rather than with ``dateutil.parser`` (which nbgrader uses): that parser accepts almost any
    text and fills in what is missing from today's date, and a grade must not rest on a guess.
    A time without a zone is UTC, as nbgrader's ``parse_utc`` reads it.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    text = text.strip()
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        match = NBGRADER_TIME.match(text)
        if not match:
            raise ValueError(f"{text[:60]!r} is not a date and time") from None
        when = dt.datetime.fromisoformat(match["when"])
        zone = match["zone"]
        if zone.upper() in ("UTC", "GMT", "Z"):
            when = when.replace(tzinfo=dt.UTC)
        elif re.fullmatch(r"[+-]\d{2}:?\d{2}", zone):
            when = dt.datetime.fromisoformat(match["when"].replace(" ", "T") + zone)
        else:
            try:
                when = when.replace(tzinfo=ZoneInfo(zone))
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {zone[:40]!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when


def checked_time(text: str, source: str, now: dt.datetime, released: dt.datetime | None) -> tuple[str | None, str]:
    """``(ISO time in UTC, "")`` or ``(None, note naming the time and why it was not used)``.

    Malformed, out of range (year 9999 with a negative offset), in the future or before the
    assignment was handed out: kept out of the lateness arithmetic, never an exception.
    """
    shown = name_text(text.strip()[:60])
    try:
        when = parse_time(text).astimezone(dt.UTC)
    except (ValueError, OverflowError) as error:
        return None, f"the submission time {shown!r} from {source} is not usable ({error}): time unknown"
    if when > now + CLOCK_SKEW:
        return None, f"the submission time {shown!r} from {source} is in the future: time unknown"
    if released is not None and when < released:
        return None, (f"the submission time {shown!r} from {source} is before the assignment was handed out: "
                      "time unknown")
    return when.isoformat(timespec="seconds"), ""


def read_times(path: Path) -> dict[str, str]:
    """The instructor's submission times (``--times FILE``): CSV with columns student,time."""
    import csv

    from autograder.course import CourseError

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CourseError(f"{path}: cannot read the submission times ({error})") from None
    reader = csv.DictReader(io.StringIO(text))
    names = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if "student" not in names or "time" not in names:
        raise CourseError(f"{path}: the submission times need a header row student,time")
    times: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        if not row.get("student"):
            raise CourseError(f"{path}:{line}: the student is empty")
        if row["student"] in times:
            raise CourseError(f"{path}:{line}: {row['student']!r} appears twice; give one time per student")
        times[row["student"]] = row.get("time", "")
    return times


def _stamp(folder: Path) -> str | None:
    """The text of ``folder/timestamp.txt``, if it is a small regular file (never a link)."""
    try:
        fd = os.open(folder / "timestamp.txt", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_STAMP_BYTES:
            return "not a timestamp"
        return os.read(fd, MAX_STAMP_BYTES).decode("utf-8", "replace")
    finally:
        os.close(fd)


# --- Finding notebooks ----------------------------------------------------------------------

# When several notebooks are named in a row's message: a few names, each cut, enough to find them.
SHOWN_NAMES, SHOWN_NAME_CHARS = 8, 100

# A student's folder with more files than this is not a submission but a payload: listing it
# would cost time for nothing (the Gradescope runner has the same bound).
MAX_FOLDER_ENTRIES = 1000
# Folders below a submission's own that are looked into: a notebook is one or two levels down
# (an unzipped download: student/assignment/notebook); an upload nested deeper is a payload (an
# uploaded zip of 1 100 nested folders once made Python 3.11's recursive os.walk fail).
MAX_FOLDER_DEPTH = 16


def _ignored(name: str) -> bool:
    # Hidden folders (Jupyter's .ipynb_checkpoints) hold copies, not a second answer; so does
    # the folder macOS adds to a zip (__MACOSX/._x.ipynb).
    return name.startswith(".") or name == "__MACOSX"


def _walk(folder: Path, skipped: list):
    """``(folder, subfolders, files)`` below ``folder``, top-down, iteratively (no recursion, so no
    depth can exhaust the stack), at most :data:`MAX_FOLDER_DEPTH` levels deep, never through a
    link (listed in ``skipped``), hidden and ``__MACOSX`` folders left out."""
    stack = [(str(folder), 0)]
    while stack:
        where, depth = stack.pop()
        try:
            entries = sorted(os.scandir(where), key=lambda e: e.name)
        except OSError:
            continue
        folders, files = [], []
        for entry in entries:
            if entry.is_symlink():
                if entry.is_dir():  # follows the link only to say what it is; never descends
                    skipped.append(Skipped(Path(entry.path), "a symbolic link (never followed)"))
                else:
                    files.append(entry.name)  # read_submission refuses it with the reason
            elif entry.is_dir(follow_symlinks=False):
                if not _ignored(entry.name):
                    folders.append(entry.name)
            else:
                files.append(entry.name)
        yield where, folders, files
        if depth >= MAX_FOLDER_DEPTH:
            if folders:
                skipped.append(Skipped(Path(where), f"folders nested deeper than {MAX_FOLDER_DEPTH} levels are "
                                                    "not looked into"))
            continue
        stack.extend((os.path.join(where, name), depth + 1) for name in reversed(folders))


def notebooks_in(folder: Path, limit: int = MAX_FOLDER_ENTRIES,
                 stamps: list | None = None) -> tuple[list[Path], list[Skipped], str]:
    """Every ``.ipynb`` under ``folder`` (never through a link), what was passed over, and a
    reason if the folder cannot be a submission (too many files); each ``timestamp.txt`` seen
    is appended to ``stamps``."""
    found, skipped, seen = [], [], 0
    for where, folders, files in _walk(folder, skipped):
        seen += len(folders)  # a folder counts as an entry: a tree of empty folders is a payload too
        for name in sorted(files):
            seen += 1
            if seen > limit:
                return [], skipped, f"the submission holds over {limit} files: submit only the notebook"
            if name.lower().endswith(".ipynb"):
                found.append(Path(where, name))
            elif name == "timestamp.txt" and stamps is not None:
                stamps.append(Path(where, name))
    return found, skipped, ""


def _answered(path: Path, assignment) -> int:
    """2: holds the assignment's answer cells with something written in one; 1: holds them,
    untouched (a copy of the template); 0: holds none of them or cannot be read."""
    from autograder.notebook.submission import load_notebook, nbgrader_meta, parse_notebook

    try:
        notebook = parse_notebook(read_submission(path))
        cells = {nbgrader_meta(c).get("grade_id"): c.get("source") for c in notebook["cells"]}
        template = {nbgrader_meta(c).get("grade_id"): c.get("source")
                    for c in load_notebook(assignment.release)["cells"] if nbgrader_meta(c).get("solution")}
    except (UnreadableNotebook, OSError, ValueError, KeyError, TypeError, AttributeError):
        return 0
    held = [grade_id for grade_id in template if grade_id in cells]
    if not held:
        return 0

    def text(source) -> str:
        return "".join(source) if isinstance(source, list) else str(source or "")

    return 2 if any(text(cells[g]).strip() != text(template[g]).strip() for g in held) else 1


def choose(candidates: list[Path], assignment, times: dict[Path, str | None] | None = None,
           root: Path | None = None) -> tuple[Path | None, str]:
    """The notebook that counts among one student's ``candidates``: ``(path, why)`` or ``(None, why not)``.

    Newest by submission time first (unknown times count as oldest); then one that holds
    answers (an untouched copy of the template never wins over a worked notebook); then the
    one named like the template. Still several: none is guessed.
    """
    if len(candidates) == 1:
        return candidates[0], ""
    times = times or {}
    newest = max((times.get(p) or "" for p in candidates), default="")
    pool = [p for p in candidates if (times.get(p) or "") == newest]
    if len(pool) == 1:
        return pool[0], f"the newest submission ({newest})"
    answered = {p: _answered(p, assignment) for p in pool}
    best = max(answered.values())
    pool = [p for p in pool if answered[p] == best]
    if len(pool) == 1:
        return pool[0], "the one with the assignment's answers" if best else "the only notebook of the assignment"
    named = [p for p in pool if given_name(p) == assignment.notebook]
    if len(named) == 1:
        return named[0], f"named {assignment.notebook}"
    def shown(path: Path) -> str:
        try:
            return name_text(str(path.relative_to(root)))[:SHOWN_NAME_CHARS] if root else name_text(path.name)
        except ValueError:
            return name_text(path.name)[:SHOWN_NAME_CHARS]

    names = ", ".join(shown(p) for p in candidates[:SHOWN_NAMES]) + (", ..." if len(candidates) > SHOWN_NAMES else "")
    return None, (f"{len(candidates)} notebooks were submitted ({names}) and it is not clear which to grade: submit "
                  f"only {assignment.notebook} (none of them is newer, alone in holding the assignment's answers, "
                  "or named so)")


def given_name(path: Path) -> str:
    """The name the student gave the file: a Canvas download's file part, without the ``-1``,
    ``-2`` Canvas appends to a name uploaded before; otherwise the file's name."""
    from autograder.course import CANVAS_FILE

    match = CANVAS_FILE.match(path.name)
    if not match:
        return path.name
    return re.sub(r"-\d+(\.ipynb)$", r"\1", match["file"])


def find_notebook(folder: Path, assignment, limit: int = MAX_FOLDER_ENTRIES) -> tuple[Path | None, str]:
    """The one notebook to grade in a submission folder (Gradescope's ``submission/``), or
    ``(None, why)``: :func:`choose`'s rules, as for every student's folder in :func:`collect`."""
    if not folder.is_dir() or folder.is_symlink():
        return None, f"nothing was submitted: upload {assignment.notebook}"
    found, _, problem = notebooks_in(folder, limit)
    if problem:
        return None, problem
    if not found:
        return None, f"no notebook (.ipynb file) was found in the submission: upload {assignment.notebook}"
    return choose(found, assignment, root=folder)


# --- Collecting a class -----------------------------------------------------------------------

@dataclass
class _Found:
    """One notebook found, before it is mapped to a roster student."""

    path: Path
    raw: str  # the id it has if it maps to nobody
    claims: list  # [(field, value)], see autograder.course.FIELDS
    inner: list = None  # claims of the file's own name inside a student's folder
    layout: str = "file"  # "file", "folder", "nbgrader", "canvas", "moodle"
    problem: str = ""
    time: str | None = None
    note: str = ""
    late: bool = False


@dataclass
class Intake:
    """What :func:`collect` found: one submission or problem row per student, and what it passed over."""

    submissions: list[Submission]
    skipped: list[Skipped]
    problems: list[tuple]  # (student, path, reason): a row saying why it cannot be graded
    warnings: list[str]
    unmatched: list[tuple[str, Path]]  # (id graded, file): on no roster line


def _nbgrader_root(item: Path) -> Path | None:
    """``item`` as nbgrader's ``submitted/`` folder (named so, or the course folder holding it)."""
    if item.name == "submitted":
        return item
    inner = item / "submitted"
    return inner if inner.is_dir() and not inner.is_symlink() else None


def _scan(item: Path, assignment, skipped: list[Skipped]) -> list[_Found]:
    from autograder.course import CANVAS_FILE, MOODLE_FOLDER

    found: list[_Found] = []
    nbgrader = _nbgrader_root(item)
    folder = nbgrader or item
    for entry in _entries(folder):
        path, name = Path(entry.path), name_text(entry.name)
        if _ignored(entry.name) and entry.is_dir(follow_symlinks=False):
            continue
        if entry.is_symlink():
            if entry.name.endswith(".ipynb") or entry.is_dir():
                found.append(_Found(path, name.removesuffix(".ipynb"), [], problem=(
                    "the submission is a symbolic link: links are never followed; submit the notebook itself")))
            else:
                skipped.append(Skipped(path, "a symbolic link (never followed)"))
        elif entry.is_dir(follow_symlinks=False):
            moodle = MOODLE_FOLDER.match(entry.name)
            nested = path / assignment.id
            if moodle:
                claims, layout = [("lms_id", moodle["user"]), ("name", moodle["name"])], "moodle"
            else:
                claims = [("id", entry.name), ("email", entry.name), ("local", entry.name)]
                layout = "nbgrader" if nbgrader else "folder"
                if nbgrader and (not nested.is_dir() or nested.is_symlink()):
                    # nbgrader's submitted/<student>/ holds one folder per assignment: none for this one.
                    skipped.append(Skipped(path, f"no {assignment.id} folder in nbgrader's submitted/<student>/"))
                    continue
            root = nested if layout == "nbgrader" else path
            stamps: list[Path] = []
            notebooks, passed, problem = notebooks_in(root, stamps=stamps)
            skipped += passed
            note = ""
            if layout != "nbgrader" and stamps:
                note = ("a timestamp.txt in the student's folder was ignored: only nbgrader's "
                        "submitted/<student>/<assignment>/timestamp.txt counts")
            if problem or not notebooks:
                if problem:
                    found.append(_Found(path, name, claims, layout=layout, problem=problem))
                else:
                    skipped.append(Skipped(path, "a folder with no notebook"))
                continue
            for notebook in notebooks:
                stem = notebook.name.removesuffix(".ipynb")
                inner = [("id", stem), ("email", stem), ("local", stem)] if notebook.name != assignment.notebook else []
                found.append(_Found(notebook, name, claims, inner, layout, note=note))
        elif entry.name.endswith(".ipynb"):
            canvas = CANVAS_FILE.match(entry.name)
            if canvas:
                found.append(_Found(path, name_text(f"{canvas['login']}_{canvas['user']}"),
                                    [("lms_id", canvas["user"]), ("canvas_name", canvas["login"])],
                                    layout="canvas", late=bool(canvas["late"])))
            else:
                stem = name.removesuffix(".ipynb")
                found.append(_Found(path, stem, [("id", stem), ("email", stem), ("local", stem)]))
        else:
            skipped.append(Skipped(path, "not a .ipynb notebook"))
    return found


def collect(inputs: list[Path], assignment, course=None, times: dict[str, str] | None = None,
            now: dt.datetime | None = None) -> Intake:
    """Who handed in what, and when: one row per student of ``inputs`` (files, folders of notebooks,
    folders of student folders, nbgrader's ``submitted/``, Canvas and Moodle downloads).

    Identity (with a roster): :func:`autograder.course.identify`, field by field, strongest first;
    the file name inside a student's folder never overrides the folder, and a file name naming
    another roster student is a row that says so. Time: nbgrader's ``timestamp.txt`` inside
    ``submitted/<student>/<assignment>/``, ``times`` (the instructor's ``--times``, by student),
    the file's modification time only with ``[late] times = "file"``; otherwise unknown (no
    penalty, a warning). Several files of one student: :func:`choose`.
    """
    from autograder.course import identify

    now = now or dt.datetime.now(dt.UTC)
    roster = course.roster if course else []
    released = course.released.get(assignment.id) if course else None
    by_file = course is not None and course.late.times == "file"
    skipped: list[Skipped] = []
    found: list[_Found] = []
    for item in inputs:
        if not os.path.lexists(item):
            raise FileNotFoundError(f"no such file or folder: {item}")
        if item.is_dir():  # a folder named on the command line is the instructor's: followed
            found += _scan(item, assignment, skipped)
        else:
            stem = name_text(item.name).removesuffix(".ipynb")
            found.append(_Found(item, stem, [("id", stem), ("email", stem), ("local", stem)]))
    warnings: list[str] = []
    unmatched: list[tuple[str, Path]] = []
    rows: dict[str, list[_Found]] = {}
    ids = {student.id for student in roster}
    for one in found:
        student = one.raw
        if roster and one.claims:
            student, why = identify(one.claims, roster)
            if student and one.inner:
                other, _ = identify(one.inner, roster)
                if other and other != student:
                    one.problem = (f"the folder is {student}'s but the notebook in it is named for {other} "
                                   f"({name_text(one.path.name)}): check whose work it is, then rename the file")
            if student is None:
                student = one.raw
                if student in ids:  # an unmatched file never takes a roster student's row by its raw name
                    student = f"{student} (unmatched)"
                if why != "on no roster line":
                    one.problem = why
                unmatched.append((student, one.path))
        rows.setdefault(student, []).append(one)
    # Times, from the records only.
    for student, ones in rows.items():
        for one in ones:
            if times and student in times:
                one.time, note = checked_time(times[student], "--times", now, released)
                one.note = "; ".join(filter(None, [one.note, note]))
            elif one.layout == "nbgrader":
                stamp_dir = _nbgrader_stamp_dir(one.path, assignment)
                text = _stamp(stamp_dir) if stamp_dir else None
                if text is None:
                    one.note = "no timestamp.txt from nbgrader: time unknown"
                else:
                    one.time, one.note = checked_time(text, "nbgrader's timestamp.txt", now, released)
            elif by_file:
                try:
                    mtime = dt.datetime.fromtimestamp(os.lstat(one.path).st_mtime, dt.UTC)
                    one.time, note = checked_time(mtime.isoformat(), "the file's modification time", now, released)
                    one.note = "; ".join(filter(None, [one.note, note]))
                except (OSError, OverflowError, ValueError):
                    one.note = "the file's modification time cannot be read: time unknown"
            if one.late and one.time is None:
                one.note = "; ".join(filter(None, [one.note, "late per Canvas, time unknown: give --times for the "
                                                                "exact penalty"]))
    submissions, problems = [], []
    for student in sorted(rows):
        ones = rows[student]
        broken = [one for one in ones if one.problem]
        if broken:
            problems.append((student, broken[0].path, broken[0].problem))
            for one in ones:
                if one is not broken[0]:
                    skipped.append(Skipped(one.path, f"not graded: {student}'s row says why "
                                                     f"{name_text(broken[0].path.name)} cannot be graded"))
            continue
        paths = {one.path: one for one in ones}
        chosen, why = choose(list(paths), assignment, {p: o.time for p, o in paths.items()})
        if chosen is None:
            problems.append((student, ones[0].path.parent if ones[0].layout != "file" else ones[0].path, why))
            continue
        for one in ones:
            if one.path != chosen:
                skipped.append(Skipped(one.path, f"not graded: {student}'s {name_text(chosen.name)} counts ({why})"))
        one = paths[chosen]
        submissions.append(Submission(student, chosen, one.time, one.note, one.late))
    if times:
        strangers = sorted(set(times) - set(rows))
        if strangers:
            warnings.append("--times names students with no submission here: " + ", ".join(strangers[:10]))
    unknown = sorted(s.student for s in submissions if s.submitted_at is None and not s.late_marker)
    if unknown and course is not None and course.due.get(assignment.id):
        warnings.append(f"time unknown, so no late penalty, for {len(unknown)} submission(s) "
                        f"({', '.join(unknown[:10])}{', ...' if len(unknown) > 10 else ''}): give --times FILE "
                        "(student,time) from the LMS, or set [late] times = \"file\" if the files' times are the "
                        "submission times")
    marked = [s.student for s in submissions if s.submitted_at is None and s.late_marker]
    extended = sorted(s for s in marked if course is not None and course.extension(s, assignment.id))
    marked = sorted(set(marked) - set(extended))
    if marked:
        warnings.append(f"late per Canvas, time unknown, counted as 1 day late: {', '.join(marked[:10])}"
                        f"{', ...' if len(marked) > 10 else ''}: give --times for the exact penalty")
    if extended:
        warnings.append(f"late per Canvas, time unknown, NOT counted late as they have an extension (Canvas's "
                        f"mark is against its own due date): {', '.join(extended[:10])}"
                        f"{', ...' if len(extended) > 10 else ''}: give --times to count it")
    for student, path in unmatched:
        warnings.append(f"{name_text(str(path))} maps to no roster student: graded as {student!r}")
    return Intake(submissions, skipped, problems, warnings, unmatched)


def _nbgrader_stamp_dir(path: Path, assignment) -> Path | None:
    """``submitted/<student>/<assignment>/`` holding ``path``, the only place timestamp.txt counts."""
    for parent in path.parents:
        if parent.name == assignment.id and parent.parent.parent.name == "submitted":
            return parent
    return None


def find_submissions(inputs: list[Path], assignment, roster=None) -> tuple[list[Submission], list[Skipped], list]:
    """:func:`collect` without a course's late policy: ``(submissions, skipped, problems)``."""
    from autograder.course import Course

    course = Course(root=Path("."), seed="", roster=list(roster)) if roster else None
    intake = collect(inputs, assignment, course)
    return intake.submissions, intake.skipped, intake.problems


def _canvas_attachment(file: str) -> tuple[str, int] | None:
    from autograder.course import CANVAS_FILE

    match = CANVAS_FILE.match(Path(file).name)
    return (match["user"], int(match["attachment"])) if match else None


def keep_newer(submissions: list[Submission], stored: dict,
               replace: bool = False) -> tuple[list[Submission], list[str]]:
    """Leave out each submission older than the one the gradebook holds for its student.

    Older: an earlier recorded time, or for two Canvas files of one user a smaller attachment
    id (Canvas numbers attachments in upload order). Unknown order: graded as given.
    """
    kept, notes = [], []
    for submission in submissions:
        previous = stored.get(submission.student)
        older = False
        if previous is not None and not replace:
            try:
                if previous.submitted_at and submission.submitted_at:
                    older = (dt.datetime.fromisoformat(submission.submitted_at)
                             < dt.datetime.fromisoformat(previous.submitted_at))
            except (ValueError, OverflowError):
                older = False
            was, now = _canvas_attachment(previous.file), _canvas_attachment(str(submission.path))
            if was and now and was[0] == now[0] and now[1] < was[1]:
                older = True
        if older:
            notes.append(f"kept {submission.student}'s newer graded submission "
                         f"({name_text(Path(previous.file).name)}, {previous.submitted_at or 'time unknown'}) over "
                         f"the older {name_text(submission.path.name)} ({submission.submitted_at or 'time unknown'}): "
                         "pass --replace to grade the older one instead")
        else:
            kept.append(submission)
    return kept, notes


# Characters kept as they are in folder names; every other one is percent-encoded, '%'
# included, so the encoding is injective: two ids never share a folder.
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@~+")
# A file name may have 255 bytes; long ids keep a prefix and a hash after "%%", which the
# encoding itself never produces.
_MAX_NAME = 120


def folder_name(student: str) -> str:
    """The folder of ``student``'s outputs: a plain name for a plain id, never ``.``/``..``/a path.

    ASCII letters, digits and ``_-.@~+`` stay (a leading dot does not); everything else
    (``/``, ``%``, spaces, unicode, control characters) is percent-encoded as UTF-8.
    """
    raw = student.encode("utf-8", "surrogatepass")
    # A leading dot is encoded too: no folder is "." or "..", none is hidden.
    encoded = "".join(chr(byte) if chr(byte) in _SAFE and (i or byte != ord(".")) else f"%{byte:02X}"
                      for i, byte in enumerate(raw)) or "%"
    if len(encoded) > _MAX_NAME:
        encoded = encoded[:_MAX_NAME] + "%%" + hashlib.sha256(encoded.encode()).hexdigest()[:16]
    return encoded


def student_folder(out: Path, student: str) -> Path:
    """Where one student's feedback.html and results.json go."""
    return out / FEEDBACK_DIR / folder_name(student)


def assignment_of(notebook_path: Path, name: str | None):
    """The assignment a notebook answers: NAME if given, else the one whose notebook file has its name, else
    (a renamed file) the one whose template shares the most grade ids with it."""
    from autograder.checks import ASSIGNMENTS, get_assignment
    from autograder.notebook.submission import load_notebook, nbgrader_meta, parse_notebook

    if name:
        return get_assignment(name)
    for assignment in ASSIGNMENTS.values():
        if notebook_path.name == assignment.notebook:
            return assignment

    def grade_ids(notebook: dict) -> set:
        return {nbgrader_meta(c).get("grade_id") for c in notebook["cells"]} - {None}

    ids = grade_ids(parse_notebook(read_submission(notebook_path)))
    return max(ASSIGNMENTS.values(), key=lambda a: len(ids & grade_ids(load_notebook(a.release))))
