"""The shared catalogue of slips (autograder/checks/slips.py): each slip is offered where it can
occur, and each check that offers a slip names it when a submission makes it.

* Every slip of the catalogue is offered by some check (no name defined and never used).
* Every check of 01-04 that offers a catalogued slip (public or hidden, as recorded while it
  runs on the reference) has an implementation of that slip in SLIP_CASES, and running that
  implementation in this process (as ``check(...)`` does in a kernel) makes that check fail
  and name exactly that slip: the catalogue's name reaches the student, and no other name does.
* Each SLIP_CASES entry is a case of the assignment's corpus (solutions/<id>/corpus.py), so
  tests/test_corpus.py grades it in the sandbox as well.
"""

from __future__ import annotations

import pytest
from corpus.mistakes import MISTAKES
from inkernel import namespace_of
from test_mistake_visibility import SEEDS, CallLog

from autograder.checks import ASSIGNMENTS, slips
from autograder.context import GradingContext
from autograder.selfcheck.api import FAILED, PASSED, recording, run_check

A01, A02, A03 = "01-linear-regression", "02-gradient-descent", "03-making-training-converge"
A04 = "04-beyond-least-squares"

# (assignment, question, slip) -> the corpus case (by name) that makes that slip.
SLIP_CASES = {
    (A01, "to_column_tensors", slips.FLOAT64): "float64 from NumPy",
    (A01, "predict", slips.NO_BIAS): "bias missing",
    (A01, "train_model", slips.ADAM): "Adam",
    (A01, "train_model", slips.MOMENTUM): "SGD with momentum",
    (A01, "train_model", slips.WEIGHT_DECAY): "SGD with weight decay",
    (A01, "train_model", slips.NO_ZERO_GRAD): "missing zero_grad",
    (A01, "train_model", slips.LOSS_AFTER_UPDATE): "loss recorded after the update",
    (A01, "train_model", slips.FROZEN): "step before backward",
    (A02, "mse_loss", slips.SUM): "sum instead of mean",
    (A02, "mse_loss", slips.HALF): "half the mean squared error",
    (A02, "mse_loss", slips.ABSOLUTE): "mean absolute error",
    (A02, "mse_loss", slips.ROOT): "rmse",
    (A02, "mse_loss", slips.SQUARE_OF_MEAN): "square of the mean",
    (A02, "mse_loss", slips.BROADCAST): "flat minus column broadcasts",
    (A02, "mse_gradients", slips.MISSING_TWO): "missing factor 2",
    (A02, "mse_gradients", slips.MISSING_ONE_OVER_N): "summed over the points",
    (A02, "gradient_descent_step", slips.MISSING_TWO): "both gradients without factor 2",
    (A02, "gradient_descent_step", slips.MISSING_ONE_OVER_N): "gradients summed over the points",
    (A02, "gradient_descent", slips.LOSS_AFTER_UPDATE): "loss recorded after the step",
    (A02, "autograd_gradients", slips.MISSING_TWO): "half the loss",
    (A02, "autograd_gradients", slips.MISSING_ONE_OVER_N): "summed loss",
    (A03, "loss_surface", slips.SUM): "sum of squares",
    (A03, "loss_surface", slips.HALF): "half the mean squared error",
    (A03, "loss_surface", slips.ABSOLUTE): "mean absolute error",
    (A03, "loss_surface", slips.ROOT): "root mean squared error",
    (A03, "loss_surface", slips.SQUARE_OF_MEAN): "square of the mean error",
    (A03, "largest_stable_learning_rate", slips.HESSIAN_WITHOUT_TWO_OVER_N): "Hessian without 2/N",
    (A03, "train_minibatch", slips.NO_ZERO_GRAD): "missing zero_grad",
    (A03, "train_minibatch", slips.LAST_BATCH_ONLY): "last batch's loss only",
    (A03, "train_minibatch", slips.DROP_LAST): "drop_last=True",
    (A03, "train_minibatch", slips.MOMENTUM): "SGD with momentum",
    (A03, "train_minibatch", slips.ADAM): "Adam",
    (A04, "fit_line", slips.NO_ZERO_GRAD): "missing zero_grad",
    (A04, "fit_line", slips.WEIGHT_DECAY): "SGD with weight decay",
    (A04, "fit_line", slips.MOMENTUM): "SGD with momentum",
    (A04, "fit_line", slips.ADAM): "Adam",
    (A04, "validation_curve", slips.MOMENTUM): "SGD with momentum",
    (A04, "validation_curve", slips.ADAM): "Adam",
    (A04, "validation_curve", slips.NO_ZERO_GRAD): "missing zero_grad",
}

CATALOGUE = {value for name, value in vars(slips).items() if name.isupper() and isinstance(value, str)}
COURSE = (A01, A02, A03, A04)


def _key(assignment_id: str):
    return GradingContext(SEEDS[0][0]).hidden(assignment_id, SEEDS[0][1])


def _offered() -> dict[tuple[str, str, str], list[str]]:
    """(assignment, question, slip) -> the checks that offer it, recorded on the reference."""
    offered: dict[tuple[str, str, str], list[str]] = {}
    for assignment_id in COURSE:
        assignment = ASSIGNMENTS[assignment_id]
        namespace = namespace_of(assignment)
        for fn in assignment.checks():
            with recording() as log:
                result = run_check(fn, CallLog(namespace, _key(assignment_id) if fn.hidden else None))
            assert result.status == PASSED, f"{fn.__name__} fails the reference: {result.message}"
            for entry in log:
                names = set(entry["variants"]) if entry["kind"] == "value" else {entry["mistake"]}
                for name in names & CATALOGUE:
                    offered.setdefault((assignment_id, fn.question, name), []).append(fn.__name__)
    return offered


@pytest.fixture(scope="module")
def offered():
    return _offered()


def test_every_slip_of_the_catalogue_is_offered_somewhere(offered):
    unused = CATALOGUE - {slip for _, _, slip in offered}
    assert not unused, f"slips defined in the catalogue that no check offers: {unused}"


def test_every_offered_slip_has_a_case(offered):
    missing = sorted(set(offered) - set(SLIP_CASES))
    assert not missing, f"checks offer these slips but no case makes them: {missing}"
    unoffered = sorted(set(SLIP_CASES) - set(offered))
    assert not unoffered, f"cases of slips no check offers (the check lost the slip?): {unoffered}"


def _source(assignment_id: str, question: str, case: str) -> str:
    found = [c[3] for c in MISTAKES if c[:3] == (assignment_id, question, case)]
    assert found, f"no corpus case {case!r} of {assignment_id} {question}"
    return found[0]


@pytest.mark.parametrize("assignment_id,question,slip", sorted(SLIP_CASES),
                         ids=lambda v: v[:40] if isinstance(v, str) else v)
def test_each_check_offering_a_slip_names_it(offered, assignment_id, question, slip):
    assignment = ASSIGNMENTS[assignment_id]
    namespace = namespace_of(assignment, {question: _source(assignment_id, question, SLIP_CASES[
        (assignment_id, question, slip)])})
    checks = {fn.__name__: fn for fn in assignment.checks()}
    offering = offered.get((assignment_id, question, slip), [])
    # A slip is offered on the course data (a green self-check) and on the hidden inputs alike.
    kinds = {checks[name].hidden for name in offering}
    assert kinds == {fn.hidden for fn in checks.values() if fn.question == question}, (
        f"{slip!r} is offered only by {offering}: every question's public and hidden checks should offer it")
    wrong = []
    for name in offering:
        fn = checks[name]
        result = run_check(fn, CallLog(namespace, _key(assignment_id) if fn.hidden else None))
        if result.status != FAILED or result.mistake != slip:
            wrong.append(f"{name}: {result.status} {result.message!r} (named: {result.mistake!r})")
    assert not wrong, f"checks that offer {slip!r} but do not name it:\n" + "\n".join(wrong)


def test_minibatch_message_does_not_blame_the_generator_when_epoch_0_is_right():
    """A learning rate halved after each epoch: epoch 0 is right, so the rows' order (the generator)
    is ruled out, and the message must not point at it; without the generator, it still does."""
    assignment = ASSIGNMENTS[A03]
    NOT_MINIBATCH_LATER = assignment.public_module().NOT_MINIBATCH_LATER  # noqa: N806 (the module's constant)
    checks = [fn for fn in assignment.checks() if fn.question == "train_minibatch"]
    decayed = namespace_of(assignment, {"train_minibatch": _source(A03, "train_minibatch",
                                                                   "learning rate halved each epoch")})
    unseeded = namespace_of(assignment, {"train_minibatch": _source(A03, "train_minibatch",
                                                                    "shuffled without the generator")})
    for fn in checks:
        key = _key(A03) if fn.hidden else None
        result = run_check(fn, CallLog(decayed, key))
        assert result.status == FAILED and result.mistake == NOT_MINIBATCH_LATER, (fn.__name__, result.message)
        assert "generator" not in result.message.replace("(the generator)", ""), (fn.__name__, result.message)
        result = run_check(fn, CallLog(unseeded, key))
        assert result.status == FAILED and "generator is passed" in result.message, (fn.__name__, result.message)


# --- messages that explain (issue 24, item 2) ------------------------------------------------------

def _run_question(assignment_id: str, question: str, source: str, *, hidden: bool | None = None):
    assignment = ASSIGNMENTS[assignment_id]
    namespace = namespace_of(assignment, {question: source})
    return [run_check(fn, CallLog(namespace, _key(assignment_id) if fn.hidden else None))
            for fn in assignment.checks() if fn.question == question and hidden in (None, fn.hidden)]


def test_none_gradients_in_the_returned_pair_are_explained_by_grad():
    """(m.grad, b.grad) without backward(): the None items are explained by what .grad being None means."""
    source = _answer(A02, "autograd_gradients").replace("    loss.backward()\n", "").replace(
        "return m_t.grad.item(), b_t.grad.item()", "return m_t.grad, b_t.grad")
    results = _run_question(A02, "autograd_gradients", source)
    assert results
    for result in results:
        assert result.status == FAILED, result.message
        assert "until loss.backward() reaches it" in result.message, result.message
        assert "forget `return`" not in result.message, result.message


def test_a_returned_none_still_asks_about_return():
    results = _run_question(A02, "mse_gradients", "def mse_gradients(x, y, m, b):\n    pass\n")
    assert results and all("forget `return`" in r.message for r in results), [r.message for r in results]


def test_a_broadcasting_warning_comes_first():
    """model(x).squeeze() against an (N, 1) y: the shape is the cause, said before any value."""
    source = _answer(A01, "train_model").replace("loss_fn(model(x), y)", "loss_fn(model(x).squeeze(), y)")
    results = [r for r in _run_question(A01, "train_model", source) if r.status == FAILED]
    assert results
    for result in results:
        assert result.message.startswith("Shapes first:"), result.message
        assert "broadcasting" in result.message, result.message


def test_an_error_on_the_one_pair_input_says_which_input():
    source = _answer(A01, "to_column_tensors").replace(".reshape(-1, 1)", ".view(8, 1)")
    results = _run_question(A01, "to_column_tensors", source)
    public = [r for r in results if not r.hidden]
    assert public and all(r.status == FAILED for r in results)
    assert any("called with one pair, hours = [35], scores = [700]" in r.message for r in public), \
        [r.message for r in public]
    hidden = [r for r in results if r.hidden and "one random" in r.message]
    assert hidden and all("called with one random (hours, score) pair" in r.message for r in hidden)


def _answer(assignment_id: str, question: str) -> str:
    from autograder.notebook.fill import solution_answers

    return "".join(line for line in solution_answers(ASSIGNMENTS[assignment_id])[question].splitlines(True)
                   if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


# --- lessons (issue 24, item 3): 03's printed numbers, checked by a second computation -------------

def _story_output(assignment_id: str, grade_id: str):
    """Run one story cell on the reference answers in this process; (its printed text, its figures)."""
    import contextlib
    import io

    import matplotlib.pyplot as plt
    from inkernel import story_cells

    assignment = ASSIGNMENTS[assignment_id]
    namespace = namespace_of(assignment)
    namespace["done"] = lambda *questions: True  # the reference passes every check
    shown = []
    namespace["plt"] = plt
    original = plt.show
    plt.show = lambda *args, **kwargs: shown.append(plt.gcf())
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(dict(story_cells(assignment))[grade_id], namespace)
    finally:
        plt.show = original
    return out.getvalue(), shown


def test_the_contour_story_shows_the_condition_number_gradient_descent_sees():
    import re

    import numpy as np

    text, figures = _story_output(A03, "story_surface")
    hours = np.array(ASSIGNMENTS[A03].public_module().HOURS, dtype=float)
    # Independently: the Hessian is 2/N XᵀX with X = [x, 1], so its condition number is cond(X)².
    expected = {"raw hours": np.linalg.cond(np.stack([hours, np.ones_like(hours)], 1)) ** 2,
                "standardised hours": 1.0}
    printed = dict(re.findall(r"^(raw hours|standardised hours):.*condition number ([\d.e+]+)", text, re.M))
    assert set(printed) == set(expected), text
    for name, value in expected.items():
        assert abs(float(printed[name]) - value) <= 1e-3 * value, (name, printed[name], value)
    axes = figures[-1].axes
    assert [ax.get_aspect() for ax in axes] == [1.0, 1.0], "the landscapes are not drawn on equal axes"
    for ax, name in zip(axes, expected):
        assert f"condition number {printed[name]}" in ax.get_title(), ax.get_title()


def test_the_retrain_story_blames_float32_not_the_last_update():
    import re

    text, _ = _story_output(A03, "story_retrain")
    last = float(re.search(r"loss of the last epoch \(before its update\) ([\d.]+)", text).group(1))
    after = float(re.search(r"MSE after training ([\d.]+)", text).group(1))
    f32, f64, change = re.search(r"MSE in float32 ([\d.]+), in float64 ([\d.]+); one more update changes it by "
                                 r"(-?[\d.e+-]+)", text).groups()
    assert float(f32) == last and float(f64) == after, text  # the gap is the precision ...
    assert abs(float(change)) < 0.1 * abs(last - after), text  # ... and not the update
