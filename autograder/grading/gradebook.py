"""The SQLite gradebook: one row per (assignment, student), written in a transaction.

A row is keyed by the submission's content hash and the grader's version, so a rerun
skips what it already graded and resumes after an interruption: a submission is either
fully recorded or not at all, never twice. Each row also records the fingerprint of the
seed and the limits it was graded with (grading on with others is refused unless asked
for), and every grade ever recorded stays in ``history``. Manual scores (written answers)
live in their own table, survive regrading, and remember the hash of the answer they
graded: when the student's answer changes, the score is stale and no longer counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.result import BadResult, Result

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    assignment TEXT NOT NULL,
    student TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    graded_at REAL NOT NULL,
    auto_total REAL NOT NULL,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (assignment, student)
);
CREATE TABLE IF NOT EXISTS manual_scores (
    assignment TEXT NOT NULL,
    student TEXT NOT NULL,
    question TEXT NOT NULL,
    points REAL NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (assignment, student, question)
);
CREATE TABLE IF NOT EXISTS rubric_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment TEXT NOT NULL,
    question TEXT NOT NULL,
    label TEXT NOT NULL,
    points REAL NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS manual_rubric (
    assignment TEXT NOT NULL,
    student TEXT NOT NULL,
    question TEXT NOT NULL,
    item INTEGER NOT NULL REFERENCES rubric_items(id),
    PRIMARY KEY (assignment, student, question, item)
);
CREATE TABLE IF NOT EXISTS anonymity (
    assignment TEXT PRIMARY KEY,
    anonymous INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    assignment TEXT NOT NULL,
    student TEXT NOT NULL,
    graded_at REAL NOT NULL,
    content_hash TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    seed_fingerprint TEXT NOT NULL,
    auto_total REAL NOT NULL,
    status TEXT NOT NULL,
    questions TEXT NOT NULL
);
"""
# Columns added after the first release: an older gradebook gains them when opened.
MIGRATIONS = {
    "grades": {"seed_fingerprint": "TEXT NOT NULL DEFAULT ''", "limits": "TEXT NOT NULL DEFAULT ''"},
    # version: bumped by every save, so two graders editing one score find out (see save_manual);
    # adjust: the points given besides rubric items (the score is adjust + the items' points, clamped).
    "manual_scores": {"answer_hash": "TEXT NOT NULL DEFAULT ''", "version": "INTEGER NOT NULL DEFAULT 1",
                      "adjust": "REAL"},
}


def answer_hash(answer: str) -> str:
    """What a manual score is tied to: the written answer it graded."""
    return hashlib.sha256(answer.strip().encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class RubricItem:
    """A reusable rubric item of one written question: its points (negative: a deduction) count for
    every answer it is applied to, also after they are changed."""

    id: int
    question: str
    label: str
    points: float
    comment: str
    version: int


@dataclass(frozen=True)
class Manual:
    """One hand-graded score. ``stale``: the student's answer changed since it was scored.

    ``items``: the rubric items it holds; ``adjust``: the points given besides them (the score is
    their sum, clamped to 0..max); ``version``: the save count, for conflict detection.
    """

    points: float
    comment: str
    stale: bool
    items: tuple[RubricItem, ...] = ()
    adjust: float = 0.0
    version: int = 0


class Conflict(RuntimeError):
    """A save based on an older version of a score or rubric item than the gradebook holds."""


def clamp(points: float, max_points: float) -> float:
    """A hand-graded score is never below 0 nor above the question's maximum, whatever its items add to."""
    return min(max(points, 0.0), max_points)


class GradebookMissing(FileNotFoundError):
    pass


class GradebookCorrupt(ValueError):
    """A stored row is not a result: the file was changed by something other than dlbasics."""


def _load(text: str) -> Result:
    try:
        return Result.from_json(json.loads(text))
    except (ValueError, BadResult) as error:
        raise GradebookCorrupt(f"the gradebook holds a row that is not a grading result ({error}): restore it from "
                               "a backup, or grade again into a new one with --gradebook") from None


class Gradebook:
    def __init__(self, path: Path, create: bool = True):
        if not create and not path.is_file():
            raise GradebookMissing(f"no gradebook at {path}: check the path (it is OUT/gradebook.sqlite of "
                                   "`dlbasics grade`); nothing was changed")
        from autograder.files import PRIVATE_FILE, private_dirs

        private_dirs(path.parent)
        self.path = path
        # Grades of named students: owner-only. SQLite gives its -wal and -shm files the mode of the
        # database file, so creating that one 0600 first covers all three.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
        if path.stat().st_mode & 0o077:
            os.chmod(path, PRIVATE_FILE)  # a gradebook from an older kit
        # Worker threads look results up while the main thread records them: one connection,
        # used under one lock.
        self.lock = threading.RLock()
        # isolation_level=None: we open each transaction ourselves (BEGIN IMMEDIATE).
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        for table, columns in MIGRATIONS.items():
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for column, kind in columns.items():
                if column not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        # A score from before rubric items: all of it is its own points.
        self.db.execute("UPDATE manual_scores SET adjust = points WHERE adjust IS NULL")

    def close(self) -> None:
        self.db.close()

    def lookup(self, assignment: str, student: str, content_hash: str, grader_version: str) -> Result | None:
        """The stored result if this exact submission was graded by this exact grader."""
        with self.lock:
            row = self.db.execute(
                "SELECT result FROM grades WHERE assignment=? AND student=? AND content_hash=? AND grader_version=?",
                (assignment, student, content_hash, grader_version)).fetchone()
        return _load(row[0]) if row else None

    def record(self, result: Result, grader_version: str, seed_fingerprint: str = "",
               limits: str = "") -> Result | None:
        """Store ``result`` (and append it to the history); return the result it replaced, if any."""
        with self._transaction():
            row = self.db.execute("SELECT result FROM grades WHERE assignment=? AND student=?",
                                  (result.assignment, result.student)).fetchone()
            self.db.execute(
                "INSERT OR REPLACE INTO grades (assignment, student, content_hash, grader_version, graded_at, "
                "auto_total, status, result, seed_fingerprint, limits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.assignment, result.student, result.hash, grader_version, time.time(),
                 result.auto_total, result.status, json.dumps(result.to_json()), seed_fingerprint, limits))
            questions = {q: info.points for q, info in result.questions.items()}
            self.db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (result.assignment, result.student, time.time(), result.hash, grader_version,
                             seed_fingerprint, result.auto_total, result.status, json.dumps(questions)))
        return _load(row[0]) if row else None

    def set_record(self, assignment: str, student: str, submitted_at: str | None, time_note: str,
                   late_marker: bool) -> None:
        """Refresh a stored grade's submission record (time, its note, a late marker) from intake.

        Lateness is computed from the newest record on every run: a grade reused for unchanged
        bytes must not carry the time of an older download.
        """
        with self._transaction():
            row = self.db.execute("SELECT result FROM grades WHERE assignment=? AND student=?",
                                  (assignment, student)).fetchone()
            if row is None:
                return
            result = _load(row[0])
            result.submitted_at, result.time_note, result.late_marker = submitted_at, time_note, late_marker
            self.db.execute("UPDATE grades SET result=? WHERE assignment=? AND student=?",
                            (json.dumps(result.to_json()), assignment, student))

    def drop(self, assignment: str, student: str) -> None:
        """Remove a student's grade and hand scores; the history keeps every grade and says it was dropped."""
        with self._transaction():
            row = self.db.execute("SELECT content_hash, grader_version, seed_fingerprint, auto_total FROM grades "
                                  "WHERE assignment=? AND student=?", (assignment, student)).fetchone()
            if row is None:
                raise KeyError(student)
            self.db.execute("DELETE FROM grades WHERE assignment=? AND student=?", (assignment, student))
            self.db.execute("DELETE FROM manual_scores WHERE assignment=? AND student=?", (assignment, student))
            self.db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (assignment, student, time.time(), row[0], row[1], row[2], row[3], "dropped", "{}"))

    def rename(self, assignment: str, old: str, new: str) -> None:
        """Give ``old``'s grade, hand scores and history to ``new`` (who must have no grade yet)."""
        with self._transaction():
            row = self.db.execute("SELECT result FROM grades WHERE assignment=? AND student=?",
                                  (assignment, old)).fetchone()
            if row is None:
                raise KeyError(old)
            if self.db.execute("SELECT 1 FROM grades WHERE assignment=? AND student=?", (assignment, new)).fetchone():
                raise ValueError(new)
            result = _load(row[0])
            result.student = new
            self.db.execute("UPDATE grades SET student=?, result=? WHERE assignment=? AND student=?",
                            (new, json.dumps(result.to_json()), assignment, old))
            self.db.execute("DELETE FROM manual_scores WHERE assignment=? AND student=?", (assignment, new))
            self.db.execute("UPDATE manual_scores SET student=? WHERE assignment=? AND student=?",
                            (new, assignment, old))
            self.db.execute("UPDATE history SET student=? WHERE assignment=? AND student=?", (new, assignment, old))
            self.db.execute("INSERT INTO history SELECT assignment, student, ?, content_hash, grader_version, "
                            "seed_fingerprint, auto_total, ?, '{}' FROM grades WHERE assignment=? AND student=?",
                            (time.time(), f"renamed from {old}", assignment, new))

    def settings(self, assignment: str) -> set[tuple[str, str]]:
        """The (seed fingerprint, limits) pairs the assignment's current grades were made with."""
        with self.lock:
            return set(self.db.execute("SELECT DISTINCT seed_fingerprint, limits FROM grades WHERE assignment=?",
                                       (assignment,)).fetchall())

    def history(self, assignment: str, student: str) -> list[dict]:
        with self.lock:
            rows = self.db.execute("SELECT graded_at, content_hash, auto_total, status, questions FROM history "
                                   "WHERE assignment=? AND student=? ORDER BY graded_at", (assignment, student))
            return [{"graded_at": at, "hash": digest, "auto_total": total, "status": status,
                     "questions": json.loads(questions)} for at, digest, total, status, questions in rows]

    def set_manual(self, assignment: str, scores: list[tuple[str, str, float, str]]) -> None:
        """Store hand-graded scores (a CSV import), each tied to the hash of the answer it graded now.

        ``points`` is the whole score: rubric items the answer holds stay, and the points given
        besides them become whatever makes the total ``points``.
        """
        with self._transaction():
            answers = self._answers(assignment)
            for student, question, points, comment in scores:
                items = sum(item.points for item in self._items_of(assignment, student, question))
                self.db.execute(
                    "INSERT INTO manual_scores (assignment, student, question, points, comment, answer_hash, version, "
                    "adjust) VALUES (?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (assignment, student, question) DO UPDATE "
                    "SET points=excluded.points, comment=excluded.comment, answer_hash=excluded.answer_hash, "
                    "version=manual_scores.version + 1, adjust=excluded.adjust",
                    (assignment, student, question, points, comment,
                     answer_hash(answers.get(student, {}).get(question, "")), points - items))

    def save_manual(self, assignment: str, question: str, max_points: float,
                    scores: list[tuple[str, int, float, str, list[int]]]) -> dict[str, tuple[float, int]]:
        """Store scores of one question given on the desk, all or none, in one transaction.

        Each is ``(student, version it was read at (0: none yet), points besides the items, comment,
        rubric item ids)``; the score is the sum, clamped to 0..``max_points``. A score saved by
        someone else since it was read raises :class:`Conflict` and nothing is stored. Returns each
        student's new ``(points, version)``.
        """
        saved = {}
        with self._transaction():
            answers = self._answers(assignment)
            known = {item.id: item for item in self._rubric(assignment, question)}
            for student, read_version, adjust, comment, item_ids in scores:
                if question not in answers.get(student, {}):
                    raise KeyError(f"{student!r} has no answer to {question!r} in this gradebook")
                unknown = [i for i in item_ids if i not in known]
                if unknown:
                    raise KeyError(f"no rubric item {unknown[0]} for {question!r} (deleted or of another question)")
                row = self.db.execute("SELECT version FROM manual_scores WHERE assignment=? AND student=? AND "
                                      "question=?", (assignment, student, question)).fetchone()
                current = row[0] if row else 0
                if current != read_version:
                    raise Conflict(f"the score of {student} for {question} was changed by someone else since you "
                                   f"opened it (version {current}, yours {read_version}): reload, check it and "
                                   "save again; nothing was saved")
                points = clamp(adjust + sum(known[i].points for i in set(item_ids)), max_points)
                self.db.execute(
                    "INSERT OR REPLACE INTO manual_scores (assignment, student, question, points, comment, "
                    "answer_hash, version, adjust) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (assignment, student, question, points, comment,
                     answer_hash(answers[student][question]), current + 1, adjust))
                self.db.execute("DELETE FROM manual_rubric WHERE assignment=? AND student=? AND question=?",
                                (assignment, student, question))
                self.db.executemany("INSERT INTO manual_rubric VALUES (?, ?, ?, ?)",
                                    [(assignment, student, question, i) for i in sorted(set(item_ids))])
                saved[student] = (points, current + 1)
        return saved

    def rubric(self, assignment: str, question: str | None = None) -> list[RubricItem]:
        with self.lock:
            return self._rubric(assignment, question)

    def save_rubric_item(self, assignment: str, question: str, max_points: float, item_id: int | None,
                         read_version: int, label: str, points: float, comment: str) -> RubricItem:
        """Create a rubric item (``item_id`` None) or change one; a change of points changes the score of
        every answer that holds it, in the same transaction. A change based on an older version raises
        :class:`Conflict` and changes nothing."""
        with self._transaction():
            if item_id is None:
                cursor = self.db.execute("INSERT INTO rubric_items (assignment, question, label, points, comment) "
                                         "VALUES (?, ?, ?, ?, ?)", (assignment, question, label, points, comment))
                item_id, version = cursor.lastrowid, 1
            else:
                row = self.db.execute("SELECT version FROM rubric_items WHERE id=? AND assignment=? AND question=?",
                                      (item_id, assignment, question)).fetchone()
                if row is None:
                    raise KeyError(f"no rubric item {item_id} for {question!r}")
                if row[0] != read_version:
                    raise Conflict(f"rubric item {item_id} was changed by someone else since you opened it (version "
                                   f"{row[0]}, yours {read_version}): reload and try again; nothing was saved")
                version = row[0] + 1
                self.db.execute("UPDATE rubric_items SET label=?, points=?, comment=?, version=? WHERE id=?",
                                (label, points, comment, version, item_id))
                holders = self.db.execute("SELECT student FROM manual_rubric WHERE assignment=? AND question=? AND "
                                          "item=?", (assignment, question, item_id)).fetchall()
                for (student,) in holders:
                    items = sum(i.points for i in self._items_of(assignment, student, question))
                    (adjust,) = self.db.execute("SELECT adjust FROM manual_scores WHERE assignment=? AND student=? "
                                                "AND question=?", (assignment, student, question)).fetchone()
                    self.db.execute("UPDATE manual_scores SET points = ?, version = version + 1 WHERE assignment=? "
                                    "AND student=? AND question=?",
                                    (clamp((adjust or 0.0) + items, max_points), assignment, student, question))
        return RubricItem(item_id, question, label, points, comment, version)

    def manual_entries(self, assignment: str) -> dict[str, dict[str, Manual]]:
        """Every hand-graded score, with its comment and rubric items, flagged stale if the answer changed
        since."""
        with self.lock:
            answers = self._answers(assignment)
            rows = self.db.execute("SELECT student, question, points, comment, answer_hash, adjust, version "
                                   "FROM manual_scores WHERE assignment=?", (assignment,)).fetchall()
            items: dict[tuple[str, str], list[RubricItem]] = {}
            for student, *fields in self.db.execute(
                    "SELECT m.student, r.id, r.question, r.label, r.points, r.comment, r.version FROM manual_rubric m "
                    "JOIN rubric_items r ON r.id = m.item WHERE m.assignment=? ORDER BY r.id", (assignment,)):
                items.setdefault((student, fields[1]), []).append(RubricItem(*fields))
        entries: dict[str, dict[str, Manual]] = {}
        for student, question, points, comment, graded, adjust, version in rows:
            stale = bool(graded) and graded != answer_hash(answers.get(student, {}).get(question, ""))
            entries.setdefault(student, {})[question] = Manual(
                points, comment, stale, tuple(items.get((student, question), ())),
                adjust, version)
        return entries

    def manual(self, assignment: str) -> dict[str, dict[str, float]]:
        """The hand-graded points that count: stale ones (the answer changed) do not."""
        return {student: {q: m.points for q, m in scores.items() if not m.stale}
                for student, scores in self.manual_entries(assignment).items()}

    def anonymous(self, assignment: str, choice: bool | None = None) -> bool:
        """Whether lists of students (review pages, scores-template) show pseudonyms: ``choice``
        (``--anonymous`` True, ``--names`` False) is remembered for later runs; ``None``: as last chosen."""
        with self._transaction():
            if choice is not None:
                self.db.execute("INSERT OR REPLACE INTO anonymity (assignment, anonymous) VALUES (?, ?)",
                                (assignment, int(choice)))
                return choice
            row = self.db.execute("SELECT anonymous FROM anonymity WHERE assignment=?", (assignment,)).fetchone()
        return bool(row and row[0])

    def students(self, assignment: str) -> set[str]:
        with self.lock:
            return {row[0] for row in self.db.execute("SELECT student FROM grades WHERE assignment=?", (assignment,))}

    def results(self, assignment: str) -> list[Result]:
        with self.lock:
            rows = self.db.execute("SELECT result FROM grades WHERE assignment=? ORDER BY student",
                                   (assignment,)).fetchall()
        return [_load(row[0]) for row in rows]

    def _rubric(self, assignment: str, question: str | None) -> list[RubricItem]:
        rows = self.db.execute("SELECT id, question, label, points, comment, version FROM rubric_items WHERE "
                               "assignment=? AND (? IS NULL OR question=?) ORDER BY id",
                               (assignment, question, question)).fetchall()
        return [RubricItem(*row) for row in rows]

    def _items_of(self, assignment: str, student: str, question: str) -> list[RubricItem]:
        rows = self.db.execute("SELECT r.id, r.question, r.label, r.points, r.comment, r.version FROM manual_rubric m "
                               "JOIN rubric_items r ON r.id = m.item WHERE m.assignment=? AND m.student=? AND "
                               "m.question=? ORDER BY r.id", (assignment, student, question)).fetchall()
        return [RubricItem(*row) for row in rows]

    def _answers(self, assignment: str) -> dict[str, dict[str, str]]:
        """Each student's stored written answers, by question."""
        return {result.student: {q: w.answer for q, w in result.written.items()}
                for result in self.results(assignment)}

    def _transaction(self):
        db, lock = self.db, self.lock

        class Transaction:
            def __enter__(self):
                lock.acquire()
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind, value, traceback):
                try:
                    db.execute("COMMIT" if kind is None else "ROLLBACK")
                finally:
                    lock.release()
                return False

        return Transaction()
