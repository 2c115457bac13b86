"""Public checks of 01-linear-regression, on the course's own data.

Students run these with ``check("<question>")``; the grader runs them too, next to hidden
checks on random inputs. Expected values come from ``linear_regression.json`` (computed
by the kit's build from the reference); the inputs are the course data below.
"""

from ..api import (
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
from ..expected import expected_values
from ..protocol import column_tensor, linear

HOURS = [10, 20, 30, 40, 50, 60, 70, 80]
SCORES = [480, 520, 710, 680, 830, 890, 920, 980]
COLUMN_HOURS = column_tensor(HOURS)
COLUMN_SCORES = column_tensor(SCORES)

# Public inputs for the plot and the training checks.
PLOT_LINE = (7.5, 400.0)
TRAIN_START = (0.5, 0.0)  # initial weight and bias of the nn.Linear(1, 1) we pass in
TRAIN_LR, TRAIN_EPOCHS = 1e-4, 5

EXPECTED = expected_values(__name__)

# Tolerances. A float32 multiply-add rounds at most twice (relative 2**-23 each): 1e-6
# relative is tight for one elementwise step yet leaves room for that rounding.
ELEMENTWISE_REL = 1e-6
# The closed-form fit sums N products; in float32 the sums lose a few more digits, and
# (x - mean) cancels. 1e-4 relative is far tighter than any wrong formula's error.
FIT_REL = 1e-4
# Training: float32 rounding compounds over epochs. After a handful of epochs the student's
# float32 trajectory stays within 1e-4 of the double-precision reference; 1e-3 is a safe
# margin and still far below the gap to every named mistake (each changes a loss by >1%).
TRAJECTORY_REL = 1e-3


def read_column(value: dict, what: str, n: int) -> list[float]:
    """Values of an (n, 1) float32 tensor, or a failure saying what is wrong with it."""
    if value.get("t") != "tensor":
        raise CheckFailed(f"{what} should be a torch tensor, got {describe(value)}", "wrong type")
    require(value["dtype"] == "float32", f"{what} has dtype {value['dtype']}; use torch.float32",
            "wrong dtype")
    require(value["shape"] == [n, 1], f"{what} has shape {tuple(value['shape'])}; expected ({n}, 1)",
            "wrong shape: not a column")
    return as_floats(value, what)


@points(1, "to_column_tensors")
def test_columns_of_course_data(student):
    x, y = as_items(student.call("to_column_tensors", HOURS, SCORES), 2)
    expect_sequence(read_column(x, "x", len(HOURS)), HOURS, rel=ELEMENTWISE_REL, what="x (hours)",
                    variants={"x and y are swapped": SCORES})
    expect_sequence(read_column(y, "y", len(SCORES)), SCORES, rel=ELEMENTWISE_REL, what="y (scores)")


@points(1, "predict")
def test_predict_on_numbers(student):
    got = as_float(student.call("predict", 2.0, 3.0, 1.0), "predict(2.0, 3.0, 1.0)")
    expect_close(got, EXPECTED["predict_numbers"], rel=1e-12, what="predict(2.0, 3.0, 1.0)",
                 variants={"m and b are swapped (b * x + m)": EXPECTED["predict_numbers_swapped"]})


@points(1, "predict")
def test_predict_on_a_column_tensor(student):
    value = student.call("predict", COLUMN_HOURS, *PLOT_LINE)
    require(value.get("t") == "tensor" and value["shape"] == [len(HOURS), 1],
            f"predict on an (8, 1) tensor should return an (8, 1) tensor, got {describe(value)}",
            "not elementwise")
    expect_sequence(as_floats(value), EXPECTED["predict_tensor"], rel=ELEMENTWISE_REL,
                    what="predict(x, 7.5, 400.0)")


@points(2, "fit_least_squares")
def test_least_squares_on_course_data(student):
    m, b = as_items(student.call("fit_least_squares", COLUMN_HOURS, COLUMN_SCORES), 2)
    got = [as_float(m, "the slope"), as_float(b, "the intercept")]
    expect_sequence(got, EXPECTED["least_squares"], rel=FIT_REL, what="(slope, intercept)",
                    variants={"slope and intercept are swapped": EXPECTED["least_squares"][::-1]})


def axes_of(value: dict) -> dict:
    """The (only) axes of a returned ``(fig, ax)``."""
    fig, ax = as_items(value, 2, "plot_regression's result (fig, ax)")
    if ax.get("t") != "axes":
        raise CheckFailed(f"the second item should be a matplotlib Axes, got {describe(ax)}", "wrong type")
    return ax


def scatter_points(ax: dict) -> list[tuple[float, float]]:
    points_drawn = []
    for scatter in ax["scatters"]:
        points_drawn += list(zip(scatter["x"], scatter["y"]))
    for line in ax["lines"]:  # plt.plot(x, y, "o") draws points as a line without a line style
        if line.get("marker_only"):
            points_drawn += list(zip(line["x"], line["y"]))
    return points_drawn


@points(1, "plot_regression")
def test_plot_shows_the_data(student):
    ax = axes_of(student.call("plot_regression", COLUMN_HOURS, COLUMN_SCORES, *PLOT_LINE))
    drawn = sorted(scatter_points(ax))
    expected = sorted(zip(map(float, HOURS), map(float, SCORES)))
    require(drawn == expected,
            f"the scatter should show exactly the {len(HOURS)} data points; it shows {len(drawn)} points"
            + ("" if len(drawn) != len(expected) else " at other positions"), "data not scattered")


@points(1, "plot_regression")
def test_plot_labels_and_legend(student):
    ax = axes_of(student.call("plot_regression", COLUMN_HOURS, COLUMN_SCORES, *PLOT_LINE))
    require("hour" in ax["xlabel"].lower(), f"the x label should name the study hours; it is {ax['xlabel']!r}",
            "axis labels")
    require("score" in ax["ylabel"].lower(), f"the y label should name the exam score; it is {ax['ylabel']!r}",
            "axis labels")
    require(bool(ax["legend"]) and len(ax["legend"]) >= 2,
            "add a legend (ax.legend()) with a label for the data and one for the line", "no legend")


@points(1, "train_model")
def test_training_on_course_data(student):
    reply = student.call_full("train_model", linear(*TRAIN_START), COLUMN_HOURS, COLUMN_SCORES,
                              TRAIN_LR, TRAIN_EPOCHS)
    losses = as_floats(reply["value"], "the list of losses")
    expected = EXPECTED["train"]
    expect_sequence(losses, expected["losses"], rel=TRAJECTORY_REL,
                    what=f"losses of {TRAIN_EPOCHS} epochs at lr {TRAIN_LR:g} from weight 0.5, bias 0",
                    variants=expected["variants"])
