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


# --- totals from the assignment, never pasted from a run -------------------------------------------


def question_points(assignment) -> dict[str, float]:
    """Each question's automatic points: the sum of its checks' ``@points`` (the single source)."""
    by_question: dict[str, float] = {}
    for fn in assignment.checks():
        by_question[fn.question] = by_question.get(fn.question, 0) + fn.points
    return by_question


def automatic_max(assignment) -> float:
    return sum(fn.points for fn in assignment.checks())


def overall_max(assignment) -> float:
    """The "max" column of grades.csv: automatic points plus the written questions' (from the template)."""
    from autograder.grading.grade import load_template

    return automatic_max(assignment) + sum(load_template(assignment).written.values())


# --- goldens: expected outputs kept in files, rewritten by `pytest --update-goldens` -------------------

GOLDENS = Path(__file__).parent / "goldens"


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the golden files in tests/goldens/ from this run instead of comparing with them "
                          "(review the diff before committing it)")
    parser.addoption("--mutations", action="store_true", default=False,
                     help="also run the tests that break or extend a copy of the kit (tests/test_mutations.py, "
                          "the added check of tests/test_authoring.py): about a quarter of an hour, before a release")


@pytest.fixture
def kit_copies(request):
    """Skips a test that works on copies of the kit unless --mutations was given (they take minutes)."""
    if not request.config.getoption("--mutations"):
        pytest.skip("works on copies of the kit for minutes: run with --mutations")


def golden_text(value) -> str:
    """The one way a golden is written: JSON, sorted keys, one item a line (so a diff shows what changed)."""
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


class Goldens:
    """``golden.load(name, actual)``: the stored value (``actual`` itself, written, under --update-goldens);
    ``golden.check(name, actual)``: assert ``actual`` equals the stored value."""

    def __init__(self, update: bool, nodeid: str):
        self.update = update
        self.nodeid = nodeid

    def load(self, name: str, actual):
        path = GOLDENS / name
        # Round-trip through JSON so both sides compare as stored (tuples become lists, keys strings).
        actual = json.loads(golden_text(actual))
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(golden_text(actual), encoding="utf-8")
            return actual
        if not path.is_file():
            pytest.fail(f"no golden file {path}: run `pytest {self.nodeid} --update-goldens`, review the new file "
                        "and commit it")
        return json.loads(path.read_text(encoding="utf-8"))

    def check(self, name: str, actual) -> None:
        expected = self.load(name, actual)
        actual = json.loads(golden_text(actual))
        if actual != expected:
            import difflib

            diff = "".join(difflib.unified_diff(golden_text(expected).splitlines(True),
                                                golden_text(actual).splitlines(True),
                                                f"tests/goldens/{name} (stored)", "this run", n=2))
            pytest.fail(f"the output differs from its golden tests/goldens/{name}; if the change is intended, rerun "
                        f"with --update-goldens and commit the file:\n{diff[:6000]}")


@pytest.fixture
def golden(request) -> Goldens:
    return Goldens(request.config.getoption("--update-goldens"), request.node.nodeid)


__all__ = ["KIT_ROOT", "grade_notebooks", "read_outputs", "run_dlbasics", "Goldens", "golden_text", "question_points",
           "automatic_max", "overall_max"]
