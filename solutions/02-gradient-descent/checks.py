"""Checks of 02-gradient-descent: the public ones, plus hidden ones on random inputs.

As in 01, each hidden check judges with its public counterpart's helper, on inputs drawn so
that every mistake it can name is visible (:func:`autograder.checks.cases.draw`).
"""

from __future__ import annotations

from autograder.checks import slips
from autograder.checks.cases import Comparison, draw, random_points
from autograder.selfcheck.api import expect_sequence, points
from autograder.selfcheck.protocol import column_tensor as columns
from autograder.selfcheck.protocol import tensor

from . import reference as ref
from .public_checks import (
    LINE,
    PARAM_REL,
    SINGLE_REL,
    STEP_LINE,
    STEP_LR,
    STEP_X,
    STEP_Y,
    STEPS,
    STEPS_REL,
    X_EXAMPLE,
    Y_PRED,
    Y_TRUE,
    descent_result,
    judge_autograd,
    judge_gradients,
    judge_mse,
    judge_step,
)

# Learning rates the notebook uses (the stories' 0.005, 0.1, 1.05, and 1e-4 of earlier
# versions of the example): a step with one of them hard-coded is named as such.
STORY_LRS = (1e-4, 0.005, 0.1, 1.05)
AFTER_STEP = slips.LOSS_AFTER_UPDATE  # the catalogue's one wording (a step is the update)
ONE_STEP = "only one step was taken"


def _pairs(variants: dict) -> dict:
    return {name: list(value) for name, value in variants.items()}


def step_abs(xs, ys, m, b, lr) -> float:
    """Absolute tolerance of a step: the gradient's float32 error (SINGLE_REL of its terms) times lr."""
    return SINGLE_REL * lr * _scale(xs, ys, m, b) + 1e-7


def mixed_variants(y_true, y_pred) -> dict:
    return ref.mse_variants(y_true, y_pred)


def descent_expected(xs, ys, m, b, lr, steps) -> dict:
    end_m, end_b, losses = ref.gradient_descent(xs, ys, m, b, lr, steps)
    return {"params": [end_m, end_b], "losses": losses,
            "losses_variants": {AFTER_STEP: ref.losses_after_steps(xs, ys, m, b, lr, steps)},
            "params_variants": {ONE_STEP: list(ref.gradient_descent_step(xs, ys, m, b, lr))}}


def x_gradient(xs, ys, m, b) -> list[float]:
    """dL/dx_i of L = mean((m x + b - y)^2): what backward() leaves in x.grad."""
    return [2 * m * (m * x + b - y) / len(xs) for x, y in zip(xs, ys)]


def public_expected() -> dict:
    """Expected values of the public checks (written to JSON by ``dlbasics build``)."""
    xs, y_true, y_pred = ref.f32s(X_EXAMPLE), ref.f32s(Y_TRUE), ref.f32s(Y_PRED)
    step_x, step_y = ref.f32s(STEP_X), ref.f32s(STEP_Y)
    return {
        "mse_example": ref.mse(y_true, y_pred),
        "mse_example_variants": ref.mse_variants(y_true, y_pred),
        "mse_mixed_variants": mixed_variants(y_true, y_pred),
        "gradients_example": list(ref.gradients(xs, y_true, *LINE)),
        "gradients_example_variants": _pairs(ref.gradient_variants(xs, y_true, *LINE)),
        "step_example": list(ref.gradient_descent_step(step_x, step_y, *STEP_LINE, STEP_LR)),
        "step_example_variants": _pairs(ref.step_variants(step_x, step_y, *STEP_LINE, STEP_LR, STORY_LRS)),
        "step_abs": step_abs(step_x, step_y, *STEP_LINE, STEP_LR),
        "descent_example": descent_expected(step_x, step_y, *STEP_LINE, STEP_LR, STEPS),
        "autograd_example": {"gradients": list(ref.gradients(step_x, step_y, *STEP_LINE)),
                             "variants": _pairs(ref.gradient_variants(step_x, step_y, *STEP_LINE)),
                             "x_grad": x_gradient(step_x, step_y, *STEP_LINE)},
    }


def _line(r):
    return round(r.uniform(-4, 4), 3), round(r.uniform(-5, 5), 3)


def _scale(xs, ys, m, b) -> float:
    """The size of the terms a gradient sums: an absolute floor for a gradient near zero."""
    return ref.mean(abs((m * x + b - y) * (1 + abs(x))) for x, y in zip(xs, ys))


def _mse(student, name: str, mixed: bool):
    def make(r):
        y_true, y_pred = random_points(r)
        expected = ref.mse(y_true, y_pred)
        variants = mixed_variants(y_true, y_pred) if mixed else ref.mse_variants(y_true, y_pred)
        return (y_true, y_pred, expected, variants), [Comparison(expected, variants, SINGLE_REL)]

    return draw(student, name, make)


@points(1, "mse_loss", hidden=True)
def test_mse_on_random_flat_tensors(student):
    y_true, y_pred, expected, variants = _mse(student, "mse flat", mixed=False)
    judge_mse(student.call("mse_loss", tensor(y_true), tensor(y_pred)), expected, variants,
              what="mse_loss on random data", show_expected=False)


@points(1, "mse_loss", hidden=True)
def test_mse_of_a_column_against_a_flat_tensor_on_random_data(student):
    y_true, y_pred, expected, variants = _mse(student, "mse mixed shapes", mixed=True)
    judge_mse(student.call("mse_loss", columns(y_true), tensor(y_pred)), expected, variants,
              what="mse_loss of an (N, 1) against an (N,) tensor on random data", show_expected=False)


def _gradients_case(student, name: str, **data):
    def make(r):
        xs, ys = random_points(r, **data)
        m, b = _line(r)
        expected = list(ref.gradients(xs, ys, m, b))
        variants = _pairs(ref.gradient_variants(xs, ys, m, b))
        abs_ = 1e-5 * _scale(xs, ys, m, b)
        return (xs, ys, m, b, expected, variants, abs_), [Comparison(expected, variants, SINGLE_REL, abs_)]

    return draw(student, name, make)


def _gradients(student, name: str, flat: bool):
    xs, ys, m, b, expected, variants, abs_ = _gradients_case(student, name)
    make = tensor if flat else columns
    judge_gradients(student.call("mse_gradients", make(xs), make(ys), m, b), expected, variants, abs_=abs_,
                    what="(dL/dm, dL/db) on random data", show_expected=False)


@points(1, "mse_gradients", hidden=True)
def test_gradients_on_random_columns(student):
    _gradients(student, "gradients columns", flat=False)


@points(1, "mse_gradients", hidden=True)
def test_gradients_on_random_flat_tensors(student):
    _gradients(student, "gradients flat", flat=True)


def _step(student, name: str, lr_range):
    def make(r):
        # x away from 0 on average, as hours are: then b's gradient depends on m, and a
        # sequential update shows.
        xs, ys = random_points(r, x_range=(0.0, 4.0))
        m, b = _line(r)
        lr = round(r.uniform(*lr_range), 4)
        expected = list(ref.gradient_descent_step(xs, ys, m, b, lr))
        variants = _pairs(ref.step_variants(xs, ys, m, b, lr, STORY_LRS))
        abs_ = step_abs(xs, ys, m, b, lr)
        return (xs, ys, m, b, lr, expected, variants, abs_), [Comparison(expected, variants, PARAM_REL, abs_)]

    xs, ys, m, b, lr, expected, variants, abs_ = draw(student, name, make)
    judge_step(student.call("gradient_descent_step", columns(xs), columns(ys), m, b, lr), expected, variants,
               abs_=abs_, what="(m, b) after one step on random data", show_expected=False)


@points(1, "gradient_descent_step", hidden=True)
def test_step_with_a_small_learning_rate(student):
    _step(student, "step small", (0.01, 0.03))


@points(1, "gradient_descent_step", hidden=True)
def test_step_with_a_large_learning_rate(student):
    _step(student, "step large", (0.05, 0.2))


# Parameters after several steps: an absolute floor for an m or b that ends near 0, 100
# times float32's rounding of parameters of size ~1.
DESCENT_ABS = 1e-5


def _descent_case(student, name: str):
    def make(r):
        xs, ys = random_points(r)
        m, b = _line(r)
        lr, steps = round(r.uniform(0.01, 0.05), 4), r.randint(4, 12)
        expected = descent_expected(xs, ys, m, b, lr, steps)
        return (xs, ys, m, b, lr, steps, expected), [
            Comparison(expected["losses"], expected["losses_variants"], STEPS_REL),
            Comparison(expected["params"], expected["params_variants"], STEPS_REL, DESCENT_ABS)]

    return draw(student, name, make)


@points(1, "gradient_descent", hidden=True)
def test_descent_losses_on_random_data(student):
    xs, ys, m, b, lr, steps, expected = _descent_case(student, "descent losses")
    _, losses = descent_result(student.call("gradient_descent", columns(xs), columns(ys), m, b, lr, steps))
    expect_sequence(losses, expected["losses"], rel=STEPS_REL, what=f"the {steps} losses on random data",
                    show_expected=False, variants=expected["losses_variants"],
                    names=[f"the loss before step {i}" for i in range(len(expected["losses"]))])


@points(1, "gradient_descent", hidden=True)
def test_descent_parameters_on_random_data(student):
    xs, ys, m, b, lr, steps, expected = _descent_case(student, "descent params")
    params, _ = descent_result(student.call("gradient_descent", columns(xs), columns(ys), m, b, lr, steps))
    expect_sequence(params, expected["params"], rel=STEPS_REL, abs_=DESCENT_ABS,
                    what=f"(m, b) after {steps} steps on random data", show_expected=False,
                    variants=expected["params_variants"], names=["m", "b"])


@points(1, "autograd_gradients", hidden=True)
def test_autograd_on_random_data(student):
    xs, ys, m, b, expected, variants, abs_ = _gradients_case(student, "autograd")
    reply = student.call_full("autograd_gradients", columns(xs, requires_grad=True), columns(ys), m, b)
    judge_autograd(reply, expected, variants, x_gradient(xs, ys, m, b), abs_=abs_,
                   what="(dL/dm, dL/db) on random data, with an x that requires grad", show_expected=False)
