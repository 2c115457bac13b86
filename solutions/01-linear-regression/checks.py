"""Checks of 01-linear-regression: the public ones, plus hidden ones on random inputs.

Hidden inputs come from the student's hidden-input key (the grader's secret seed, the
assignment and the student id: every student has inputs of their own), so a
hard-coded answer for the course data fails them while every grading run is reproducible.
Each hidden check judges the student's value with the same helper as its public counterpart
(``judge_*`` in ``public_checks.py``), with expected values from ``reference.py``; its inputs
are drawn so that every mistake it can name is visible (:func:`autograder.checks.cases.draw`).
The public checks are collected from ``public_checks.py`` (see ``Assignment.checks``). Its feedback
names the mistake but never shows the hidden inputs or expected values.
"""

from __future__ import annotations

from autograder.checks import slips
from autograder.checks.cases import Comparison, draw, random_points
from autograder.selfcheck.api import NOT_IN_PLACE, called_with, losses_variants, points, trained_variants
from autograder.selfcheck.protocol import column_tensor as columns
from autograder.selfcheck.protocol import tensor

from . import reference as ref
from .public_checks import (
    COLUMN_HOURS,
    COLUMN_SCORES,
    ELEMENTWISE_REL,
    FIT_REL,
    HOURS,
    PARAM_ABS,
    PLOT_LINE,
    SCORES,
    TRAIN_EPOCHS,
    TRAIN_LR,
    TRAIN_START,
    TRAIN_X,
    TRAIN_Y,
    TRAJECTORY_REL,
    axes_of,
    call_training,
    judge_columns,
    judge_fit,
    judge_plot,
    judge_prediction,
    judge_training,
)

# The learning rate of the notebook's training story: a train_model with it hard-coded
# gets a name of its own.
STORY_LRS = (1e-4,)

TRAIN_VARIANTS = {
    slips.NO_ZERO_GRAD: "no_zero_grad",
    slips.LOSS_AFTER_UPDATE: "loss_after_update",
    "the loss is the sum of squared errors, not their mean (use nn.MSELoss())": "sum_loss",
    slips.FROZEN: "frozen",
    slips.ADAM: "adam",
    slips.MOMENTUM: "momentum",
    slips.WEIGHT_DECAY: "weight_decay",
    "per-sample updates (one step per data point): take one full-batch step per epoch": "per_sample",
}


def training_expected(start, xs, ys, lr: float, epochs: int) -> dict:
    """Losses, final parameters and every named variant of one training run, for ``judge_training``."""
    def run(variant="correct", rate=lr):
        losses, weight, bias = ref.train_linear(*start, xs, ys, rate, epochs, variant)
        return {"losses": losses, "params": [weight, bias]}

    correct = run()
    variants = {name: run(variant) for name, variant in TRAIN_VARIANTS.items()}
    for other in STORY_LRS:
        if other != lr:
            variants[f"the lr argument is ignored: the training uses lr = {other:g}"] = run(rate=other)
    variants[NOT_IN_PLACE] = {"losses": correct["losses"], "params": [ref.f32(p) for p in start]}
    return {**correct, "variants": variants}


def training_comparisons(expected: dict) -> list[Comparison]:
    """The two comparisons ``judge_training`` makes (losses alone; losses and model)."""
    losses_only, combined = losses_variants(expected), trained_variants(expected)
    return [Comparison(expected["losses"], losses_only, TRAJECTORY_REL),
            Comparison(expected["losses"] + expected["params"], combined, TRAJECTORY_REL, PARAM_ABS)]


def predict_variants(xs, m: float, b: float) -> dict[str, list[float]]:
    """What predict's slips give for each x: m and b swapped, the bias missing (the shared catalogue's)."""
    return {"m and b are swapped (b * x + m)": [ref.predict(x, b, m) for x in xs],
            slips.NO_BIAS: [m * x for x in xs]}


def public_expected() -> dict:
    """Expected values of the public checks (written to JSON by ``dlbasics build``)."""
    xs, ys = ref.f32s(HOURS), ref.f32s(SCORES)
    return {
        "predict_numbers": ref.predict(2.0, 3.0, 1.0),
        "predict_numbers_variants": {name: value[0] for name, value in predict_variants([2.0], 3.0, 1.0).items()},
        "predict_tensor": [ref.f32(ref.predict(x, *PLOT_LINE)) for x in xs],
        "predict_tensor_variants": {name: [ref.f32(v) for v in value]
                                    for name, value in predict_variants(xs, *PLOT_LINE).items()},
        "least_squares": list(ref.least_squares(xs, ys)),
        "train": training_expected(TRAIN_START, ref.f32s(TRAIN_X), ref.f32s(TRAIN_Y), TRAIN_LR, TRAIN_EPOCHS),
        "float64": slips.FLOAT64,  # a name, not a value: the public checks cannot import the catalogue
    }


def _columns_case(n=None):
    def make(r):
        xs, ys = random_points(r, n)
        return (xs, ys), [Comparison(xs, {"x and y are swapped": ys}, ELEMENTWISE_REL)]
    return make


@points(1, "to_column_tensors", hidden=True)
def test_columns_of_random_data(student):
    xs, ys = draw(student, "columns", _columns_case())
    judge_columns(student.call("to_column_tensors", xs, ys), xs, ys, what="on random data", show_expected=False)


@points(1, "to_column_tensors", hidden=True)
def test_columns_of_a_single_pair(student):
    xs, ys = draw(student, "single pair", _columns_case(n=1))
    with called_with("called with one random (hours, score) pair, lists of one value each (a table of one row is "
                     "still a column)"):
        value = student.call("to_column_tensors", xs, ys)
    judge_columns(value, xs, ys, what="of one random (hours, score) pair", show_expected=False)


# Absolute floor: near x = -b/m the prediction is ~0 and only float32's absolute rounding
# (~1e-6 of the terms' size, which is below 20 here) remains.
PREDICT_ABS = 1e-5


@points(1, "predict", hidden=True)
def test_predict_on_random_flat_tensor(student):
    def make(r):
        xs, _ = random_points(r)
        m, b = round(r.uniform(-5, 5), 3), round(r.uniform(-5, 5), 3)
        expected = [ref.predict(x, m, b) for x in xs]
        variants = predict_variants(xs, m, b)
        return (xs, m, b, expected, variants), [Comparison(expected, variants, ELEMENTWISE_REL, PREDICT_ABS)]

    xs, m, b, expected, variants = draw(student, "predict", make)
    judge_prediction(student.call("predict", tensor(xs), m, b), [len(xs)], expected, what="predict on random data",
                     variants=variants, abs_=PREDICT_ABS, show_expected=False)


# Random slopes and intercepts may be near 0: an absolute floor of 1e-4 (the data's scale
# is ~1) keeps float32 rounding from failing a correct fit.
FIT_ABS = 1e-4


def _fit(student, name: str, flat: bool):
    def make(r):
        xs, ys = random_points(r)
        expected = list(ref.least_squares(xs, ys))
        return (xs, ys, expected), [Comparison(expected, {"swapped": expected[::-1]}, FIT_REL, FIT_ABS)]

    xs, ys, expected = draw(student, name, make)
    make_arg = tensor if flat else columns
    judge_fit(student.call("fit_least_squares", make_arg(xs), make_arg(ys)), expected, abs_=FIT_ABS,
              what="(slope, intercept) on random data", show_expected=False)


@points(1, "fit_least_squares", hidden=True)
def test_least_squares_on_random_columns(student):
    _fit(student, "fit columns", flat=False)


@points(1, "fit_least_squares", hidden=True)
def test_least_squares_on_random_flat_tensors(student):
    _fit(student, "fit flat", flat=True)


@points(1, "plot_regression", hidden=True)
def test_plot_on_random_data(student):
    def make(r):
        xs, ys = random_points(r)
        return (xs, ys, round(r.uniform(-4, 4), 3), round(r.uniform(-5, 5), 3)), []

    xs, ys, m, b = draw(student, "plot", make)
    judge_plot(axes_of(student.call("plot_regression", columns(xs), columns(ys), m, b)), xs, ys, m, b)


def _training(student, name: str, lr_range, epochs_range):
    def make(r):
        xs, ys = random_points(r, noise=0.5)
        # A small random start, and steps that converge visibly on data of scale ~1.
        start = (round(r.uniform(-1, 1), 3), round(r.uniform(-1, 1), 3))
        lr, epochs = round(r.uniform(*lr_range), 4), r.randint(*epochs_range)
        expected = training_expected(start, xs, ys, lr, epochs)
        return (start, xs, ys, lr, epochs, expected), training_comparisons(expected)

    return draw(student, name, make)


@points(1, "train_model", hidden=True)
def test_training_losses_on_random_data(student):
    start, xs, ys, lr, epochs, expected = _training(student, "train losses", (0.02, 0.08), (8, 15))
    judge_training(call_training(student, start, xs, ys, lr, epochs), expected, start, with_model=False,
                   what="the losses on random data", show_expected=False)


@points(1, "train_model", hidden=True)
def test_training_the_model_on_random_data(student):
    start, xs, ys, lr, epochs, expected = _training(student, "train model", (0.02, 0.08), (8, 15))
    judge_training(call_training(student, start, xs, ys, lr, epochs), expected, start, with_model=True,
                   what="the losses and the trained model on random data", show_expected=False)


@points(1, "train_model", hidden=True)
def test_training_with_a_larger_learning_rate(student):
    # Larger steps for fewer epochs: still stable on data of scale ~1 (lr < 2 / the loss's curvature, ~0.25).
    start, xs, ys, lr, epochs, expected = _training(student, "train large lr", (0.1, 0.2), (2, 5))
    judge_training(call_training(student, start, xs, ys, lr, epochs), expected, start, with_model=True,
                   what="the losses and the trained model with a larger learning rate", show_expected=False)


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
