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
import os
import stat
import sys
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

    ``submitted_at`` (ISO 8601, UTC): nbgrader's ``timestamp.txt`` next to the notebook if
    there is one, else the file's modification time (what an LMS download preserves).
    """

    student: str
    path: Path
    submitted_at: str | None = None


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


def _notebook_in_folder(folder: Path, assignment, skipped: list[Skipped]) -> Path | str | None:
    """The notebook to grade in a student's folder, a reason it is ambiguous, or None if there is none.

    nbgrader's ``submitted/<student>/<assignment>/`` layout is looked into; links are never
    followed; among several notebooks the one named like the template wins, and several
    others are reported instead of one being guessed.
    """
    nested = folder / assignment.id
    if nested.is_dir() and not nested.is_symlink():
        folder = nested
    candidates = []
    for entry in _entries(folder):
        if entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
            continue  # .ipynb_checkpoints and other hidden folders: never a submission
        if entry.name.endswith(".ipynb"):
            candidates.append(Path(entry.path))
        elif entry.is_dir(follow_symlinks=False) and entry.name != assignment.id:
            skipped.append(Skipped(Path(entry.path), "a folder inside a student's folder"))
    named = [path for path in candidates if path.name == assignment.notebook]
    if named:
        for other in candidates:
            if other not in named:
                skipped.append(Skipped(other, f"not graded: the folder also holds {assignment.notebook}"))
        return named[0]
    if len(candidates) == 1:
        return candidates[0]
    # Several, none named like the template (Untitled.ipynb beside linear_regression-Copy1.ipynb):
    # the one that holds the template's answer cells, if exactly one does.
    matching = [path for path in candidates if _answers_template(path, assignment)]
    if len(matching) == 1:
        for other in candidates:
            if other != matching[0]:
                skipped.append(Skipped(other, f"not graded: {name_text(matching[0].name)} is the one that holds "
                                              "the assignment's answer cells"))
        return matching[0]
    if candidates:
        names = ", ".join(name_text(p.name) for p in candidates)
        which = "several of them hold" if matching else "none holds"
        return (f"the folder holds several notebooks ({names}), none is named {assignment.notebook} and {which} "
                "the assignment's answer cells: keep only the one to grade")
    return None


def _answers_template(path: Path, assignment) -> bool:
    """Does this notebook hold answer cells of the assignment (by nbgrader grade id)?"""
    from autograder.notebook.submission import load_notebook, nbgrader_meta, parse_notebook

    try:
        ids = {nbgrader_meta(c).get("grade_id") for c in parse_notebook(read_submission(path))["cells"]}
        template = {nbgrader_meta(c).get("grade_id") for c in load_notebook(assignment.release)["cells"]
                    if nbgrader_meta(c).get("solution")}
    except UnreadableNotebook:
        return False
    return bool(ids & template)


def find_submissions(inputs: list[Path], assignment,
                     roster=None) -> tuple[list[Submission], list[Skipped], list[tuple]]:
    """Submissions found in ``inputs`` (files, folders of notebooks, folders of student folders).

    Returns ``(submissions, skipped, problems)``: ``skipped`` lists files that are not
    submissions, with the reason; ``problems`` lists ``(student, path, reason)`` for students
    whose submission cannot be graded (a link, an ambiguous folder): they get a row saying so.
    With a ``roster`` (see :mod:`autograder.course`), file and folder names are mapped to
    roster ids (an email, an LMS id, an LMS bulk-download name); a name that matches nobody
    keeps its own id and is reported in ``skipped``'s companion warning list.
    """
    found: list[tuple[str, Path, str]] = []  # (student, path, problem)
    skipped: list[Skipped] = []
    for item in inputs:
        if not os.path.lexists(item):
            raise FileNotFoundError(f"no such file or folder: {item}")
        if item.is_dir():  # a folder named on the command line is the instructor's: followed
            for entry in _entries(item):
                path = Path(entry.path)
                student = name_text(entry.name)
                if entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                    continue  # .ipynb_checkpoints and other hidden folders: never a student
                if entry.is_symlink():
                    if entry.name.endswith(".ipynb") or entry.is_dir():
                        found.append((student.removesuffix(".ipynb"), path,
                                      "the submission is a symbolic link: links are never followed; "
                                      "submit the notebook itself"))
                    else:
                        skipped.append(Skipped(path, "a symbolic link (never followed)"))
                elif entry.is_dir(follow_symlinks=False):
                    chosen = _notebook_in_folder(path, assignment, skipped)
                    if isinstance(chosen, Path):
                        found.append((student, chosen, ""))
                    elif isinstance(chosen, str):
                        found.append((student, path, chosen))
                    else:
                        skipped.append(Skipped(path, "a folder with no notebook"))
                elif entry.name.endswith(".ipynb"):
                    found.append((student.removesuffix(".ipynb"), path, ""))
                else:
                    skipped.append(Skipped(path, "not a .ipynb notebook"))
        else:
            found.append((name_text(item.name).removesuffix(".ipynb"), item, ""))
    if roster:
        found = [(_on_roster(student, path, roster, skipped), path, problem) for student, path, problem in found]
    submissions, problems = [], []
    for student, path, problem in unique_ids(found):
        if problem:
            problems.append((student, path, problem))
        else:
            submissions.append(Submission(student, path, submitted_at(path)))
    return submissions, skipped, problems


def submitted_at(path: Path) -> str | None:
    """When a submission was handed in (see :class:`Submission`), or None if unknown."""
    stamp = path.parent / "timestamp.txt"
    try:
        if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 100:
            when = dt.datetime.fromisoformat(stamp.read_text(encoding="utf-8").strip())
            if when.tzinfo is None:
                when = when.astimezone()  # nbgrader writes local time without a zone
            return when.astimezone(dt.UTC).isoformat(timespec="seconds")
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    try:
        return dt.datetime.fromtimestamp(os.lstat(path).st_mtime, dt.UTC).isoformat(timespec="seconds")
    except OSError:
        return None


def _on_roster(student: str, path: Path, roster, skipped: list[Skipped]) -> str:
    from autograder.course import roster_id

    names = [student, name_text(path.name)]
    if path.name.endswith(".ipynb") and path.parent.name and name_text(path.parent.name) != student:
        names.append(name_text(path.parent.name))
    for name in names:
        found = roster_id(name, roster)
        if found:
            return found
    skipped.append(Skipped(path, f"graded as {student!r}, which is on no roster line (id, email or LMS id)"))
    return student


def unique_ids(found: list[tuple]) -> list[tuple]:
    """The same entries with each student id unique: a repeated id becomes ``id~2``, ``id~3``…

    The suffix is chosen so that it is nobody else's id either (a real ``alice~2`` keeps its
    own), so no grade can overwrite another's.
    """
    taken = {entry[0] for entry in found}
    seen: set[str] = set()
    result = []
    for student, *rest in found:
        if student in seen:
            number = 2
            while f"{student}~{number}" in taken:
                number += 1
            print(f"warning: two submissions for {student!r}; the second ({name_text(str(rest[0]))}) is graded "
                  f"as {student}~{number}", file=sys.stderr)
            student = f"{student}~{number}"
            taken.add(student)
        seen.add(student)
        result.append((student, *rest))
    return result


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
