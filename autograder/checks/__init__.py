"""Assignments, discovered: one folder each under ``solutions/``.

An assignment is a folder ``solutions/<id>/`` (any safe folder name is an id) holding::

    <notebook>.ipynb    the solution notebook with its nbgrader markup (the single source)
    public_checks.py    the checks students run with check(...): shipped in their selfcheck/
    checks.py           the hidden checks (random inputs), the public expected values, plots
    reference.py        the reference implementations the checks compare with
    corpus.py           typical mistakes and correct variants, each with the verdict it must get

Nothing names an assignment in code: the grader, the CLI, the build, the tests and the
sample generator find them here. The folder's modules import each other relatively
(``from . import reference``) and the grader's shared helpers absolutely; never another
assignment. Checks are plain ``test_*`` functions marked ``@points(n, question)``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from autograder.selfcheck.api import collect

KIT_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = KIT_ROOT / "solutions"
# A folder name that is safe everywhere it is used: a path part, a Python module name's
# source, a zip entry, an nbgrader assignment name.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
FOLDER_FILES = ("public_checks.py", "checks.py")  # what makes a folder an assignment


class AssignmentError(Exception):
    """An assignment folder that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Assignment:
    id: str
    folder: Path
    notebook: str  # the solution notebook's file name (the student's has the same)

    @property
    def module(self) -> str:
        """The Python name of its public checks, unique per assignment: ``a01_linear_regression``."""
        name = re.sub(r"\W", "_", self.id.lower())
        return name if name[0].isalpha() else "a" + name

    @property
    def solution(self) -> Path:
        return self.folder / self.notebook

    @property
    def release(self) -> Path:
        return KIT_ROOT / "assignments" / self.id / self.notebook

    @property
    def expected_json(self) -> Path:
        """The public checks' expected values, computed by ``dlbasics build``."""
        return KIT_ROOT / "assignments" / self.id / "selfcheck" / "public" / f"{self.module}.json"

    def public_module(self):
        return _load(self, "public_checks")

    def check_module(self):
        """The hidden checks' module (also ``public_expected``, ``expected_plots``, ``FEEDBACK_PLOTS``)."""
        return _load(self, "checks")

    def reference_module(self):
        return _load(self, "reference")

    def corpus_module(self):
        return _load(self, "corpus")

    def checks(self) -> list:
        """Every check, public ones first, in the order they are defined."""
        return collect(vars(self.public_module())) + collect(vars(self.check_module()))


def _package(assignment: Assignment) -> str:
    """A package for the folder, so its modules can import each other relatively."""
    name = f"autograder.assignments.{assignment.module}"
    if name not in sys.modules:
        if "autograder.assignments" not in sys.modules:
            root = types.ModuleType("autograder.assignments")
            root.__path__ = []
            sys.modules["autograder.assignments"] = root
        package = types.ModuleType(name)
        package.__path__ = [str(assignment.folder)]
        package.__file__ = str(assignment.folder / "__init__.py")
        package.__package__ = name
        sys.modules[name] = package
    return name


def _load(assignment: Assignment, part: str):
    package = _package(assignment)
    if part == "public_checks":
        # The public checks are also the students' selfcheck.public.<module>: they import the
        # check API relatively (from ..api import ...), so they live in that package here too.
        name = f"autograder.selfcheck.public.{assignment.module}"
        if name not in sys.modules:
            path = assignment.folder / "public_checks.py"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            module.__expected__ = assignment.expected_json  # where expected_values() reads them
            sys.modules[name] = module
            sys.modules[f"{package}.public_checks"] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name], sys.modules[f"{package}.public_checks"]
                raise
        return sys.modules[name]
    if part != "public_checks":
        _load(assignment, "public_checks")  # checks.py may import from .public_checks
    return importlib.import_module(f"{package}.{part}")


def discover(root: Path | None = None) -> dict[str, Assignment]:
    """Every assignment folder under ``solutions/``, by id, in name order."""
    root = root or SOLUTIONS
    found = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if not all((folder / name).is_file() for name in FOLDER_FILES):
            continue
        if not SAFE_ID.match(folder.name):
            raise AssignmentError(f"{folder}: an assignment id may hold letters, digits, '.', '_' and '-' "
                                  "(at most 64, starting with a letter or digit); rename the folder")
        notebooks = sorted(p.name for p in folder.glob("*.ipynb"))
        if len(notebooks) != 1:
            raise AssignmentError(f"{folder} needs exactly one solution notebook (.ipynb), found {len(notebooks)}")
        found[folder.name] = Assignment(folder.name, folder, notebooks[0])
    return found


ASSIGNMENTS = discover()


class UnknownAssignment(LookupError):
    """No assignment has that name (a LookupError, whose message is printed as is)."""


def get_assignment(name: str) -> Assignment:
    """An assignment by id (``01-linear-regression``), number (``01``, ``1``), module or notebook name."""
    for assignment in ASSIGNMENTS.values():
        number = re.match(r"^(\d+)[-_.]", assignment.id)
        names = {assignment.id, assignment.module, assignment.notebook.removesuffix(".ipynb")}
        if number:
            names |= {number[1], str(int(number[1]))}
        if name in names:
            return assignment
    known = ", ".join(ASSIGNMENTS) or "(none: no folder under solutions/ holds public_checks.py and checks.py)"
    raise UnknownAssignment(f"unknown assignment {name!r}; the assignments are: {known}")
