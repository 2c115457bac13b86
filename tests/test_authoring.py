"""Adding an assignment is adding a folder: nothing else in the kit changes.

A temporary copy of the kit gets a copy of an existing assignment's folder under a new id;
`dlbasics build` generates its student notebook and self-check, and `dlbasics grade` gives
its reference full marks and its stub zero. Every other file of the kit stays byte-identical.
Adding a check to that folder changes the points in its notebooks through the build alone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.checks import ASSIGNMENTS, KIT_ROOT

SOURCE = next(iter(ASSIGNMENTS.values()))
NEW_ID = "99-copied-assignment"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def dlbasics(kit: Path, *args, check: bool = True) -> subprocess.CompletedProcess:
    """The kit's CLI as the temporary kit's own (its package, its solutions, its assignments)."""
    env = {**os.environ, "PYTHONPATH": str(kit), "DLBASICS_SEED": "authoring test seed"}
    result = subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)], cwd=kit, env=env,
                            capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def fingerprint(kit: Path, skip: tuple[str, ...]) -> dict[str, str]:
    return {str(p.relative_to(kit)): hashlib.sha256(p.read_bytes()).hexdigest() for p in kit.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
            and not any(str(p.relative_to(kit)).startswith(s) for s in skip)}


def grade(kit: Path, tmp: Path, name: str, answers: str) -> dict:
    """Grade the new assignment's reference (answers="solution") or stub; return its grades.csv row."""
    import csv
    import json

    notebook = json.loads((kit / "assignments" / NEW_ID / SOURCE.notebook).read_text())
    if answers == "solution":
        notebook = json.loads((kit / "solutions" / NEW_ID / SOURCE.notebook).read_text())
    path = tmp / "subs" / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook))
    dlbasics(kit, "grade", NEW_ID, path, "--out", tmp / "out", "--quiet")
    with (tmp / "out" / "grades.csv").open(newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}[name]


def automatic_points(notebook: Path) -> float:
    """The sum of the check cells' points in a notebook (what the build wrote there)."""
    import json

    cells = json.loads(notebook.read_text())["cells"]
    return sum(float(c["metadata"]["nbgrader"]["points"]) for c in cells
               if c["metadata"].get("nbgrader", {}).get("grade_id", "").startswith("check_")
               and c["metadata"]["nbgrader"].get("grade"))


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    kit = tmp_path_factory.mktemp("kit")
    for part in ("autograder", "solutions", "assignments"):
        shutil.copytree(KIT_ROOT / part, kit / part, ignore=IGNORE)
    return kit


def test_a_copied_folder_is_a_new_assignment_and_nothing_else_changes(kit, tmp_path):
    before = fingerprint(kit, ())
    shutil.copytree(SOURCE.folder, kit / "solutions" / NEW_ID, ignore=IGNORE)
    built = dlbasics(kit, "build")
    assert f"assignments/{NEW_ID}/{SOURCE.notebook}" in built.stdout
    reference = grade(kit, tmp_path / "reference", "reference", "solution")
    stub = grade(kit, tmp_path / "stub", "stub", "stub")
    full = automatic_points(kit / "assignments" / NEW_ID / SOURCE.notebook)
    assert full > 0 and float(reference["automatic"]) == full, reference
    assert float(stub["automatic"]) == 0 and stub["status"] == "not attempted"
    after = fingerprint(kit, (f"solutions/{NEW_ID}", f"assignments/{NEW_ID}"))
    assert after == before, "files outside the new folders changed: " + ", ".join(
        sorted(k for k in after.keys() | before.keys() if after.get(k) != before.get(k)))


def test_a_new_check_changes_the_points_through_the_build_alone(kit, tmp_path):
    folder = kit / "solutions" / NEW_ID
    if not folder.exists():
        shutil.copytree(SOURCE.folder, folder, ignore=IGNORE)
        dlbasics(kit, "build")
    question = next(q for q in (c.question for c in SOURCE.checks()))
    before = grade(kit, tmp_path / "before", "reference", "solution")
    student_copy = kit / "assignments" / NEW_ID / SOURCE.notebook
    points = automatic_points(student_copy)
    source = (folder / SOURCE.notebook).read_bytes()
    with (folder / "checks.py").open("a") as handle:
        handle.write(f"\n\n@points(1, {question!r}, hidden=True)\ndef test_one_more_point(student):\n"
                     "    pass  # a check every answer passes: the points are what this test is about\n")
    stale = dlbasics(kit, "grade", NEW_ID, tmp_path / "before" / "subs", "--out", tmp_path / "x", check=False)
    assert stale.returncode == 2 and "dlbasics build" in stale.stderr and "Traceback" not in stale.stderr
    dlbasics(kit, "build")
    after = grade(kit, tmp_path / "after", "reference", "solution")
    assert float(after["max"]) == float(before["max"]) + 1
    assert float(after["automatic"]) == float(before["automatic"]) + 1
    assert automatic_points(student_copy) == points + 1  # written into the generated copy
    assert (folder / SOURCE.notebook).read_bytes() == source  # the single source is never rewritten


def test_a_check_for_a_question_without_a_cell_is_a_clear_error(kit, tmp_path):
    folder = kit / "solutions" / NEW_ID
    if not folder.exists():
        shutil.copytree(SOURCE.folder, folder, ignore=IGNORE)
    original = (folder / "checks.py").read_text()
    (folder / "checks.py").write_text(original + "\n\n@points(1, 'no_such_question')\n"
                                      "def test_orphan(student):\n    pass\n")
    try:
        result = dlbasics(kit, "build", check=False)
    finally:
        (folder / "checks.py").write_text(original)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"solutions/{NEW_ID}/{SOURCE.notebook}" in result.stderr and "check_no_such_question" in result.stderr


def test_nbgrader_hidden_tests_refuse_a_question_id_two_assignments_share(monkeypatch):
    """A copied folder keeps its question ids: its hidden blocks must not run the other's checks."""
    from types import SimpleNamespace

    from autograder.checks import nbgrader_hidden

    source = next(iter(ASSIGNMENTS.values()))
    question = source.checks()[0].question
    twin = SimpleNamespace(id="99-twin", checks=source.checks)
    monkeypatch.setattr(nbgrader_hidden, "ASSIGNMENTS", {source.id: source, twin.id: twin})
    with pytest.raises(KeyError, match="several assignments"):
        nbgrader_hidden.checks_of(question)
    own = nbgrader_hidden.checks_of(question, assignment=source.id)
    assert own and all(fn.question == question for fn in own)


# The tests that once held numbers pasted from a run (20, 18, FULL - 3, "predict 3 -> 0", ...): with
# a check added to a real assignment they must still pass, reading totals from the checks.
ONCE_PASTED = [("tests/test_broken.py", "metadata_tricks or renamed_function or syntax_error or old_empty"),
               ("tests/test_term.py", "whole_loop"),
               ("tests/test_report_safety.py", "inert or check_command_prints"),
               ("tests/test_cli.py", "sample_class"),
               ("tests/test_cache.py", "other_limits")]


@pytest.mark.slow
def test_adding_a_check_changes_the_goldens_and_nothing_else(kit_copies):
    """In a copy of the whole kit, a check is added to 01 the documented way (docs/authoring.md:
    the check, then `dlbasics build`). The tests that used to paste totals still pass; the
    golden test fails and names the change; --update-goldens rewrites only goldens; and the
    files that changed are the check, the build's outputs and the goldens."""
    from test_mutations import environment, kit_copy

    assignment = ASSIGNMENTS["01-linear-regression"]

    def pytest_in(root, *args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=root,
                              env=environment(root), capture_output=True, text=True, timeout=1800)

    with kit_copy() as root:
        before = fingerprint(root, ())
        with (root / "solutions" / assignment.id / "checks.py").open("a") as handle:
            # A real check (a blank answer fails it), with the helpers and data checks.py already imports.
            handle.write("\n\n@points(1, 'to_column_tensors', hidden=True)\ndef test_one_more_point(student):\n"
                         "    judge_columns(student.call('to_column_tensors', HOURS, SCORES), HOURS, SCORES, "
                         "what='(hours) once more')\n")
        built = subprocess.run([sys.executable, "-m", "autograder.cli", "build"], cwd=root, env=environment(root),
                               capture_output=True, text=True, timeout=600)
        assert built.returncode == 0, built.stdout + built.stderr
        for test, select in ONCE_PASTED:
            result = pytest_in(root, "-x", test, "-k", select)
            assert result.returncode == 0, f"{test} -k {select!r} fails after adding a check:\n{result.stdout[-3000:]}"
        goldens = pytest_in(root, "tests/test_goldens.py", "tests/test_tolerances.py", "-k", "01")
        assert goldens.returncode == 1 and "--update-goldens" in goldens.stdout, goldens.stdout[-3000:]
        updated = pytest_in(root, "tests/test_goldens.py", "tests/test_tolerances.py", "-k", "01", "--update-goldens")
        assert updated.returncode == 0, updated.stdout[-3000:]
        after = fingerprint(root, ())
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    allowed = (f"solutions/{assignment.id}/", f"assignments/{assignment.id}/", "tests/goldens/")
    assert f"solutions/{assignment.id}/checks.py" in changed and any(c.startswith("tests/goldens/") for c in changed)
    assert all(c.startswith(allowed) for c in changed), f"adding a check changed more than goldens: {changed}"
