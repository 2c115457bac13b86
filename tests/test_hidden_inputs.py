"""Hidden inputs belong to one student of one course, and no seed is ever a default.

A hidden check draws its inputs from ``HiddenKey(seed, assignment, student)`` (autograder/context.py).
These tests show: two students' inputs differ on every hidden check while one student's are
reproducible; a table of answers built from one student's hidden inputs (what a leak would give)
earns its author the hidden points but nothing for anyone else; and every entry point without a
seed refuses the hidden checks with a message that says how to set one, while the kit's source
holds no seed at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import KIT_ROOT, grade_notebooks
from inkernel import namespace_of, selfcheck_package

from autograder.checks import ASSIGNMENTS
from autograder.context import SEED_VARIABLE, GradingContext, NoSeed
from autograder.selfcheck import LocalStudent
from autograder.selfcheck.api import PASSED, run_check

SEED = "a course's secret seed for this test"
A01 = next(a for a in ASSIGNMENTS.values() if any(fn.question == "fit_least_squares" for fn in a.checks()))


class Recorder(LocalStudent):
    """The reference in this process, recording the arguments of every call a check makes."""

    def __init__(self, namespace, hidden_key):
        super().__init__(namespace)
        self.hidden_key = hidden_key
        self.calls: list[tuple[str, str]] = []

    def request(self, name, args, kwargs, spy, render):
        self.calls.append((name, json.dumps([args, kwargs], sort_keys=True)))
        return super().request(name, args, kwargs, spy, render)


def hidden_calls(assignment, namespace, student: str, seed: str = SEED) -> dict[str, list]:
    """Every hidden check's calls (name, arguments) for ``student``, by check."""
    key = GradingContext(seed).hidden(assignment.id, student)
    calls = {}
    for fn in assignment.checks():
        if fn.hidden:
            recorder = Recorder(namespace, key)
            assert run_check(fn, recorder).status == PASSED, fn.__name__
            calls[fn.__name__] = recorder.calls
    return calls


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_every_hidden_check_gives_two_students_different_inputs_and_one_student_the_same(assignment):
    namespace = namespace_of(assignment)
    with selfcheck_package():
        alice, again = hidden_calls(assignment, namespace, "alice"), hidden_calls(assignment, namespace, "alice")
        bob = hidden_calls(assignment, namespace, "bob")
        other_term = hidden_calls(assignment, namespace, "alice", seed="another term's secret seed")
    assert alice == again, "one student's hidden inputs must be reproducible from the seed"
    assert alice, f"{assignment.id} has no hidden check"
    same = [name for name in alice if alice[name] == bob[name]]
    assert not same, f"hidden checks that give alice and bob the same inputs: {same}"
    assert not [name for name in alice if alice[name] == other_term[name]], "the seed must change the inputs"


def _table_answer(table: dict) -> str:
    """A fit_least_squares that knows only the answers in ``table`` (keyed by the x values, as a leak gives)."""
    return (f"TABLE = {json.dumps(table)}\n\n"
            "def fit_least_squares(x, y):\n"
            "    key = ','.join(f'{v:.4f}' for v in x.reshape(-1).tolist())\n"
            "    return tuple(TABLE.get(key, (0.0, 0.0)))\n")


def _key(args_json: str) -> str:
    x = json.loads(args_json)[0][0]["data"]
    flat = [v[0] if isinstance(v, list) else v for v in x]
    return ",".join(f"{float(v):.4f}" for v in flat)


def test_a_table_of_one_students_hidden_answers_earns_nothing_for_another(tmp_path, solution_notebook):
    """What a leak of alice's hidden inputs buys: her own hidden points, none of bob's."""
    namespace = namespace_of(A01)
    checks = [fn for fn in A01.checks() if fn.question == "fit_least_squares"]
    key = GradingContext(SEED).hidden(A01.id, "alice")
    table = {}
    with selfcheck_package():
        for fn in checks:  # public and hidden: every input alice's grading passes to fit_least_squares
            recorder = Recorder(namespace, key)
            run_check(fn, recorder)
            for name, args in recorder.calls:
                if name == "fit_least_squares":
                    x, y = (json.loads(args)[0][i] for i in (0, 1))
                    student = LocalStudent(namespace)
                    value = student.call("fit_least_squares", x, y)
                    table[_key(args)] = [item["v"] for item in value["items"]]
    hidden_points = sum(fn.points for fn in checks if fn.hidden)
    public_points = sum(fn.points for fn in checks if not fn.hidden)
    notebook = solution_notebook(A01.id, {"fit_least_squares": _table_answer(table)})
    graded = grade_notebooks(A01.id, {"alice": notebook, "bob": notebook}, tmp_path, env={SEED_VARIABLE: SEED})
    alice, bob = (graded.results[s].questions["fit_least_squares"] for s in ("alice", "bob"))
    assert alice.points == public_points + hidden_points, "the table holds alice's answers: she passes"
    assert bob.points == public_points, "alice's table must be worth none of bob's hidden points"


def test_the_kit_holds_no_seed_and_hidden_checks_refuse_to_run_without_one(tmp_path, solution_notebook):
    sources = [p for folder in ("autograder", "solutions", "assignments") for p in (KIT_ROOT / folder).rglob("*")
               if p.is_file() and p.suffix in (".py", ".json", ".ipynb", ".toml", ".j2")]
    assert not [p for p in sources if b"hidden-inputs-v1" in p.read_bytes()], "a default seed is back in the kit"
    with pytest.raises(NoSeed, match="DLBASICS_SEED"):
        GradingContext("")
    from autograder.checks.cases import draw

    fn = next(fn for fn in A01.checks() if fn.hidden)
    with selfcheck_package():
        result = run_check(fn, LocalStudent(namespace_of(A01)))  # no hidden key: a refusal, never a default
    assert result.status != PASSED and "secret seed" in result.message
    assert draw.__code__.co_varnames[0] == "student"

    # `dlbasics check` without a course runs the public checks only, and says how to run the rest.
    path = tmp_path / "alice.ipynb"
    path.write_text(json.dumps(solution_notebook(A01.id)))
    env = {k: v for k, v in os.environ.items() if k != SEED_VARIABLE}
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "check", str(path)], capture_output=True,
                         text=True, env=env, cwd=KIT_ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    public = sum(fn.points for fn in A01.checks() if not fn.hidden)
    assert f"public checks: {public:g} / {public:g}" in run.stdout and "DLBASICS_SEED" in run.stdout
    # nbgrader's hidden blocks in a kernel without DLBASICS_COURSE or DLBASICS_SEED refuse, saying how.
    code = ("import os; os.environ.pop('DLBASICS_SEED', None); os.environ.pop('DLBASICS_COURSE', None)\n"
            "from autograder.checks.nbgrader_hidden import assert_question\n"
            "try:\n    assert_question('fit_least_squares', namespace={})\n"
            "except AssertionError as e:\n    print('REFUSED', e)\n")
    refused = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                             timeout=300)
    assert "REFUSED" in refused.stdout and "DLBASICS_COURSE" in refused.stdout, refused.stdout + refused.stderr
