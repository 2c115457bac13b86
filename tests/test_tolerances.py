"""Every tolerance is pinned: just inside it a correct answer passes, just outside it fails.

Each check runs on the reference answers (as ``check(...)`` runs in a kernel) while
:func:`autograder.selfcheck.api.recording` logs every comparison it makes: the expected value
and the tolerance the check passes (``rel``, ``abs_``). The tolerances of a fixed seed's run are
kept in ``tests/goldens/tolerances-<assignment>.json``. For each comparison, a value half the
golden tolerance away from the expected one must pass the check's own comparison
(:func:`~autograder.selfcheck.api.matches`, which is what ``expect_close``/``expect_sequence``
decide with), and a value 1.5 times the golden tolerance away must fail it. So a tolerance
widened two-fold (or a comparison made looser) fails here, and so does one narrowed two-fold
(float32 noise would then fail correct answers). A deliberate change of a tolerance is made
by rerunning with ``--update-goldens`` and committing the reviewed diff.

The hidden checks' inputs come from a seed: a fixed one here, given the way the kit takes it.
"""

from __future__ import annotations

import math

import pytest
from inkernel import namespace_of

from autograder.checks import ASSIGNMENTS
from autograder.selfcheck import LocalStudent
from autograder.selfcheck.api import PASSED, matches, recording, run_check

# A seed of our own for the hidden checks' inputs (the tolerances of most checks do not depend
# on it; the few computed from the data do).
SEED = "tolerance goldens: a fixed seed for the test suite"
# Where a correct answer lies (a fraction of the tolerance) and where a mistake lies (a multiple).
INSIDE, OUTSIDE = 0.5, 1.5


def student_for(namespace, assignment, monkeypatch):
    """A LocalStudent on ``namespace`` whose hidden inputs come from :data:`SEED`."""
    # A generous call limit: this test is about values, and a loaded machine must not fail it.
    student = LocalStudent(namespace, seconds=120)
    try:  # the explicit context (autograder.context): the key travels with the student
        from autograder.context import HiddenKey

        student.hidden_key = HiddenKey(SEED, assignment.id, "tolerances")
    except ImportError:  # before it: the grader's process reads DLBASICS_SEED
        monkeypatch.setenv("DLBASICS_SEED", SEED)
    return student


def comparisons(assignment, monkeypatch) -> dict[str, list[dict]]:
    """Every value comparison of every check on the reference answers: check name -> [entry, ...]."""
    namespace = namespace_of(assignment)
    logged = {}
    for fn in assignment.checks():
        with recording() as log:
            result = run_check(fn, student_for(namespace, assignment, monkeypatch))
        assert result.status == PASSED, f"{fn.__name__} fails the reference: {result.message}"
        logged[fn.__name__] = [entry for entry in log if entry["kind"] == "value"]
    return logged


def tolerance(expected: float, rel: float, abs_: float) -> float:
    """How far from ``expected`` a value may lie (the rule of api.close)."""
    return max(rel * abs(expected), abs_)


def shifted(expected, rel: float, abs_: float, factor: float):
    """``expected`` moved away by ``factor`` times its tolerance (each item of a sequence)."""
    if isinstance(expected, (list, tuple)):
        return [e + factor * tolerance(e, rel, abs_) for e in expected]
    return expected + factor * tolerance(expected, rel, abs_)


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_every_tolerance_is_pinned(assignment, monkeypatch, golden):
    logged = comparisons(assignment, monkeypatch)
    pinned = golden.load(f"tolerances-{assignment.id}.json",
                         {name: [{"what": entry["what"], "rel": entry["rel"], "abs_": entry["abs_"]} for entry in log]
                          for name, log in logged.items()})
    assert set(pinned) == set(logged), "checks were added or removed: rerun with --update-goldens"
    problems, compared = [], 0
    for name, log in logged.items():
        assert len(log) == len(pinned[name]), f"{name} compares {len(log)} values, its golden {len(pinned[name])}"
        for entry, pin in zip(log, pinned[name]):
            expected, rel, abs_ = entry["expected"], entry["rel"], entry["abs_"]
            values = expected if isinstance(expected, (list, tuple)) else [expected]
            if all(tolerance(v, pin["rel"], pin["abs_"]) == 0 for v in values):
                # An exact comparison stays exact.
                if (rel, abs_) != (0, 0):
                    problems.append(f"{name} ({entry['what']}): exact in the golden, now rel {rel:g} / abs {abs_:g}")
                continue
            compared += 1
            inside = shifted(expected, pin["rel"], pin["abs_"], INSIDE)
            outside = shifted(expected, pin["rel"], pin["abs_"], OUTSIDE)
            below = shifted(expected, pin["rel"], pin["abs_"], -OUTSIDE)
            if not matches(inside, expected, rel, abs_):
                problems.append(f"{name} ({entry['what']}): a correct answer {INSIDE:g} tolerance away fails "
                                f"(rel {rel:g} / abs {abs_:g}, golden rel {pin['rel']:g} / abs {pin['abs_']:g})")
            if matches(outside, expected, rel, abs_) or matches(below, expected, rel, abs_):
                problems.append(f"{name} ({entry['what']}): a wrong answer {OUTSIDE:g} tolerances away passes "
                                f"(rel {rel:g} / abs {abs_:g}, golden rel {pin['rel']:g} / abs {pin['abs_']:g})")
    assert compared > 10, "(almost) no comparison was recorded: is recording broken?"
    assert not problems, "tolerances moved from tests/goldens (rerun with --update-goldens if intended):\n" + \
        "\n".join(problems)


def test_the_comparison_rule_itself():
    """api.matches: inside by a hair passes, outside by a hair fails, for rel and for abs_."""
    assert matches(100.0 + 0.99e-2, 100.0, 1e-4) and not matches(100.0 + 1.01e-2, 100.0, 1e-4)
    assert matches(1e-3, 0.0, 1e-4, 1e-3) and not matches(1.01e-3, 0.0, 1e-4, 1e-3)
    assert matches([1.0, 2.0], [1.0, 2.0 + 1.9e-6], 1e-6) and not matches([1.0, 2.0], [1.0, 2.0 + 2.1e-6], 1e-6)
    assert not matches(math.nan, 1.0, 1.0) and not matches(math.inf, 1.0, 1.0)
