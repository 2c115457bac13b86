"""The SQLite gradebook: one row per (assignment, student), written in a transaction.

A row is keyed by the submission's content hash and the grader's version, so a rerun
skips what it already graded and resumes after an interruption: a submission is either
fully recorded or not at all, never twice. Manual scores (written answers) live in their
own table and survive regrading.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

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
"""


class Gradebook:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Worker threads look results up while the main thread records them: one connection,
        # used under one lock.
        self.lock = threading.RLock()
        # isolation_level=None: we open each transaction ourselves (BEGIN IMMEDIATE).
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def lookup(self, assignment: str, student: str, content_hash: str, grader_version: str) -> dict | None:
        """The stored result if this exact submission was graded by this exact grader."""
        with self.lock:
            row = self.db.execute(
                "SELECT result FROM grades WHERE assignment=? AND student=? AND content_hash=? AND grader_version=?",
                (assignment, student, content_hash, grader_version)).fetchone()
        return json.loads(row[0]) if row else None

    def record(self, result: dict, grader_version: str) -> None:
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (result["assignment"], result["student"], result["hash"], grader_version, time.time(),
                 result["auto_total"], result["status"], json.dumps(result)))

    def set_manual(self, assignment: str, scores: list[tuple[str, str, float, str]]) -> None:
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO manual_scores VALUES (?, ?, ?, ?, ?)",
                [(assignment, student, question, points, comment) for student, question, points, comment in scores])

    def manual(self, assignment: str) -> dict[str, dict[str, float]]:
        scores: dict[str, dict[str, float]] = {}
        for student, question, points in self.db.execute(
                "SELECT student, question, points FROM manual_scores WHERE assignment=?", (assignment,)):
            scores.setdefault(student, {})[question] = points
        return scores

    def results(self, assignment: str) -> list[dict]:
        with self.lock:
            rows = self.db.execute("SELECT result FROM grades WHERE assignment=? ORDER BY student",
                                   (assignment,)).fetchall()
        return [json.loads(row[0]) for row in rows]

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
