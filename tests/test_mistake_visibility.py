"""Every mistake a check names is visible at that check's own inputs, for many seeds and students.

Each check runs on the reference answers in this process (as ``check(...)`` runs in a kernel)
while :func:`autograder.selfcheck.api.recording` logs every comparison it makes: the expected
value, its tolerance, and the value each named mistake would produce at the same inputs. A
mistake whose value lies within the tolerance could pass the check, and the feedback could
never name it: each such case fails here. Also: the public checks of a question can name
every mistake its hidden checks name, and they use learning rates no story cell uses (so a
rate copied from the notebook into a function fails a self-check).
"""

from __future__ import annotations

import inspect
import re

import pytest
from inkernel import namespace_of, story_cells

from autograder.checks import ASSIGNMENTS
from autograder.context import GradingContext
from autograder.selfcheck import LocalStudent
from autograder.selfcheck.api import PASSED, matches, recording, run_check

# A few terms' seeds and students: hidden inputs differ for each (seed, assignment, student).
SEEDS = [("term-a-0123456789", "alice"), ("term-a-0123456789", "bob"), ("term-b-0123456789", "alice"),
         ("2031-spring-secret", "s1234567"), ("x" * 40, "zoë o'brien"), ("x" * 40, "../x~2")]


@pytest.fixture(scope="module")
def reference_namespaces():
    return {a.id: namespace_of(a) for a in ASSIGNMENTS.values()}


class CallLog(LocalStudent):
    """A LocalStudent that remembers every call's name and arguments."""

    def __init__(self, namespace, hidden_key=None):
        super().__init__(namespace)
        self.calls = []
        self.hidden_key = hidden_key

    def request(self, name, args, kwargs, render):
        self.calls.append((name, args))
        return super().request(name, args, kwargs, render)


def run_recorded(namespace: dict, assignment, seed=SEEDS[0]) -> list[tuple]:
    """(check, result, log of comparisons, calls) for every check of ``assignment`` on ``namespace``,
    hidden checks on the inputs of ``seed`` = (the course's seed, the student's id)."""
    runs = []
    key = GradingContext(seed[0]).hidden(assignment.id, seed[1])
    for fn in assignment.checks():
        student = CallLog(namespace, key if fn.hidden else None)
        with recording() as log:
            result = run_check(fn, student)
        runs.append((fn, result, log, student.calls))
    return runs


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"{s[0][:6]}-{s[1]}")
@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_every_named_mistake_lies_outside_its_checks_tolerance(reference_namespaces, assignment, seed):
    invisible, compared = [], 0
    for fn, result, log, _ in run_recorded(reference_namespaces[assignment.id], assignment, seed):
        assert result.status == PASSED, f"{fn.__name__} fails the reference: {result.message}"
        for entry in log:
            if entry["kind"] != "value":
                continue
            for name, value in entry["variants"].items():
                compared += 1
                if matches(value, entry["expected"], entry["rel"], entry["abs_"]):
                    invisible.append(f"{fn.__name__} ({entry['what']}): {name!r} gives {value}, within "
                                     f"rel {entry['rel']:g} / abs {entry['abs_']:g} of {entry['expected']}")
    assert compared > 20, "the checks compared (almost) no named mistakes: is recording broken?"
    assert not invisible, "named mistakes a check cannot see:\n" + "\n".join(invisible)


def _named(log) -> set[str]:
    names = set()
    for entry in log:
        if entry["kind"] == "value":
            names |= set(entry["variants"])
        elif entry["mistake"]:
            names.add(entry["mistake"])
    return names


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_public_checks_name_every_mistake_the_hidden_checks_name(reference_namespaces, assignment):
    public, hidden = {}, {}
    for fn, _, log, _ in run_recorded(reference_namespaces[assignment.id], assignment):
        (hidden if fn.hidden else public).setdefault(fn.question, set()).update(_named(log))
    assert set(hidden) == set(public)
    missing = {q: sorted(hidden[q] - public[q]) for q in hidden if hidden[q] - public[q]}
    assert not missing, f"mistakes only a hidden check can name (a green self-check would hide them): {missing}"


def lr_position(namespace: dict, name: str) -> int | None:
    """Where a function of the reference takes its learning rate: its parameter named ``lr`` (0-based)."""
    try:
        parameters = list(inspect.signature(namespace[name]).parameters)
    except (KeyError, TypeError, ValueError):
        return None
    return parameters.index("lr") if "lr" in parameters else None


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_public_learning_rates_differ_from_every_number_in_the_stories(reference_namespaces, assignment):
    story_numbers = set()
    for _, source in story_cells(assignment):
        story_numbers |= {float(n) for n in re.findall(r"(?<![\w.])\d+\.?\d*(?:e-?\d+)?", source)}
    namespace = reference_namespaces[assignment.id]
    public_rates = {args[position] for fn, _, _, calls in run_recorded(namespace, assignment)
                    if not fn.hidden for name, args in calls
                    if (position := lr_position(namespace, name)) is not None and position < len(args)}
    assert public_rates, "no public check passes a learning rate"
    shared = public_rates & story_numbers
    assert not shared, f"public learning rates also used by a story: {shared}"
    assert 1e-4 in story_numbers or assignment.id != "01-linear-regression"  # the training story's rate is seen


# --- the rule that makes it so: cases.draw rejects a draw at which a mistake is invisible ---------------

# How many seeds to scan for draws that must be rejected (over 100 seeds about a quarter of
# them need a rejection somewhere, so a few dozen find several), and how many to find.
SCAN_SEEDS = 100
REJECTIONS_WANTED = 4


class _Drawn(Exception):
    """Raised right after a check's draw: the rest of the check (the student's calls) is not needed."""


def _seeded_student(namespace, assignment, seed: str, monkeypatch) -> LocalStudent:
    student = LocalStudent(namespace, seconds=120)
    try:  # the explicit context (autograder.context): the hidden-input key travels with the student
        from autograder.context import HiddenKey

        student.hidden_key = HiddenKey(seed, assignment.id, "visibility")
    except ImportError:  # before it: the grader's process reads DLBASICS_SEED
        monkeypatch.setenv("DLBASICS_SEED", seed)
    return student


def test_draw_rejects_a_case_that_hides_a_mistake_and_keeps_a_visible_one(reference_namespaces, monkeypatch):
    """Where a hidden check's first random case hides a named mistake, the case it keeps is another, visible one.

    Each check module's ``draw`` is wrapped: every attempt's comparisons are judged here as
    well (all named mistakes outside the tolerance?), and the check stops after its draw.
    """
    drawn: list[tuple[str, str, list[bool], bool]] = []  # (seed, name, visible per attempt, kept one visible)

    def spying(original, seed_of):
        def draw(*args):
            *head, name, make = args
            attempts, kept = [], []

            def watched(r):
                case, comparisons = make(r)
                attempts.append(all(c.visible() for c in comparisons))
                kept[:] = [(case, attempts[-1])]
                return case, comparisons

            case = original(*head, name, watched)
            kept_visible = next(visible for made, visible in kept if made is case) if kept else False
            drawn.append((seed_of(), name, attempts, kept_visible))
            raise _Drawn
        return draw

    current = {"seed": ""}
    for assignment in ASSIGNMENTS.values():
        module = assignment.check_module()
        monkeypatch.setattr(module, "draw", spying(module.draw, lambda: current["seed"]))
    for number in range(SCAN_SEEDS):
        current["seed"] = f"visibility scan {number:03d}"
        for assignment in ASSIGNMENTS.values():
            for fn in assignment.checks():
                if fn.hidden:
                    run_check(fn, _seeded_student(reference_namespaces[assignment.id], assignment, current["seed"],
                                                  monkeypatch))
        if sum(1 for _, _, attempts, _ in drawn if attempts and not attempts[0]) >= REJECTIONS_WANTED:
            break
    assert drawn, "no hidden check drew a case: is draw still used?"
    rejected = [(seed, name, attempts, kept) for seed, name, attempts, kept in drawn if attempts and not attempts[0]]
    assert len(rejected) >= REJECTIONS_WANTED, f"only {len(rejected)} draws needed a rejection in {SCAN_SEEDS} seeds"
    for seed, name, attempts, kept in rejected:
        assert len(attempts) > 1, f"{seed!r}, {name!r}: the first case hides a named mistake and was kept"
        assert kept and attempts[-1], f"{seed!r}, {name!r}: the case kept hides a named mistake ({attempts})"
    # Every draw, rejected first or not, keeps a case at which every named mistake is visible.
    hidden = [(seed, name) for seed, name, _, kept in drawn if not kept]
    assert not hidden, f"cases kept with a named mistake invisible: {hidden[:5]}"
