"""Public checks of 02-gradient-descent, on the course's loss example.

Expected values come from ``gradient_descent.json``, computed by the kit's build from the
reference; the inputs are the example below (hours, true scores, a guessed line's scores).
The judging helpers are shared with the hidden checks (see the 01 module's docstring).
"""

from ..api import as_float, as_floats, as_items, as_numbers, expect_close, expect_sequence, points, require
from ..expected import expected_values
from ..protocol import column_tensor as column
from ..protocol import tensor

X_EXAMPLE = [10.0, 20.0, 30.0, 40.0]
Y_TRUE = [480.0, 520.0, 710.0, 680.0]
Y_PRED = [440.0, 530.0, 620.0, 710.0]
LINE = (9.0, 350.0)  # the guessed line whose scores are Y_PRED

# Steps are checked on the same example in tens of hours and hundreds of points, where the
# guessed line is m = 0.9, b = 3.5: there one step at lr 0.05 moves b by about 1 % of its
# value, so a sequential update or a missing factor 2 shows (on raw scores, b = 350 hides a
# step of 0.005). The learning rate differs from every rate the notebook's stories use.
STEP_X = [x / 10 for x in X_EXAMPLE]
STEP_Y = [y / 100 for y in Y_TRUE]
STEP_LINE = (0.9, 3.5)
STEP_LR, STEPS = 0.05, 3

EXPECTED = expected_values(__name__)

# Tolerances. One MSE or one gradient is a mean of N float32 products: relative error
# ~1e-6 in float32. 1e-5 is tight for a single computation, far from every named slip
# (each is off by a factor, a sign or a square).
SINGLE_REL = 1e-5
# A parameter after one step, m - lr * dm: rounded once to float32 if it is returned as a
# tensor (relative 6e-8); 1e-6 leaves a margin of 16. The gradient's own float32 error
# (SINGLE_REL of the terms it sums) is added as an absolute term, scaled by lr.
PARAM_REL = 1e-6
# Parameters after a few steps compound a few such errors: 1e-4 relative.
STEPS_REL = 1e-4

NO_BACKWARD = ("the gradients do not come from loss.backward(): x.grad is still empty after the call (build the "
               "loss from the x you were given with tensor operations and call loss.backward(); hand-derived "
               "formulas, torch.autograd.grad or a copy of x leave it empty)")
WRONG_BACKWARD = "backward() ran, but not on the mean squared error of m * x + b: x.grad is not dL/dx"


def judge_mse(value: dict, expected: float, variants: dict, *, what: str, show_expected: bool = True) -> None:
    expect_close(as_float(value, "mse_loss's result"), expected, rel=SINGLE_REL, what=what, variants=variants,
                 show_expected=show_expected)


def judge_gradients(value: dict, expected: list[float], variants: dict, *, what: str, abs_: float = 0.0,
                    show_expected: bool = True) -> None:
    got = as_numbers(value, 2, "the result (dL/dm, dL/db)", ("dL/dm", "dL/db"))
    expect_sequence(got, expected, rel=SINGLE_REL, abs_=abs_, what=what, variants=variants,
                    show_expected=show_expected, names=["dL/dm", "dL/db"])


def judge_step(value: dict, expected: list[float], variants: dict, *, what: str, abs_: float,
               show_expected: bool = True) -> None:
    got = as_numbers(value, 2, "the result (m, b)", ("the new m", "the new b"))
    expect_sequence(got, expected, rel=PARAM_REL, abs_=abs_, what=what, variants=variants,
                    show_expected=show_expected, names=["the new m", "the new b"])


def descent_result(value: dict) -> tuple[list[float], list[float]]:
    """(m, b) and the losses of a returned (m, b, losses)."""
    m, b, losses = as_items(value, 3, "gradient_descent's result (m, b, losses)")
    return [as_float(m, "m"), as_float(b, "b")], as_floats(losses, "losses")


def judge_autograd(reply: dict, expected: list[float], variants: dict, x_grad: list[float], *, what: str,
                   abs_: float = 0.0, show_expected: bool = True) -> None:
    """The gradients are right, and backward() ran through the x passed in (its .grad is dL/dx).

    The value alone awards nothing here that a hand-derived formula could earn: the x we pass
    requires grad, and only a loss built from it and differentiated with backward() leaves
    dL/dx_i = 2 m r_i / N in x.grad, which we read from the argument after the call.
    """
    judge_gradients(reply["value"], expected, variants, what=what, abs_=abs_, show_expected=show_expected)
    grad = (reply["args"][0] or {}).get("grad")
    require(isinstance(grad, list), NO_BACKWARD, "not from loss.backward()")
    flat = [v for row in grad for v in (row if isinstance(row, list) else [row])]
    # Each entry carries float32's rounding of the residuals (~1e-7 of the largest term):
    # 1e-5 of the largest entry, on top of SINGLE_REL of each, is a hundredfold margin.
    floor = 1e-5 * max(abs(e) for e in x_grad)
    require(len(flat) == len(x_grad) and all(isinstance(g, (int, float)) and abs(g - e) <= SINGLE_REL * abs(e) + floor
                                             for g, e in zip(flat, x_grad)), WRONG_BACKWARD, "not from loss.backward()")


@points(1, "mse_loss")
def test_mse_on_the_example(student):
    judge_mse(student.call("mse_loss", column(Y_TRUE), column(Y_PRED)), EXPECTED["mse_example"],
              EXPECTED["mse_example_variants"], what="mse_loss on the example (two (4, 1) columns)")


@points(1, "mse_loss")
def test_mse_of_a_column_against_a_flat_tensor(student):
    judge_mse(student.call("mse_loss", column(Y_TRUE), tensor(Y_PRED)), EXPECTED["mse_example"],
              EXPECTED["mse_mixed_variants"], what="mse_loss of a (4, 1) column against a flat (4,) tensor")


@points(1, "mse_gradients")
def test_gradients_on_the_example(student):
    judge_gradients(student.call("mse_gradients", column(X_EXAMPLE), column(Y_TRUE), *LINE),
                    EXPECTED["gradients_example"], EXPECTED["gradients_example_variants"],
                    what="(dL/dm, dL/db) for m = 9, b = 350 on (4, 1) columns")


@points(1, "mse_gradients")
def test_gradients_on_flat_tensors(student):
    judge_gradients(student.call("mse_gradients", tensor(X_EXAMPLE), tensor(Y_TRUE), *LINE),
                    EXPECTED["gradients_example"], EXPECTED["gradients_example_variants"],
                    what="(dL/dm, dL/db) for m = 9, b = 350 on flat (4,) tensors")


@points(1, "gradient_descent_step")
def test_one_step_on_the_example(student):
    value = student.call("gradient_descent_step", column(STEP_X), column(STEP_Y), *STEP_LINE, STEP_LR)
    judge_step(value, EXPECTED["step_example"], EXPECTED["step_example_variants"], abs_=EXPECTED["step_abs"],
               what=f"(m, b) after one step from m = 0.9, b = 3.5 at lr {STEP_LR:g} "
                    "(hours in tens, scores in hundreds)")


@points(1, "gradient_descent")
def test_descent_losses_on_the_example(student):
    _, losses = descent_result(student.call("gradient_descent", column(STEP_X), column(STEP_Y), *STEP_LINE,
                                            STEP_LR, STEPS))
    expected = EXPECTED["descent_example"]
    expect_sequence(losses, expected["losses"], rel=STEPS_REL, what=f"the losses of {STEPS} steps at lr {STEP_LR:g}",
                    variants=expected["losses_variants"],
                    names=[f"the loss before step {i}" for i in range(len(expected["losses"]))])


@points(1, "gradient_descent")
def test_descent_parameters_on_the_example(student):
    params, _ = descent_result(student.call("gradient_descent", column(STEP_X), column(STEP_Y), *STEP_LINE,
                                            STEP_LR, STEPS))
    expected = EXPECTED["descent_example"]
    expect_sequence(params, expected["params"], rel=STEPS_REL, what=f"(m, b) after {STEPS} steps at lr {STEP_LR:g}",
                    variants=expected["params_variants"], names=["m", "b"])


@points(1, "autograd_gradients")
def test_autograd_on_the_example(student):
    judge_gradients(student.call("autograd_gradients", column(X_EXAMPLE), column(Y_TRUE), *LINE),
                    EXPECTED["gradients_example"], EXPECTED["gradients_example_variants"],
                    what="(dL/dm, dL/db) for m = 9, b = 350")


@points(1, "autograd_gradients")
def test_autograd_goes_through_backward(student):
    reply = student.call_full("autograd_gradients", column(STEP_X, requires_grad=True), column(STEP_Y), *STEP_LINE)
    expected = EXPECTED["autograd_example"]
    judge_autograd(reply, expected["gradients"], expected["variants"], expected["x_grad"],
                   what="(dL/dm, dL/db) for m = 0.9, b = 3.5, with an x that requires grad")

