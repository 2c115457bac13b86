"""Generating ``assignments/`` from ``solutions/``: the student notebooks and their self-check.

The clearing steps are nbgrader's own preprocessors (the same markers, the same result an
nbgrader course gets); this module only chains them, adds the "generated" header, and
ships the public ``selfcheck`` package next to each notebook. ``check_fresh`` reports
any generated file that differs from what a build would write now.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from autograder.checks import ASSIGNMENTS, KIT_ROOT, Assignment, AssignmentError

SELFCHECK_DIR = KIT_ROOT / "autograder" / "selfcheck"
# The public package students receive: the check API and one assignment's public checks.
SELFCHECK_FILES = ["__init__.py", "api.py", "calling.py", "display.py", "expected.py", "protocol.py",
                   "status.py", "public/__init__.py"]

HEADER = """\
> **Your copy of this notebook.** Write your answers only in the answer cells, marked `# YOUR CODE HERE`
> or `YOUR ANSWER HERE`, and leave the other cells as they are: grading uses the course's own copy of them.
> Run each `check(...)` cell to test your work.
>
> **Where to run it.** The self-checks live in the `selfcheck/` folder that came with this notebook in
> `{assignment}.zip`. On your computer or a JupyterHub, keep the notebook in the unzipped folder, next to
> `selfcheck/`. In Google Colab, upload `{assignment}.zip` to the Files pane on the left (the notebook
> itself with File ▸ Upload notebook) and run the first code cell below: it unpacks the self-check from
> the zip. Nothing is downloaded from the internet. The zip's `README.md` says how to set up Python.
"""

# The first code cell of the student's copy: makes `from selfcheck import ...` work where the notebook
# runs without its folder (Google Colab: the kernel starts in /content, where the student uploads the
# zip). It reads only the student's own zip, unpacks only <assignment>/selfcheck/ from it, and fetches
# nothing. It carries nbgrader metadata with its own grade_id, so the grader treats it as a template cell
# (never run, the submission's copy ignored: autograder/notebook/submission.py rebuild); nbgrader's
# source (the solution notebook) does not have it.
FIND_SELFCHECK = """\
# Finds this notebook's self-check (the selfcheck/ folder from {assignment}.zip). Nothing is downloaded.
import importlib.util, pathlib, sys, zipfile

def _find_selfcheck(assignment="{assignment}", module="{module}"):
    here = pathlib.Path.cwd()
    def has(folder):
        return (folder / "selfcheck" / "public" / f"{{module}}.py").is_file()
    found = importlib.util.find_spec("selfcheck")
    if has(here) or (found is not None and found.origin and has(pathlib.Path(found.origin).parent.parent)):
        return  # next to this notebook (on your computer, a JupyterHub), or set up already
    if not has(here / assignment):
        for archive in sorted(here.glob("*.zip")):  # the zip uploaded next to the notebook (Colab)
            with zipfile.ZipFile(archive) as zipped:
                members = [m for m in zipped.namelist() if m.startswith(f"{{assignment}}/selfcheck/")
                           and ".." not in m.split("/") and not m.startswith("/")]
                if f"{{assignment}}/selfcheck/public/{{module}}.py" in members:
                    zipped.extractall(here, members)
                    print(f"unpacked the self-check from {{archive.name}}")
                    break
    if has(here / assignment):
        sys.path.insert(0, str(here / assignment))
    else:
        print(f"The self-check was not found. Put this notebook in the folder unzipped from {{assignment}}.zip, "
              f"next to selfcheck/ (on your computer or a JupyterHub), or, in Google Colab, upload "
              f"{{assignment}}.zip to the Files pane on the left; then run this cell again.")

_find_selfcheck()
"""
FIND_SELFCHECK_ID = "find_selfcheck"


def check_points(assignment: Assignment) -> dict[str, float]:
    """The points of each question, as the checks declare them (``@points``): the one source."""
    points: dict[str, float] = {}
    for fn in assignment.checks():
        points[fn.question] = points.get(fn.question, 0) + fn.points
    return points


def solution_with_points(assignment: Assignment):
    """The solution notebook (read, never written) with the checks' points in its check cells.

    The points live in the checks alone (``@points``); every generated copy (the student's
    notebook, nbgrader's source) gets them from here, so adding a check changes the check and the
    generated files, never the single source. A question that has checks but no
    ``check_<question>`` cell, or a check cell whose question has no checks, cannot be resolved
    here: :class:`AssignmentError` says which.
    """
    declared = check_points(assignment)
    notebook = nbformat.read(assignment.solution, as_version=4)
    cells = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.metadata.get("nbgrader", {}).get("grade") and grade_id.startswith("check_"):
            cells[grade_id.removeprefix("check_")] = cell
    where = assignment.solution.relative_to(KIT_ROOT)
    for question in declared.keys() - cells.keys():
        raise AssignmentError(f"{where}: the checks give {declared[question]:g} point(s) to {question!r}, but the "
                              f"notebook has no graded cell with grade_id 'check_{question}'; add one after the "
                              "question's answer cell (see docs/authoring.md) or fix the question's name in the "
                              "checks")
    for question in cells.keys() - declared.keys():
        raise AssignmentError(f"{where}: the cell 'check_{question}' has no check in public_checks.py or checks.py "
                              f"of {assignment.folder.relative_to(KIT_ROOT)}; add a check with "
                              f"@points(n, {question!r}) or remove the cell")
    for question, cell in cells.items():
        cell.metadata["nbgrader"]["points"] = declared[question]
    return notebook


def public_expected_json(assignment: Assignment) -> str:
    return json.dumps(assignment.check_module().public_expected(), indent=1, sort_keys=True) + "\n"


def student_notebook(assignment: Assignment) -> str:
    """The student's notebook as text: solutions and hidden tests cleared, outputs removed."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions
    from traitlets.config import Config

    notebook = solution_with_points(assignment)
    config = Config()
    config.ClearSolutions.enforce_metadata = True
    resources: dict = {}
    for step in (ClearSolutions, ClearHiddenTests, ClearOutput):
        notebook, resources = step(config=config).preprocess(notebook, resources)
    header = nbformat.v4.new_markdown_cell(HEADER.format(assignment=assignment.id), id="generated-header")
    find = nbformat.v4.new_code_cell(FIND_SELFCHECK.format(assignment=assignment.id, module=assignment.module),
                                     id="find-selfcheck")
    # A locked template cell that is neither an answer nor a check: the grader never runs it.
    find.metadata["nbgrader"] = {"grade": False, "grade_id": FIND_SELFCHECK_ID, "locked": True,
                                 "schema_version": 3, "solution": False}
    first_code = next(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(first_code, find)
    notebook.cells.insert(0, header)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.execution_count = None
        # A written question's rubric is for graders (the review page reads it from the
        # solution): the student's copy must not carry it in its metadata.
        extra = cell.metadata.get("dlbasics")
        if isinstance(extra, dict) and "rubric" in extra:
            del extra["rubric"]
            if not extra:
                del cell.metadata["dlbasics"]
    return nbformat.writes(notebook) + "\n"


def generated_files(assignment: Assignment) -> dict[Path, bytes]:
    """Every file a build writes for ``assignment``, with its content."""
    target = KIT_ROOT / "assignments" / assignment.id
    files = {target / assignment.notebook: student_notebook(assignment).encode()}
    for name in SELFCHECK_FILES:
        files[target / "selfcheck" / name] = (SELFCHECK_DIR / name).read_bytes()
    # The folder's public checks become the students' selfcheck.public.<module>, with the
    # expected values the reference computes.
    files[target / "selfcheck" / "public" / f"{assignment.module}.py"] = (
        assignment.folder / "public_checks.py").read_bytes()
    files[assignment.expected_json] = public_expected_json(assignment).encode()
    return files


def build(assignments: list[Assignment] | None = None) -> list[Path]:
    """Write the generated files that changed; remove stale extras in the generated self-check package."""
    written = []
    for assignment in assignments or ASSIGNMENTS.values():
        files = generated_files(assignment)
        package = KIT_ROOT / "assignments" / assignment.id / "selfcheck"
        for path in package.rglob("*") if package.exists() else []:
            if path.is_file() and path not in files:
                path.unlink()  # a module no longer shipped
        for path, content in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_bytes() != content:
                path.write_bytes(content)
                written.append(path)
    return written


def check_fresh(assignments: list[Assignment] | None = None) -> list[str]:
    """Problems with the generated files: missing, stale, or extra files in ``assignments/``."""
    problems = []
    expected_paths = set()
    for assignment in assignments or ASSIGNMENTS.values():
        for path, content in generated_files(assignment).items():
            expected_paths.add(path)
            relative = path.relative_to(KIT_ROOT)
            if not path.exists():
                problems.append(f"{relative} is missing")
            elif path.read_bytes() != content:
                problems.append(f"{relative} is stale")
    for path in (KIT_ROOT / "assignments").rglob("*"):
        if path.is_file() and path not in expected_paths and "__pycache__" not in path.parts \
                and ".ipynb_checkpoints" not in path.parts:
            problems.append(f"{path.relative_to(KIT_ROOT)} is not generated by the build")
    return problems
