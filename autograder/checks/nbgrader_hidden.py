"""nbgrader's hidden tests: the kit's own checks, run in the notebook's kernel.

Each ``check_<question>`` cell of a solution notebook ends with::

    ### BEGIN HIDDEN TESTS
    from autograder.checks.nbgrader_hidden import assert_question
    assert_question("mse_loss")
    ### END HIDDEN TESTS

so that ``nbgrader autograde`` runs every check of that question, public and hidden, the
very functions ``dlbasics grade`` runs, on the student's functions in the kernel (through
the same :class:`~autograder.selfcheck.LocalStudent` as the self-check, with the grader's
call time limit and seeds). nbgrader scores a check cell all or nothing, so a cell passes
exactly when ``dlbasics`` gives that question full marks: the two graders agree by
construction (``tests/test_nbgrader.py`` shows it on the whole corpus).

nbgrader's autograde must therefore run in an environment where this kit is installed (the
kit's venv is; see ``nbgrader_config.py``). nbgrader gives the kernel nothing but its
environment and working folder, so the settings come from there, read once per call and
passed on explicitly (``context=`` and ``student=`` take them directly):

* the seed: ``DLBASICS_COURSE`` (a course folder: its secret.toml) or ``DLBASICS_SEED``; without
  either the hidden checks refuse to run (AssertionError saying how to set one), never a default;
* the student whose hidden inputs are drawn: ``DLBASICS_STUDENT``, else nbgrader's own layout
  (autograde runs each notebook in ``autograded/<student>/<assignment>/``), else ``instructor``
  (validating a source notebook).

Students never see this block: the build and nbgrader remove it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from autograder.checks import ASSIGNMENTS
from autograder.context import GradingContext, NoSeed, environment_seed, make_context
from autograder.selfcheck import LocalStudent
from autograder.selfcheck.api import PASSED, run_check

# The grader's limit for one call of a student function (autograder.sandbox.pool.Limits):
# the same limit here, so a function too slow for one grader is too slow for the other.
CALL_SECONDS = 5.0


def checks_of(question: str, assignment: str | None = None) -> list:
    """Every check (public and hidden) of ``question``, in the order the grader runs them.

    A question id names one assignment's question; should two assignments use the same id,
    the hidden block must say which (``assert_question("q", assignment="<id>")``).
    """
    owners = {a.id: [fn for fn in a.checks() if fn.question == question] for a in ASSIGNMENTS.values()
              if assignment in (None, a.id)}
    owners = {a: found for a, found in owners.items() if found}
    if not owners:
        known = sorted({fn.question for a in ASSIGNMENTS.values() for fn in a.checks()})
        raise KeyError(f"no checks for question {question!r}; the questions are: {', '.join(known)}")
    if len(owners) > 1:
        raise KeyError(f"question {question!r} is in several assignments ({', '.join(sorted(owners))}): "
                       f"call assert_question({question!r}, assignment=...) with one of them")
    return next(iter(owners.values()))


def kernel_context() -> GradingContext:
    """The seed from the kernel's environment (DLBASICS_COURSE or DLBASICS_SEED), or NoSeed."""
    from autograder.course import load

    course = os.environ.get("DLBASICS_COURSE")
    return make_context(load(Path(course), ASSIGNMENTS) if course else None, None, env_seed=environment_seed())


def kernel_student() -> str:
    """Whose hidden inputs: DLBASICS_STUDENT, else nbgrader's autograded/<student>/<assignment>/, else instructor."""
    given = os.environ.get("DLBASICS_STUDENT")
    if given:
        return given
    here = Path.cwd()
    return here.parent.name if here.parent.parent.name == "autograded" else "instructor"


class _HiddenLocal(LocalStudent):
    def __init__(self, namespace, seconds, hidden_key):
        super().__init__(namespace, seconds=seconds)
        self.hidden_key = hidden_key


def question_results(question: str, namespace: dict | None = None, assignment: str | None = None, *,
                     context: GradingContext | None = None, student: str | None = None) -> list:
    """The results of every check of ``question`` on the functions of ``namespace`` (default: the kernel's)."""
    fns = checks_of(question, assignment)
    owner = next(a for a in ASSIGNMENTS.values() if fns[0] in a.checks())
    context = context or kernel_context()
    public = LocalStudent(namespace, seconds=CALL_SECONDS)
    hidden = _HiddenLocal(public.namespace, CALL_SECONDS, context.hidden(owner.id, student or kernel_student()))
    with warnings.catch_warnings():
        # nbgrader fails a cell that writes to stderr: a warning is not a wrong answer.
        warnings.simplefilter("ignore")
        return [run_check(fn, hidden if fn.hidden else public) for fn in fns]


def assert_question(question: str, namespace: dict | None = None, assignment: str | None = None, *,
                    context: GradingContext | None = None, student: str | None = None) -> None:
    """Raise AssertionError, listing the failing checks, unless every check of ``question`` passes."""
    try:
        results = question_results(question, namespace, assignment, context=context, student=student)
    except NoSeed as error:
        raise AssertionError(f"the hidden checks of {question} did not run: {error}. For nbgrader, export "
                             "DLBASICS_COURSE=/path/to/course before `nbgrader autograde` (see nbgrader_config.py)"
                             ) from None
    failed = [r for r in results if r.status != PASSED]
    if failed:
        lines = [f"{len(failed)} of {len(results)} checks of {question} did not pass:"]
        lines += [f"- {r.name.removeprefix('test_').replace('_', ' ')} [{r.status}]: {r.message}" for r in failed]
        raise AssertionError("\n".join(lines))
