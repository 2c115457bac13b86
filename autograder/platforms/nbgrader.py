"""nbgrader courses: the source folder of one assignment, holding nothing of the grader.

``dlbasics nbgrader-source ASSIGNMENT COURSE_DIR`` writes ``COURSE_DIR/source/<id>/``: the solution
notebook with its nbgrader markup (which ``nbgrader generate_assignment`` needs) and the public
``selfcheck/`` package, and nothing else. nbgrader copies everything in ``source/<id>/`` into
``release/`` (what students fetch), ``autograded/`` and every student's ``feedback/``: the assignment
folder's ``corpus.py`` (complete answers), ``reference.py`` and ``checks.py`` must never be there. The
hidden blocks of the check cells find the checks through the installed kit instead.

Each hidden block is written as ``assert_question("<question>", assignment="<id>")``: a copy of an
assignment folder in the kit (two assignments with the same question ids) then changes nothing of this
one's grading. The source is final when written: nothing here touches what ``generate_assignment``
produced (nbgrader checksums those cells).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from autograder.checks import KIT_ROOT, Assignment
from autograder.notebook.build import generated_files

HIDDEN = re.compile(r"(### BEGIN HIDDEN TESTS\n)(.*?)(### END HIDDEN TESTS)", re.S)
CALL = re.compile(r'assert_question\("([A-Za-z_][A-Za-z0-9_]*)"\)')


class NbgraderSourceError(Exception):
    """The source folder cannot be written; says why and what to do."""


def source_notebook(assignment: Assignment) -> str:
    """The solution notebook for nbgrader's source/: each hidden block names its assignment, no rubric."""
    from autograder.notebook.build import solution_with_points

    notebook = solution_with_points(assignment)  # nbgrader's source carries the checks' points
    blocks = 0
    for cell in notebook.cells:
        # A written question's rubric is for graders; nbgrader copies cell metadata into the release.
        extra = cell.metadata.get("dlbasics")
        if isinstance(extra, dict):
            extra.pop("rubric", None)
            if not extra:
                del cell.metadata["dlbasics"]
        if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" not in cell.source:
            continue

        def name_assignment(block: re.Match) -> str:
            body, calls = CALL.subn(lambda call: f'assert_question("{call[1]}", assignment="{assignment.id}")',
                                    block[2])
            if calls != 1:
                raise NbgraderSourceError(
                    f"{assignment.solution.relative_to(KIT_ROOT)}: a hidden block must call "
                    f'assert_question("<question>") exactly once, found {calls}: see docs/authoring.md')
            return block[1] + body + block[3]

        cell.source, found = HIDDEN.subn(name_assignment, cell.source)
        blocks += found
    if not blocks:
        raise NbgraderSourceError(f"{assignment.solution.relative_to(KIT_ROOT)} has no hidden tests")
    return nbformat.writes(notebook) + "\n"


def source_files(assignment: Assignment) -> dict[str, bytes]:
    """Path inside ``source/<id>/`` -> content: the notebook and the public self-check package only."""
    files = {assignment.notebook: source_notebook(assignment).encode()}
    student_folder = KIT_ROOT / "assignments" / assignment.id
    for path, content in generated_files(assignment).items():  # what `dlbasics build` writes, fresh
        relative = path.relative_to(student_folder)
        if relative.parts[0] == "selfcheck":
            files[relative.as_posix()] = content
    return files


def write_source(assignment: Assignment, course_dir: Path) -> Path:
    """Write ``COURSE_DIR/source/<id>/``; return it. Refuses a folder holding files it would not write."""
    target = course_dir / "source" / assignment.id
    files = source_files(assignment)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise NbgraderSourceError(f"{target} is not a folder: remove it")
    if target.exists():
        # The old route copied solutions/<id> here (corpus.py, reference.py, checks.py): nbgrader would
        # release them. Only what this command writes may be there.
        extra = sorted(str(path.relative_to(target)) for path in target.rglob("*")
                       if path.is_file() and path.relative_to(target).as_posix() not in files
                       and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts)
        if extra:
            raise NbgraderSourceError(f"{target} holds files nbgrader would hand to students: "
                                      f"{', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}; remove the "
                                      "folder and run this command again")
        shutil.rmtree(target)
    for name, content in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return target
