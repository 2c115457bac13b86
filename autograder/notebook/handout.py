"""The student bundle of an assignment: what students receive, and nothing else.

``dlbasics handout ASSIGNMENT`` zips the generated ``assignments/<id>/`` folder (the
student notebook and its public ``selfcheck/`` package) with a student requirements file
and a short README. The bundle is built from the generated files only and checked before it
is written: no solution, no hidden test, no grader code can be in it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from autograder.checks import KIT_ROOT, Assignment
from autograder.notebook.build import check_fresh

# What a student's environment needs to run the notebook and its self-checks: no nbgrader
# (whose JupyterLab extension shows instructors' menus), no grader. Versions from the lock.
STUDENT_PACKAGES = ["torch", "numpy", "matplotlib", "jupyterlab", "ipykernel"]

# Markers that must never reach a student: nbgrader's solution and hidden-test regions, and
# names that exist only in the grader's code.
FORBIDDEN = [b"BEGIN SOLUTION", b"END SOLUTION", b"BEGIN HIDDEN TESTS", b"END HIDDEN TESTS", b"random_for",
             b"hidden=True", b"autograder.checks"]

README = """\
# {assignment}

1. Create an environment once (Python 3.11):

       python3 -m venv .venv
       .venv/bin/pip install torch==2.13.0   # first: the CPU build, not several GB of CUDA
       .venv/bin/pip install -r requirements.txt

2. Open the notebook: `.venv/bin/jupyter lab {notebook}`
3. Fill in the cells marked `# YOUR CODE HERE` and `YOUR ANSWER HERE`; run the `check(...)` cell
   under each question. The self-checks test your functions on the course's example only: grading
   runs them too, plus hidden checks on other inputs, so make each function right in general.
4. Restart the kernel and run all cells, save, and submit `{notebook}`.
"""


class HandoutError(Exception):
    pass


def student_requirements() -> str:
    pins = {}
    for line in (KIT_ROOT / "requirements.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", line.strip())
        if match:
            pins[match[1].lower()] = match[2]
    missing = [name for name in STUDENT_PACKAGES if name not in pins]
    if missing:
        raise HandoutError(f"requirements.lock pins no version of {', '.join(missing)}")
    return "".join(f"{name}=={pins[name]}\n" for name in STUDENT_PACKAGES)


def bundle_files(assignment: Assignment) -> dict[str, bytes]:
    """Archive path -> content of every file in the bundle."""
    stale = [problem for problem in check_fresh([assignment])
             if problem.startswith(f"assignments/{assignment.id}/")]
    if stale:
        raise HandoutError("the student files are out of date (" + "; ".join(stale[:3]) + "): run `dlbasics build`")
    source = KIT_ROOT / "assignments" / assignment.id
    files = {}
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
            files[f"{assignment.id}/{path.relative_to(source)}"] = path.read_bytes()
    files[f"{assignment.id}/requirements.txt"] = student_requirements().encode()
    files[f"{assignment.id}/README.md"] = README.format(assignment=assignment.id,
                                                       notebook=assignment.notebook).encode()
    for name, content in files.items():
        for marker in FORBIDDEN:
            if marker in content:
                raise HandoutError(f"{name} contains {marker.decode()!r}: it must not reach students; "
                                   "fix the solution notebook's markup and rebuild")
    return files


def write_bundle(assignment: Assignment, out: Path) -> Path:
    files = bundle_files(assignment)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{assignment.id}.zip"
    temporary = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    temporary.replace(target)
    return target
