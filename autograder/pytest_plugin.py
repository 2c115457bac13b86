"""Run an assignment's checks under pytest: ``pytest solutions/01-linear-regression/checks.py``.

By default the checks grade the reference solution (a quick way for an instructor to see
that a new check passes on it); ``--dlbasics-notebook PATH`` grades a submission instead.
The student's code runs in the same sandbox as in ``dlbasics grade``; each check's points
are a ``points`` marker, and the terminal summary adds them up. ``checks.py`` collects every
check of the assignment, public and hidden; ``public_checks.py`` the public ones alone.

Hidden checks need the course's secret seed, never a default: ``--dlbasics-course COURSE``
(its secret.toml) or ``DLBASICS_SEED``; without one they are skipped with a message that says
so. ``--dlbasics-student ID`` picks whose hidden inputs are drawn (default ``reference``).
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("dlbasics")
    group.addoption("--dlbasics-notebook", default=None, help="notebook to grade (default: the reference solution)")
    group.addoption("--dlbasics-course", default=None, help="course folder whose secret seed the hidden checks use")
    group.addoption("--dlbasics-student", default="reference", help="whose hidden inputs to draw (default: reference)")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n, question): points a dlbasics check is worth")
    config._dlbasics_points = {}


def pytest_collection_modifyitems(items):
    for item in items:
        function = getattr(item, "function", None)
        if function is not None and hasattr(function, "points") and hasattr(function, "question"):
            item.add_marker(pytest.mark.points(function.points, function.question))


def _assignment_of_file(path: Path):
    from autograder.checks import ASSIGNMENTS

    for assignment in ASSIGNMENTS.values():
        if path.parent.resolve() == assignment.folder.resolve() and path.name in ("checks.py", "public_checks.py"):
            return assignment
    return None


class AssignmentModule(pytest.Module):
    """An assignment folder's checks, imported the way the grader imports them (as a package)."""

    def _getobj(self):
        assignment = _assignment_of_file(Path(self.path))
        namespace = types.ModuleType(f"dlbasics_checks_{assignment.module}")
        namespace.__file__ = str(self.path)
        namespace.__dlbasics_assignment__ = assignment
        for check in (assignment.checks() if self.path.name == "checks.py" else
                      [fn for fn in assignment.checks() if not fn.hidden]):
            setattr(namespace, check.__name__, check)
        return namespace


def pytest_pycollect_makemodule(module_path, parent):
    if _assignment_of_file(Path(module_path)) is not None:
        return AssignmentModule.from_parent(parent, path=module_path)
    return None


def _assignment_for(module):
    return getattr(module, "__dlbasics_assignment__", None)


def _context(config):
    """The run's context from the command line or DLBASICS_SEED, or None (hidden checks are then skipped)."""
    from autograder.checks import ASSIGNMENTS
    from autograder.context import NoSeed, environment_seed, make_context
    from autograder.course import load

    course = config.getoption("--dlbasics-course")
    try:
        return make_context(load(Path(course), ASSIGNMENTS) if course else None, None, env_seed=environment_seed())
    except NoSeed:
        return None


@pytest.fixture
def student(request, _dlbasics_session):
    """The submission as this check sees it: hidden checks get the student's hidden-input key."""
    from autograder.context import SEED_HELP
    from autograder.grading.grade import HiddenInputs

    if not getattr(request.function, "hidden", False):
        return _dlbasics_session
    context = _context(request.config)
    if context is None:
        pytest.skip(SEED_HELP.replace("--course", "--dlbasics-course"))
    assignment = _assignment_for(request.module)
    key = context.hidden(assignment.id, request.config.getoption("--dlbasics-student"))
    return HiddenInputs(_dlbasics_session, key)


@pytest.fixture(scope="module")
def _dlbasics_session(request):
    """The submission running in a sandboxed child, as the checks of this module see it."""
    from autograder.grading.grade import load_template
    from autograder.notebook.submission import load_notebook, rebuild
    from autograder.sandbox.pool import Worker

    assignment = _assignment_for(request.module)
    if assignment is None:
        pytest.skip(f"{request.module.__name__} is not an assignment's check module")
    path = request.config.getoption("--dlbasics-notebook") or assignment.solution
    rebuilt = rebuild(load_template(assignment), load_notebook(Path(path)))
    worker = Worker()
    session = worker.open(rebuilt.cells)
    yield session
    session.close()
    worker.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("points")
    if marker and report.when == "call":
        earned = marker.args[0] if report.passed else 0
        item.config._dlbasics_points[item.nodeid] = (earned, marker.args[0])


def pytest_terminal_summary(terminalreporter, config):
    scores = getattr(config, "_dlbasics_points", {})
    if scores:
        earned = sum(e for e, _ in scores.values())
        total = sum(t for _, t in scores.values())
        terminalreporter.write_line(f"dlbasics points: {earned:g} / {total:g}")
