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

    def request(self, name, args, kwargs, render):
        self.calls.append((name, json.dumps([args, kwargs], sort_keys=True)))
        return super().request(name, args, kwargs, render)


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


def _drawing_everything_seen(public: list[float]) -> str:
    """A plot_regression that remembers every x it was given and says in its picture whether it saw
    one that is not a public input: the figure's background is red then, green otherwise (the issue's
    attack decoded 97 of 155 hidden values from such a picture's pixels; the colour is the same leak,
    made exact)."""
    return (f"PUBLIC = {sorted(set(public))!r}\nSEEN = []\n\n"
            "def plot_regression(x, y, m, b):\n"
            "    SEEN.extend(round(float(v), 3) for v in x.reshape(-1).tolist())\n"
            "    xs, ys = x.reshape(-1).tolist(), y.reshape(-1).tolist()\n"
            "    fig, ax = plt.subplots(figsize=(6, 4))\n"
            "    leaked = any(v not in PUBLIC for v in SEEN)\n"
            "    fig.patch.set_facecolor((1.0, 0.0, 0.0) if leaked else (0.0, 1.0, 0.0))\n"
            "    ax.set_title(repr(SEEN))\n"
            "    ax.scatter(xs, ys, label='data')\n"
            "    line = sorted(xs)\n"
            "    ax.plot(line, [m * v + b for v in line], label='model')\n"
            "    ax.set_xlabel('Study hours')\n    ax.set_ylabel('Exam score')\n    ax.legend()\n"
            "    return fig, ax\n")


def _hidden_numbers(assignment, student: str) -> set[str]:
    """Every number the hidden checks pass ``student``'s functions, as text in the forms it could take."""
    numbers = set()
    with selfcheck_package():
        for calls in hidden_calls(assignment, namespace_of(assignment), student).values():
            for _, args in calls:
                stack = [json.loads(args)]
                while stack:
                    item = stack.pop()
                    if isinstance(item, dict | list):
                        stack.extend(item.values() if isinstance(item, dict) else item)
                    elif isinstance(item, float) and abs(item) > 0.01 and round(item, 3) != round(item):
                        numbers |= {f"{item:.3f}", repr(round(item, 3))}
    return numbers


def test_nothing_handed_back_shows_a_hidden_input(tmp_path, solution_notebook):
    """The feedback plot is drawn before any hidden call; no file under feedback/ holds a hidden value."""
    import base64
    import re
    from io import BytesIO

    from PIL import Image

    namespace = namespace_of(A01)
    public = []
    with selfcheck_package():
        for fn in A01.checks():
            if fn.question == "plot_regression" and not fn.hidden:
                recorder = Recorder(namespace, None)
                run_check(fn, recorder)
                for _, args in recorder.calls:
                    x = json.loads(args)[0][0]["data"]
                    public += [round(float(v[0] if isinstance(v, list) else v), 3) for v in x]
    feedback_plot = A01.check_module().FEEDBACK_PLOTS["plot_regression"][1][0]["data"]
    public += [round(float(v[0]), 3) for v in feedback_plot]
    leaky = solution_notebook(A01.id, {"plot_regression": _drawing_everything_seen(public)})
    raising = solution_notebook(A01.id, {
        "predict": "def predict(x, m, b):\n    raise ValueError(f'inputs {x.tolist()} {m} {b}')\n",
        "fit_least_squares": "def fit_least_squares(x, y):\n    raise ValueError(repr(x.tolist()) + repr(y))\n"})
    # Wrong values that are the inputs themselves: a check's message about them would show the inputs.
    echoing = solution_notebook(A01.id, {
        "predict": "def predict(x, m, b):\n    return x * 1.0 + 0.0 * m\n",
        "to_column_tensors": "def to_column_tensors(x, y):\n    t = torch.tensor(y).reshape(-1, 1)\n    return t, t\n"})
    graded = grade_notebooks(A01.id, {"honest": solution_notebook(A01.id), "leaky": leaky, "raising": raising,
                                      "echoing": echoing}, tmp_path, "--release", env={SEED_VARIABLE: SEED})
    assert graded.process.returncode == 0
    hidden = [c for c in graded.checks("leaky", "plot_regression") if c.hidden]
    assert hidden and all(c.status == PASSED for c in hidden), "the leaky plot must really see the hidden inputs"
    from autograder.grading.intake import student_folder

    for student in ("leaky", "raising", "echoing"):
        folder = student_folder(graded.out, student)
        html = (folder / "feedback.html").read_text(encoding="utf-8")
        pictures = [base64.b64decode(p) for p in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)]
        if student == "leaky":
            corners = [Image.open(BytesIO(p)).convert("RGB").getpixel((1, 1)) for p in pictures]
            assert not [c for c in corners if c[0] > 200 and c[1] < 50], "the feedback plot saw a hidden input"
            assert [c for c in corners if c[1] > 200 and c[0] < 50], f"the student's plot is missing ({corners})"
        numbers = _hidden_numbers(A01, student)
        assert len(numbers) > 20
        for path in folder.rglob("*"):
            if path.is_file():
                text = path.read_bytes().decode("utf-8", "replace")
                # Measured durations are the machine's numbers, not the student's: a time of 0.899 s
                # must not read as a hidden input of 0.899.
                text = re.sub(r'"(execution_time|seconds|grading_seconds|sandbox_start_seconds)": [0-9.e-]+', "", text)
                # A whole number as written (not the digits inside a longer one, such as a time).
                found = sorted(n for n in numbers if re.search(rf"(?<![\d.]){re.escape(n)}(?!\d)", text))
                assert not found, f"{path.name} of {student} shows hidden inputs: {found[:5]}"
