"""Public checks of 02-gradient-descent, on the course's loss example.

Expected values come from ``gradient_descent.json``, computed by the kit's build from the
reference; the inputs are the example below (hours, true scores, a guessed line's scores).
"""

from ..api import as_float, as_floats, as_items, expect_close, expect_sequence, points, require
from ..expected import expected_values
from ..protocol import column_tensor as column

X_EXAMPLE = [10.0, 20.0, 30.0, 40.0]
Y_TRUE = [480.0, 520.0, 710.0, 680.0]
Y_PRED = [440.0, 530.0, 620.0, 710.0]
LINE = (9.0, 350.0)  # the guessed line whose scores are Y_PRED
STEP_LR, STEPS = 1e-4, 3


EXPECTED = expected_values(__name__)

# Tolerances. One MSE or one gradient is a mean of N float32 products: relative error
# ~1e-6 in float32. 1e-5 is tight for a single computation, far from every named slip
# (each is off by a factor, a sign or a square).
SINGLE_REL = 1e-5
# Parameters after a few steps compound a few such errors: 1e-4 relative.
STEPS_REL = 1e-4


@points(1, "mse_loss")
def test_mse_on_the_example(student):
    got = as_float(student.call("mse_loss", column(Y_TRUE), column(Y_PRED)), "mse_loss on the example")
    expect_close(got, EXPECTED["mse_example"], rel=SINGLE_REL, what="mse_loss on the example",
                 variants=EXPECTED["mse_example_variants"])


@points(1, "mse_loss")
def test_mse_is_computed_by_hand(student):
    reply = student.call_full("mse_loss", column(Y_TRUE), column(Y_PRED), spy=["mse_loss"])
    require(reply["spied"].get("mse_loss", 0) == 0,
            "compute the mean squared error yourself: nn.MSELoss / F.mse_loss are not allowed here",
            "uses the built-in MSE")


def expect_example_gradients(student, function: str) -> None:
    """``function`` (analytic or autograd) gives the example's (dL/dm, dL/db)."""
    dm, db = as_items(student.call(function, column(X_EXAMPLE), column(Y_TRUE), *LINE), 2)
    got = [as_float(dm, "dL/dm"), as_float(db, "dL/db")]
    expect_sequence(got, EXPECTED["gradients_example"], rel=SINGLE_REL,
                    what="(dL/dm, dL/db) for m = 9, b = 350", variants=EXPECTED["gradients_example_variants"])


@points(2, "mse_gradients")
def test_gradients_on_the_example(student):
    expect_example_gradients(student, "mse_gradients")


@points(1, "gradient_descent_step")
def test_one_step_on_the_example(student):
    m, b = as_items(student.call("gradient_descent_step", column(X_EXAMPLE), column(Y_TRUE), *LINE, STEP_LR), 2)
    got = [as_float(m, "the new m"), as_float(b, "the new b")]
    expect_sequence(got, EXPECTED["step_example"], rel=SINGLE_REL,
                    what=f"(m, b) after one step at lr {STEP_LR:g}", variants=EXPECTED["step_example_variants"])


@points(2, "gradient_descent")
def test_descent_on_the_example(student):
    m, b, losses = as_items(
        student.call("gradient_descent", column(X_EXAMPLE), column(Y_TRUE), *LINE, STEP_LR, STEPS), 3)
    expect_sequence(as_floats(losses, "losses"), EXPECTED["descent_example"]["losses"], rel=STEPS_REL,
                    what=f"losses of {STEPS} steps", variants=EXPECTED["descent_example"]["variants"])
    expect_sequence([as_float(m, "m"), as_float(b, "b")], EXPECTED["descent_example"]["params"],
                    rel=STEPS_REL, what=f"(m, b) after {STEPS} steps")


@points(1, "autograd_gradients")
def test_autograd_on_the_example(student):
    expect_example_gradients(student, "autograd_gradients")


@points(1, "autograd_gradients")
def test_autograd_uses_backward(student):
    reply = student.call_full("autograd_gradients", column(X_EXAMPLE), column(Y_TRUE), *LINE,
                              spy=["backward", "autograd_grad"])
    used = reply["spied"].get("backward", 0) + reply["spied"].get("autograd_grad", 0)
    require(used > 0, "get the gradients from autograd: tensors with requires_grad=True and loss.backward()",
            "no autograd")
