"""The checks of each assignment, and the seed of their hidden random inputs.

``autograder/checks/<module>.py`` holds an assignment's checks: plain ``test_*`` functions
marked with ``@points(n, question)``. Add a check the way you would add a pytest test; it
runs in the grader and under pytest (see ``autograder.pytest_plugin``).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import random
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from autograder.selfcheck.api import collect

KIT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Assignment:
    id: str
    module: str
    notebook: str

    @property
    def solution(self) -> Path:
        return KIT_ROOT / "solutions" / self.id / self.notebook

    @property
    def release(self) -> Path:
        return KIT_ROOT / "assignments" / self.id / self.notebook

    def checks(self) -> list:
        return collect(vars(importlib.import_module(f"autograder.checks.{self.module}")))

    def check_module(self):
        return importlib.import_module(f"autograder.checks.{self.module}")


ASSIGNMENTS = {
    a.id: a
    for a in (
        Assignment("01-linear-regression", "linear_regression", "linear_regression.ipynb"),
        Assignment("02-gradient-descent", "gradient_descent", "gradient_descent.ipynb"),
    )
}


class UnknownAssignment(LookupError):
    """No assignment has that name (a LookupError, whose message is printed as is)."""


def get_assignment(name: str) -> Assignment:
    """An assignment by id (``01-linear-regression``), by number (``01``, ``1``) or module name."""
    for assignment in ASSIGNMENTS.values():
        if name in (assignment.id, assignment.module, assignment.id.split("-", 1)[0], str(int(assignment.id[:2]))):
            return assignment
    known = ", ".join(ASSIGNMENTS)
    raise UnknownAssignment(f"unknown assignment {name!r}; the assignments are: {known}")


# The seed of hidden inputs. Kept by the grader: it never enters the sandbox or the
# student package. Override it per course with DLBASICS_SEED so inputs differ per term.
DEFAULT_SEED = "dlbasics-hidden-inputs-v1"


# A seed handed over explicitly, for this thread only: a Dask worker grades with the seed of
# the grader that sent the task (autograder/grading/cluster.py), whatever its own environment
# says, without changing os.environ under the other threads grading beside it.
_given_seed: ContextVar[str | None] = ContextVar("dlbasics_seed", default=None)


def seed() -> str:
    given = _given_seed.get()
    return given if given is not None else os.environ.get("DLBASICS_SEED", DEFAULT_SEED)


@contextmanager
def using_seed(value: str):
    """Within this block, in this thread, :func:`seed` is ``value``."""
    token = _given_seed.set(value)
    try:
        yield
    finally:
        _given_seed.reset(token)


def random_for(name: str) -> random.Random:
    """A random generator for one hidden input, reproducible from the seed and the name."""
    digest = hashlib.sha256(f"{seed()}:{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
