"""Checks of 01-linear-regression: the public ones, plus hidden ones on random inputs.

Hidden inputs come from :func:`autograder.checks.random_for`, seeded by the grader, so a
hard-coded answer for the course data fails them while every grading run is reproducible.
Their feedback names the mistake but never shows the hidden inputs or expected values.
"""

from __future__ import annotations

from autograder.selfcheck.api import (
    CheckFailed,
    as_float,
    as_floats,
    as_items,
    describe,
    expect_close,
    expect_sequence,
    points,
    require,
)
from autograder.selfcheck.protocol import column_tensor as columns
from autograder.selfcheck.protocol import linear, tensor
from autograder.selfcheck.public.linear_regression import *  # noqa: F403  (the public checks)
from autograder.selfcheck.public.linear_regression import (
    COLUMN_HOURS,
    COLUMN_SCORES,
    ELEMENTWISE_REL,
    FIT_REL,
    HOURS,
    PLOT_LINE,
    SCORES,
    TRAIN_EPOCHS,
    TRAIN_LR,
    TRAIN_START,
    TRAJECTORY_REL,
    axes_of,
    read_column,
)

from . import random_for
from . import reference as ref

TRAIN_VARIANTS = {
    "the gradients accumulate: optimizer.zero_grad() is missing": "no_zero_grad",
    "each loss is recorded after the update instead of before it": "loss_after_update",
    "the loss is the sum of squared errors, not their mean (use nn.MSELoss())": "sum_loss",
    "the parameters never change: optimizer.step() runs before loss.backward(), "
    "or zero_grad() runs between backward() and step()": "frozen",
}


def public_expected() -> dict:
    """Expected values of the public checks (written to JSON by ``dlbasics build``)."""
    xs, ys = ref.f32s(HOURS), ref.f32s(SCORES)
    losses = {name: ref.train_linear(*TRAIN_START, xs, ys, TRAIN_LR, TRAIN_EPOCHS, variant)[0]
              for name, variant in TRAIN_VARIANTS.items()}
    return {
        "predict_numbers": ref.predict(2.0, 3.0, 1.0),
        "predict_numbers_swapped": ref.predict(2.0, 1.0, 3.0),
        "predict_tensor": [ref.f32(ref.predict(x, *PLOT_LINE)) for x in xs],
        "least_squares": list(ref.least_squares(xs, ys)),
        "train": {
            "losses": ref.train_linear(*TRAIN_START, xs, ys, TRAIN_LR, TRAIN_EPOCHS)[0],
            "variants": losses,
        },
    }


def random_data(name: str, n: int | None = None, noise: float = 1.0):
    """Reproducible random (x, y) data around a random line, rounded to float32."""
    r = random_for(name)
    n = n or r.randint(5, 12)
    xs = [round(r.uniform(-3.0, 3.0), 3) for _ in range(n)]
    m, b = r.uniform(-4.0, 4.0), r.uniform(-5.0, 5.0)
    ys = [round(m * x + b + r.gauss(0.0, noise), 3) for x in xs]
    return ref.f32s(xs), ref.f32s(ys), r


@points(1, "to_column_tensors", hidden=True)
def test_columns_of_random_data(student):
    xs, ys, _ = random_data("columns")
    x, y = as_items(student.call("to_column_tensors", xs, ys), 2)
    expect_sequence(read_column(x, "x", len(xs)), xs, rel=ELEMENTWISE_REL, what="x on random data", show_expected=False,
                    variants={"x and y are swapped": ys})
    expect_sequence(read_column(y, "y", len(ys)), ys, rel=ELEMENTWISE_REL, what="y on random data", show_expected=False)


@points(1, "to_column_tensors", hidden=True)
def test_columns_of_a_single_pair(student):
    xs, ys, _ = random_data("single pair", n=1)
    x, y = as_items(student.call("to_column_tensors", xs, ys), 2)
    expect_sequence(read_column(x, "x", 1) + read_column(y, "y", 1), xs + ys, rel=ELEMENTWISE_REL,
                    what="one (hours, score) pair", show_expected=False)


@points(1, "predict", hidden=True)
def test_predict_on_random_flat_tensor(student):
    xs, _, r = random_data("predict")
    m, b = round(r.uniform(-5, 5), 3), round(r.uniform(-5, 5), 3)
    value = student.call("predict", tensor(xs), m, b)
    require(value.get("t") == "tensor" and value["shape"] == [len(xs)],
            f"predict on a 1-d tensor should return a tensor of the same shape, got {describe(value)}",
            "not elementwise")
    # Absolute floor: near x = -b/m the prediction is ~0 and only float32's absolute
    # rounding (~1e-6 of the terms' size) remains.
    expect_sequence(as_floats(value), [ref.predict(x, m, b) for x in xs], rel=ELEMENTWISE_REL, abs_=1e-5,
                    what="predict on random data", show_expected=False,
                    variants={"m and b are swapped (b * x + m)": [ref.predict(x, b, m) for x in xs]})


def _fit(student, name: str, flat: bool):
    xs, ys, _ = random_data(name)
    make = tensor if flat else columns
    m, b = as_items(student.call("fit_least_squares", make(xs), make(ys)), 2)
    got = [as_float(m, "the slope"), as_float(b, "the intercept")]
    expected = list(ref.least_squares(xs, ys))
    # Random slopes and intercepts may be near 0: an absolute floor of 1e-4 (the data's
    # scale is ~1) keeps float32 rounding from failing a correct fit.
    expect_sequence(got, expected, rel=FIT_REL, abs_=1e-4, what="(slope, intercept) on random data",
                    show_expected=False, variants={"slope and intercept are swapped": expected[::-1]})


@points(1, "fit_least_squares", hidden=True)
def test_least_squares_on_random_columns(student):
    _fit(student, "fit columns", flat=False)


@points(1, "fit_least_squares", hidden=True)
def test_least_squares_on_random_flat_tensors(student):
    _fit(student, "fit flat", flat=True)


@points(1, "plot_regression", hidden=True)
def test_plot_line_follows_the_model(student):
    xs, ys, r = random_data("plot")
    m, b = round(r.uniform(-4, 4), 3), round(r.uniform(-5, 5), 3)
    ax = axes_of(student.call("plot_regression", columns(xs), columns(ys), m, b))
    drawn = [line for line in ax["lines"] if not line.get("marker_only") and len(line["x"]) >= 2]
    require(bool(drawn), "draw the model's predictions as a line (ax.plot(x, m * x + b))", "no line")
    on_model = [line for line in drawn
                if all(abs(y - ref.predict(x, m, b)) <= 1e-4 * (1 + abs(y)) for x, y in zip(line["x"], line["y"]))]
    require(bool(on_model), "the line drawn does not follow y = m * x + b for the m and b given",
            "line does not use m and b")


def _train(student, *, weight, bias, xs, ys, lr, epochs):
    reply = student.call_full("train_model", linear(weight, bias), columns(xs), columns(ys), lr, epochs)
    return reply, as_floats(reply["value"], "the list of losses")


def _trained_params(reply: dict) -> list[float]:
    """The weight and bias of the model passed in, as it came back after the call."""
    params = (reply["args"][0] or {}).get("params", {})
    return [as_float(params.get("weight", {"t": "none"}), "the model's weight"),
            as_float(params.get("bias", {"t": "none"}), "the model's bias")]


def _training_case(name: str):
    xs, ys, r = random_data(name, noise=0.5)
    # Small random start, a step size that converges visibly on data of scale ~1.
    return dict(weight=round(r.uniform(-1, 1), 3), bias=round(r.uniform(-1, 1), 3), xs=xs, ys=ys,
                lr=round(r.uniform(0.02, 0.08), 4), epochs=r.randint(8, 15))


@points(1, "train_model", hidden=True)
def test_training_returns_one_loss_per_epoch(student):
    case = _training_case("train length")
    reply, losses = _train(student, **case)
    items = reply["value"].get("items", [])
    require(reply["value"].get("t") == "list", f"return a list of losses, got {describe(reply['value'])}",
            "wrong type")
    require(len(losses) == case["epochs"], f"{case['epochs']} epochs should give {case['epochs']} losses, "
            f"got {len(losses)}", "wrong number of losses")
    require(all(item.get("t") in ("float", "tensor") for item in items), "each loss should be a Python float "
            "(loss.item())", "wrong type")
    first = ref.mse(case["ys"], [ref.predict(x, case["weight"], case["bias"]) for x in case["xs"]])
    expect_close(losses[0], first, rel=TRAJECTORY_REL, what="the first loss (before any update)",
                 show_expected=False,
                 variants={"each loss is recorded after the update instead of before it":
                           ref.train_linear(case["weight"], case["bias"], case["xs"], case["ys"], case["lr"], 1,
                                            "loss_after_update")[0][0]})


@points(1, "train_model", hidden=True)
def test_training_trajectory_on_random_data(student):
    case = _training_case("train trajectory")
    _, losses = _train(student, **case)
    args = (case["weight"], case["bias"], case["xs"], case["ys"], case["lr"], case["epochs"])
    expect_sequence(losses, ref.train_linear(*args)[0], rel=TRAJECTORY_REL, what="the losses on random data",
                    show_expected=False,
                    variants={name: ref.train_linear(*args, variant)[0] for name, variant in TRAIN_VARIANTS.items()})


@points(1, "train_model", hidden=True)
def test_training_updates_the_model_in_place(student):
    case = _training_case("train in place")
    reply, _ = _train(student, **case)
    got = _trained_params(reply)
    _, weight, bias = ref.train_linear(case["weight"], case["bias"], case["xs"], case["ys"], case["lr"], case["epochs"])
    if got == [ref.f32(case["weight"]), ref.f32(case["bias"])]:
        raise CheckFailed("the model passed in still has its initial weights: train that model in place "
                          "(do not create a new one)", "model not trained in place")
    expect_sequence(got, [weight, bias], rel=TRAJECTORY_REL, abs_=1e-4, what="the model's weight and bias "
                    "after training", show_expected=False)


@points(1, "train_model", hidden=True)
def test_training_uses_the_learning_rate(student):
    case = dict(_training_case("train lr"), lr=0.0)
    reply, losses = _train(student, **case)
    got = _trained_params(reply)
    require(got == [ref.f32(case["weight"]), ref.f32(case["bias"])],
            "with lr=0 the parameters must not change, but they did: pass lr to torch.optim.SGD",
            "the lr argument is ignored")
    require(len(set(losses)) <= 1, "with lr=0 every epoch's loss should be the same", "the lr argument is ignored")


# Feedback shows the student's plot, drawn from these public inputs, next to the expected one.
FEEDBACK_PLOTS = {"plot_regression": ("plot_regression", (COLUMN_HOURS, COLUMN_SCORES, *PLOT_LINE))}


def expected_plots() -> dict[str, bytes]:
    """The expected figure of each plotted question, rendered in the grader (PNG bytes)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(HOURS, SCORES, label="data")
    xs = [min(HOURS), max(HOURS)]
    ax.plot(xs, [ref.predict(x, *PLOT_LINE) for x in xs], color="tab:red", label="model")
    ax.set_xlabel("study hours")
    ax.set_ylabel("exam score")
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    plt.close(fig)
    return {"plot_regression": buffer.getvalue()}
