"""Shared fixtures: run the real `dlbasics` command on notebooks built from the templates."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.grading.result import Result
from autograder.notebook.fill import fill, solution_answers, write
from autograder.selfcheck.api import CheckResult

DLBASICS = [sys.executable, "-m", "autograder.cli"]


def run_dlbasics(*args, timeout: float = 600, check: bool = True, env: dict | None = None,
                 cwd: Path | None = None, process: bool = False) -> subprocess.CompletedProcess:
    """``dlbasics ARGS`` as its verbs run: in this process (``autograder.cli.main``) with stdout and
    stderr captured and ``env`` in force for the call, or, with ``process=True`` (tests of the
    command itself: its exit on a signal, its environment), as a child process."""
    if process or cwd is not None:
        result = subprocess.run([*DLBASICS, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                                cwd=cwd or KIT_ROOT, env={**os.environ, **(env or {})})
    else:
        result = _in_process([str(a) for a in args], env or {})
    if check and result.returncode != 0:
        raise AssertionError(f"dlbasics {' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def _in_process(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    import contextlib
    import io
    import traceback

    from autograder.cli import main
    from autograder.sandbox.pool import isolation_mode

    saved = {key: os.environ.get(key) for key in env}
    stdout, stderr = io.StringIO(), io.StringIO()
    os.environ.update(env)
    isolation_mode.cache_clear()  # DLBASICS_SANDBOX is read once per process: read it for this call
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(argv)
            except SystemExit as exit_:  # argparse's usage errors
                code = exit_.code if isinstance(exit_.code, int) else 1
            except Exception:  # what the interpreter would print before exiting 1
                traceback.print_exc()
                code = 1
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        isolation_mode.cache_clear()
    return subprocess.CompletedProcess(["dlbasics", *argv], code, stdout.getvalue(), stderr.getvalue())


@dataclass
class Graded:
    """What one `dlbasics grade` run wrote."""

    out: Path
    rows: dict[str, dict]  # grades.csv rows by student
    results: dict[str, Result]  # gradebook results by student
    process: subprocess.CompletedProcess

    def checks(self, student: str, question: str | None = None) -> list[CheckResult]:
        return [c for c in self.results[student].checks if question is None or c.question == question]

    def gradescope(self, student: str) -> dict:
        from autograder.grading.intake import student_folder

        return json.loads((student_folder(self.out, student) / "results.json").read_text())


def read_outputs(out: Path, process=None) -> Graded:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    db = sqlite3.connect(out / "gradebook.sqlite")
    results = {student: Result.from_json(json.loads(result))
               for student, result in db.execute("SELECT student, result FROM grades")}
    db.close()
    return Graded(out=out, rows=rows, results=results, process=process)


def grade_notebooks(assignment_id: str, notebooks: dict[str, dict | bytes | str], workdir: Path,
                    *extra_args, timeout: float = 600, before_grading=None, env: dict | None = None) -> Graded:
    """Write ``notebooks`` (student id -> notebook dict or raw file content) and grade them."""
    submissions = workdir / "submissions"
    submissions.mkdir(parents=True, exist_ok=True)
    for student, notebook in notebooks.items():
        path = submissions / f"{student}.ipynb"
        if isinstance(notebook, dict):
            write(notebook, path)
        elif isinstance(notebook, bytes):
            path.write_bytes(notebook)
        else:
            path.write_text(notebook, encoding="utf-8")
    out = workdir / "out"
    if before_grading:
        before_grading()
    process = run_dlbasics("grade", assignment_id, submissions, "--out", out, "--quiet", *extra_args,
                           timeout=timeout, env=env)
    return read_outputs(out, process)


@pytest.fixture(scope="session")
def assignments():
    return ASSIGNMENTS


@pytest.fixture(scope="session")
def answers():
    """Reference answers by assignment id, then grade id."""
    return {a.id: solution_answers(a) for a in ASSIGNMENTS.values()}


@pytest.fixture
def solution_notebook():
    """``solution_notebook(assignment_id, **replacements)``: the reference answers, some replaced."""

    def make(assignment_id: str, replacements: dict[str, str] | None = None, extra_cells=()) -> dict:
        assignment = ASSIGNMENTS[assignment_id]
        filled = {**solution_answers(assignment), **(replacements or {})}
        return fill(assignment, filled, extra_cells=extra_cells)

    return make


@pytest.fixture
def stub_notebook():
    def make(assignment_id: str) -> dict:
        return fill(ASSIGNMENTS[assignment_id], {})

    return make


__all__ = ["KIT_ROOT", "grade_notebooks", "read_outputs", "run_dlbasics"]
