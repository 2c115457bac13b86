"""Checks of 02-gradient-descent: the public ones, plus hidden ones on random inputs."""

from __future__ import annotations

from autograder.selfcheck.api import as_float, as_floats, as_items, expect_close, expect_sequence, points, require
from autograder.selfcheck.protocol import column_tensor as columns
from autograder.selfcheck.protocol import tensor
from autograder.selfcheck.public.gradient_descent import *  # noqa: F403  (the public checks)
from autograder.selfcheck.public.gradient_descent import (
    LINE,
    SINGLE_REL,
    STEP_LR,
    STEPS,
    STEPS_REL,
    X_EXAMPLE,
    Y_PRED,
    Y_TRUE,
)

from . import reference as ref
from .linear_regression import random_data


def public_expected() -> dict:
    """Expected values of the public checks (written to JSON by ``dlbasics build``)."""
    xs, y_true, y_pred = ref.f32s(X_EXAMPLE), ref.f32s(Y_TRUE), ref.f32s(Y_PRED)
    m, b, losses = ref.gradient_descent(xs, y_true, *LINE, STEP_LR, STEPS)
    return {
        "mse_example": ref.mse(y_true, y_pred),
        "mse_example_variants": ref.mse_variants(y_true, y_pred),
        "gradients_example": list(ref.gradients(xs, y_true, *LINE)),
        "gradients_example_variants": {k: list(v) for k, v in ref.gradient_variants(xs, y_true, *LINE).items()},
        "step_example": list(ref.gradient_descent_step(xs, y_true, *LINE, STEP_LR)),
        "step_example_variants": {k: list(v) for k, v in ref.step_variants(xs, y_true, *LINE, STEP_LR).items()},
        "descent_example": {
            "params": [m, b],
            "losses": losses,
            "variants": {"each loss is recorded after its step instead of before it":
                         ref.losses_after_steps(xs, y_true, *LINE, STEP_LR, STEPS)},
        },
    }


def _line(r):
    return round(r.uniform(-4, 4), 3), round(r.uniform(-5, 5), 3)


def _scale(xs, ys, m, b) -> float:
    """The size of the terms a gradient sums: an absolute floor for a gradient near zero."""
    return ref.mean(abs((m * x + b - y) * (1 + abs(x))) for x, y in zip(xs, ys))


@points(1, "mse_loss", hidden=True)
def test_mse_on_random_flat_tensors(student):
    y_true, y_pred, _ = random_data("mse flat")
    got = as_float(student.call("mse_loss", tensor(y_true), tensor(y_pred)), "mse_loss")
    expect_close(got, ref.mse(y_true, y_pred), rel=SINGLE_REL, what="mse_loss on random data",
                 show_expected=False, variants=ref.mse_variants(y_true, y_pred))


@points(1, "mse_loss", hidden=True)
def test_mse_of_a_column_against_a_flat_tensor(student):
    y_true, y_pred, _ = random_data("mse mixed shapes")
    got = as_float(student.call("mse_loss", columns(y_true), tensor(y_pred)), "mse_loss")
    variants = {"(N, 1) minus (N,) broadcasts to an (N, N) matrix: flatten both (e.g. .reshape(-1))":
                ref.broadcast_mse(y_true, y_pred), **ref.mse_variants(y_true, y_pred)}
    expect_close(got, ref.mse(y_true, y_pred), rel=SINGLE_REL, what="mse_loss of an (N, 1) against an (N,) tensor",
                 show_expected=False, variants=variants)


def _gradients(student, name: str, flat: bool):
    xs, ys, r = random_data(name)
    m, b = _line(r)
    make = tensor if flat else columns
    dm, db = as_items(student.call("mse_gradients", make(xs), make(ys), m, b), 2)
    got = [as_float(dm, "dL/dm"), as_float(db, "dL/db")]
    expect_sequence(got, list(ref.gradients(xs, ys, m, b)), rel=SINGLE_REL, abs_=1e-5 * _scale(xs, ys, m, b),
                    what="(dL/dm, dL/db) on random data", show_expected=False,
                    variants={k: list(v) for k, v in ref.gradient_variants(xs, ys, m, b).items()})


@points(1, "mse_gradients", hidden=True)
def test_gradients_on_random_columns(student):
    _gradients(student, "gradients columns", flat=False)


@points(1, "mse_gradients", hidden=True)
def test_gradients_on_random_flat_tensors(student):
    _gradients(student, "gradients flat", flat=True)


def _step(student, name: str, lr_range):
    xs, ys, r = random_data(name)
    m, b = _line(r)
    lr = round(r.uniform(*lr_range), 4)
    new_m, new_b = as_items(student.call("gradient_descent_step", columns(xs), columns(ys), m, b, lr), 2)
    got = [as_float(new_m, "the new m"), as_float(new_b, "the new b")]
    expect_sequence(got, list(ref.gradient_descent_step(xs, ys, m, b, lr)), rel=SINGLE_REL,
                    abs_=1e-5 * lr * _scale(xs, ys, m, b) + 1e-6, what="(m, b) after one step on random data",
                    show_expected=False, variants={k: list(v) for k, v in ref.step_variants(xs, ys, m, b, lr).items()})


@points(1, "gradient_descent_step", hidden=True)
def test_step_with_a_small_learning_rate(student):
    _step(student, "step small", (0.001, 0.01))


@points(1, "gradient_descent_step", hidden=True)
def test_step_with_a_large_learning_rate(student):
    _step(student, "step large", (0.05, 0.2))


def _descent_case(name: str):
    xs, ys, r = random_data(name)
    return xs, ys, *_line(r), round(r.uniform(0.01, 0.05), 4), r.randint(4, 12)


@points(1, "gradient_descent", hidden=True)
def test_descent_losses_on_random_data(student):
    xs, ys, m, b, lr, steps = _descent_case("descent losses")
    _, _, losses = as_items(student.call("gradient_descent", columns(xs), columns(ys), m, b, lr, steps), 3)
    expect_sequence(as_floats(losses, "losses"), ref.gradient_descent(xs, ys, m, b, lr, steps)[2], rel=STEPS_REL,
                    what=f"the {steps} losses on random data", show_expected=False,
                    variants={"each loss is recorded after its step instead of before it":
                              ref.losses_after_steps(xs, ys, m, b, lr, steps)})


@points(1, "gradient_descent", hidden=True)
def test_descent_parameters_on_random_data(student):
    xs, ys, m, b, lr, steps = _descent_case("descent params")
    new_m, new_b, _ = as_items(student.call("gradient_descent", columns(xs), columns(ys), m, b, lr, steps), 3)
    expected_m, expected_b, _ = ref.gradient_descent(xs, ys, m, b, lr, steps)
    expect_sequence([as_float(new_m, "m"), as_float(new_b, "b")], [expected_m, expected_b], rel=STEPS_REL,
                    abs_=1e-5, what=f"(m, b) after {steps} steps on random data", show_expected=False,
                    variants={"only one step was taken": list(ref.gradient_descent_step(xs, ys, m, b, lr))})


@points(1, "autograd_gradients", hidden=True)
def test_autograd_on_random_data(student):
    xs, ys, r = random_data("autograd")
    m, b = _line(r)
    dm, db = as_items(student.call("autograd_gradients", columns(xs), columns(ys), m, b), 2)
    expect_sequence([as_float(dm, "dL/dm"), as_float(db, "dL/db")], list(ref.gradients(xs, ys, m, b)),
                    rel=SINGLE_REL, abs_=1e-5 * _scale(xs, ys, m, b), what="(dL/dm, dL/db) on random data",
                    show_expected=False,
                    variants={k: list(v) for k, v in ref.gradient_variants(xs, ys, m, b).items()})
