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

# What a student's environment needs to run the notebooks and their self-checks: no nbgrader
# (whose JupyterLab extension shows instructors' menus), no grader. Versions from the locks. The same
# for every assignment, so one environment serves the whole course.
STUDENT_PACKAGES = ["torch", "numpy", "matplotlib", "jupyterlab", "ipykernel"]
LOCKS = ["requirements-grading.lock", "requirements-dev.lock"]
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's CPU-only wheels

# Markers that must never reach a student: nbgrader's solution and hidden-test regions, and
# names that exist only in the grader's code.
FORBIDDEN = [b"BEGIN SOLUTION", b"END SOLUTION", b"BEGIN HIDDEN TESTS", b"END HIDDEN TESTS", b"random_for",
             b"hidden=True", b"autograder.checks"]

# The student's README: the commands in its fenced blocks are what tests/test_student_install.py runs.
README = """\
# {assignment}

This folder is your assignment: the notebook `{notebook}`, its self-checks (the `selfcheck/` folder,
which the notebook needs next to it), `requirements.txt`, `environment.yml` and this README.

## Python, once for the whole course

You need Python 3.11 or 3.12. Make one environment and use it for every assignment of the course:
each assignment's `requirements.txt` is the same. Keep it outside the assignment folders, for example
in your home folder.

On **Linux** (PyTorch's CPU build: the default download on Linux is the GPU build, several GB):

```bash
python3 -m venv ~/dlbasics-env
~/dlbasics-env/bin/pip install torch=={torch} --index-url {index}
~/dlbasics-env/bin/pip install -r requirements.txt
```

On **macOS**: the same, with `~/dlbasics-env/bin/pip install torch=={torch}` as the second line.
On **Windows**: `py -3.11 -m venv %USERPROFILE%\\dlbasics-env`, then
`%USERPROFILE%\\dlbasics-env\\Scripts\\pip install torch=={torch}` and
`%USERPROFILE%\\dlbasics-env\\Scripts\\pip install -r requirements.txt`.

With **conda** instead: `conda env create -f environment.yml` once, then `conda activate dlbasics`.

PyTorch versions: grading uses torch {torch}, and the self-checks are tested with it only. Other
versions (Colab's, a JupyterHub's) are not tested: if a self-check behaves strangely there, install
torch {torch} or tell your instructor.

## Working on the notebook

* **On your computer:** in this folder, run `~/dlbasics-env/bin/jupyter lab {notebook}`
  (with conda: `jupyter lab {notebook}`).
* **On your course's JupyterHub:** upload `{assignment}.zip`, unzip it (in a terminal:
  `unzip {assignment}.zip`) and open the notebook inside the folder: the self-check is next to it.
* **In Google Colab:** File ▸ Upload notebook ▸ `{notebook}`; then upload `{assignment}.zip`
  itself to the Files pane (the folder icon on the left) and run the first code cell: it unpacks the
  self-check from the zip. Colab has PyTorch already: install nothing. Nothing is downloaded from the
  internet.

Then:

1. Fill in the cells marked `# YOUR CODE HERE` and `YOUR ANSWER HERE`; run the `check(...)` cell
   under each question. The self-checks test your functions on the course's example only: grading
   runs them too, plus hidden checks on other inputs, so make each function right in general.
2. Restart the kernel and run all cells, save, and submit `{notebook}`.
"""

ENVIRONMENT = """\
# conda: one environment for the whole course (every assignment's file is the same).
#   conda env create -f environment.yml    (once)
#   conda activate dlbasics
# PyTorch's CPU index is an extra index: on Linux pip takes its CPU build of torch (the default
# download there is the GPU build, several GB); elsewhere the builds are the same.
name: dlbasics
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
      - --extra-index-url {index}
{pins}"""


class HandoutError(Exception):
    pass


def student_pins() -> dict[str, str]:
    pins = {}
    for lock in LOCKS:
        for line in (KIT_ROOT / lock).read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", line.strip())
            if match:
                pins[match[1].lower()] = match[2]
    missing = [name for name in STUDENT_PACKAGES if name not in pins]
    if missing:
        raise HandoutError(f"{' and '.join(LOCKS)} pin no version of {', '.join(missing)}")
    return {name: pins[name] for name in STUDENT_PACKAGES}


def student_requirements() -> str:
    return "".join(f"{name}=={version}\n" for name, version in student_pins().items())


def student_environment() -> str:
    pins = "".join(f"      - {name}=={version}\n" for name, version in student_pins().items())
    return ENVIRONMENT.format(index=TORCH_CPU_INDEX, pins=pins)


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
    files[f"{assignment.id}/environment.yml"] = student_environment().encode()
    files[f"{assignment.id}/README.md"] = README.format(assignment=assignment.id, notebook=assignment.notebook,
                                                       torch=student_pins()["torch"], index=TORCH_CPU_INDEX).encode()
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
