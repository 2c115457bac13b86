"""Public checks of 04-beyond-least-squares, on the course's data.

Expected values come from ``beyond_least_squares.json``, computed by the kit's build from
the reference; the inputs are below. The judging helpers (``judge_*``) are shared with the
hidden checks, which call them with expected values the reference computes for random inputs
(see the 01 module's docstring).
"""

from ..api import (
    NOT_IN_PLACE,
    as_float,
    as_float32,
    as_floats,
    as_numbers,
    describe,
    expect_close,
    expect_sequence,
    losses_variants,
    points,
    require,
    trained_params,
    trained_variants,
)
from ..expected import expected_values
from ..protocol import column_tensor, generator, linear, tensor

HOURS = [10, 20, 30, 40, 50, 60, 70, 80]
SCORES = [480, 520, 710, 680, 830, 890, 920, 980]
# One more student, who studied 75 hours and scored 300 (ill on the day of the exam): the outlier.
OUTLIER = (75, 300)
# The story and most checks use hours in tens and scores in hundreds (x from 1 to 8, y from 3
# to 9.8), where a plain learning rate of a few hundredths trains in a few dozen steps.
TENS = [h / 10 for h in HOURS] + [OUTLIER[0] / 10]
HUNDREDS = [s / 100 for s in SCORES] + [OUTLIER[1] / 100]

# huber_loss: predictions against targets with residuals inside and outside [-delta, delta]
# (delta != 1 everywhere: with delta = 1 the smooth L1 loss equals the Huber loss).
HUBER_PREDS = [1.0, 1.9, -0.5, 4.0, 0.2, -2.0]
HUBER_TARGETS = [1.3, 0.5, -0.2, -1.0, 0.1, 1.0]
HUBER_DELTA = 1.5
# ... and the course line 0.74 * tens of hours + 4.2 (scores in hundreds) against the scores with the outlier.
HUBER_LINE = (0.74, 4.2)
HUBER_DELTA_COURSE = 0.3

# numerical_gradient: the Huber loss of a line on the data with the outlier, and on a small
# made-up data set as (N, 1) columns.
GRAD_COURSE = (1.2, 0.8, 1.5, 0.01)  # w, b, delta, eps
GRAD_SMALL_X = [-1.5, -0.5, 0.0, 1.0, 2.0, 2.5]
GRAD_SMALL_Y = [2.0, 1.2, 0.1, -1.0, -2.4, -1.0]
GRAD_SMALL = (-1.2, 0.4, 2.0, 0.05)

# fit_line: gradient descent from (0, 0) on the data with the outlier, with the L1 and the
# Huber loss. The story's rates (STORY_FIT_LR in checks.py) differ: a fit that ignores lr fails.
FIT_L1 = ("l1", 0.023, 40, 1.0)  # loss, lr, steps, delta
FIT_HUBER = ("huber", 0.029, 50, 0.5)

# validation_curve: the eight course rows (no outlier), three of them for validation, from a
# known start and a generator seeded here.
VAL_X = [h / 10 for h in HOURS]
VAL_Y = [s / 100 for s in SCORES]
VAL_START = (0.5, 0.0)
VAL_N, VAL_LR, VAL_EPOCHS, VAL_SEED = 3, 0.02, 6, 20264

# least_squares_2d: the hours and each student's hours of sleep before the exam, against
# the scores; then a made-up plane as (N, 1) targets.
SLEEP = [7.5, 6.0, 8.0, 5.5, 7.0, 6.5, 8.5, 7.0]
PLANE_X = [[0.5, 2.0], [1.0, -1.0], [2.0, 0.5], [-1.0, 1.5], [3.0, 3.0], [0.0, -2.0], [1.5, 1.0]]
PLANE_Y = [3.1, 6.2, 6.9, -1.8, 5.2, 8.1, 4.4]

EXPECTED = expected_values(__name__)

# Tolerances.
# huber_loss: a mean of N float32 terms, each a product or a square (relative error ~1e-6);
# 1e-5 is tight for one computation and far from every named slip (each off by a factor, a
# shift or a different formula on some residuals).
HUBER_REL = 1e-5
# numerical_gradient: the difference of two float32 losses (each with a relative rounding of
# ~1e-6 over a few terms) divided by 2 * eps. The absolute floor is GRAD_ROUNDING * (L + 1) / eps
# (L the loss at the point): 100 times float32's rounding of L, over the step; the relative
# part, 1e-3, is far below a forward difference's error (eps/2 times the curvature).
GRAD_REL = 1e-3
GRAD_ROUNDING = 1e-5
# fit_line: a few dozen float32 gradient steps stay within ~1e-5 of the double-precision
# reference (residuals never come within MARGIN of a kink of the loss, see checks.py): 1e-3
# relative, with an absolute floor of 1e-4 for a parameter near 0.
FIT_REL = 1e-3
FIT_ABS = 1e-4
# validation_curve: a handful of float32 full-batch steps; same reasoning as fit_line.
VAL_REL = 1e-3
VAL_ABS = 1e-5
# least_squares_2d: a float32 lstsq on a design matrix of condition number up to ~1e3 is
# accurate to ~1e-4 relative; float64 (as the docstring asks) to ~1e-12. 5e-4 relative with
# an absolute floor of 5e-4 of the largest parameter accepts both; the named slips differ by
# a whole term.
PLANE_REL = 5e-4

NOT_SPLIT = ("the validation losses are not those of training on perm[n_val:] and measuring on perm[:n_val], "
             "with perm = torch.randperm(len(x), generator=generator) drawn once: check the split, that each "
             "epoch takes one step on the training rows before the validation loss is measured, and that the "
             "loss is the mean squared error")


# --- judging ---------------------------------------------------------------------------------

NOT_DIFFERENTIABLE = ("the loss is not differentiable: pred requires grad, but the result is not a tensor attached "
                      "to autograd (.item(), float() or a new torch.tensor(...) cut it off); return the tensor itself, "
                      "so that backward() can run through it")


def judge_huber(value: dict, expected: float, variants: dict, *, what: str, show_expected: bool = True,
                differentiable: bool = False) -> None:
    """``huber_loss`` returned the expected mean penalty; with ``differentiable``, pred required grad and
    the result must be a one-value tensor that still does (the stories and fit_line call backward() on it)."""
    if differentiable:
        require(value.get("t") == "tensor" and bool(value.get("requires_grad")),
                f"{what}: got {describe(value)}; {NOT_DIFFERENTIABLE}", NOT_DIFFERENTIABLE)
        value = {**value, "requires_grad": False}  # the graph is wanted here: read the value
    expect_close(as_float(value, "huber_loss's result"), expected, rel=HUBER_REL, what=what, variants=variants,
                 show_expected=show_expected)


def grad_abs(loss: float, eps: float) -> float:
    """numerical_gradient's absolute floor: float32 rounding of the loss, over the step."""
    return GRAD_ROUNDING * (abs(loss) + 1) / eps


def judge_gradient(value: dict, expected: dict, *, what: str, show_expected: bool = True) -> None:
    got = as_numbers(value, 2, "numerical_gradient's result (dL/dw, dL/db)", ("dL/dw", "dL/db"))
    expect_sequence(got, expected["value"], rel=GRAD_REL, abs_=expected["abs"], what=what,
                    variants=expected["variants"], show_expected=show_expected, names=["dL/dw", "dL/db"])


def judge_fit(value: dict, expected: dict, *, what: str, show_expected: bool = True) -> None:
    got = as_numbers(value, 2, "fit_line's result (w, b)", ("the slope w", "the intercept b"))
    expect_sequence(got, expected["value"], rel=FIT_REL, abs_=FIT_ABS, what=what, variants=expected["variants"],
                    show_expected=show_expected, names=["the slope w", "the intercept b"])


def judge_validation(reply: dict, expected: dict, start: tuple[float, float], *, what: str, with_model: bool,
                     show_expected: bool = True) -> None:
    """``validation_curve`` returned one validation loss per epoch; with ``with_model``, the model is judged too.

    ``expected`` holds ``losses``, ``params`` (weight and bias after training) and ``variants``
    (name -> {"losses", "params"}).
    """
    losses = as_floats(reply["value"], "validation_curve's list of losses")
    epochs = len(expected["losses"])
    require(len(losses) == epochs, f"{epochs} epochs should give {epochs} validation losses, got {len(losses)}",
            "wrong number of losses")
    names = [f"the validation loss after epoch {i + 1}" for i in range(epochs)]
    if not with_model:
        variants = losses_variants(expected)
        expect_sequence(losses, expected["losses"], rel=VAL_REL, abs_=VAL_ABS, what=what, variants=variants,
                        show_expected=show_expected, otherwise=NOT_SPLIT, names=names)
        return
    params = trained_params(reply)
    moved = [as_float32(p) for p in start] != params
    variants = trained_variants(expected)
    expect_sequence(losses + params, expected["losses"] + expected["params"], rel=VAL_REL, abs_=VAL_ABS,
                    what=what, variants=variants, show_expected=show_expected,
                    otherwise=NOT_SPLIT if moved else NOT_IN_PLACE,
                    names=names + ["the model's weight after training", "the model's bias after training"])


def call_validation(student, start, xs, ys, n_val, lr, epochs, seed) -> dict:
    return student.call_full("validation_curve", linear(*start), column_tensor(xs), column_tensor(ys), n_val, lr,
                             epochs, generator(seed))


def judge_plane(value: dict, expected: dict, *, what: str, show_expected: bool = True) -> None:
    got = as_numbers(value, 3, "least_squares_2d's result (w1, w2, b)", ("w1", "w2", "b"))
    floor = PLANE_REL * max(abs(v) for v in expected["value"])
    expect_sequence(got, expected["value"], rel=PLANE_REL, abs_=floor, what=what, variants=expected["variants"],
                    show_expected=show_expected, names=["w1", "w2", "b"])


def line(w: float, b: float, xs) -> list[float]:
    return [w * x + b for x in xs]


# --- the public checks -----------------------------------------------------------------------

@points(1, "huber_loss")
def test_huber_loss_of_six_residuals(student):
    expected = EXPECTED["huber_small"]
    judge_huber(student.call("huber_loss", tensor(HUBER_PREDS), tensor(HUBER_TARGETS), HUBER_DELTA),
                expected["value"], expected["variants"],
                what=f"the Huber loss of six predictions against their targets, delta = {HUBER_DELTA:g}")


@points(1, "huber_loss")
def test_huber_loss_of_the_course_line_on_columns(student):
    expected = EXPECTED["huber_course"]
    preds = line(*HUBER_LINE, TENS)
    value = student.call("huber_loss", column_tensor(preds, requires_grad=True), column_tensor(HUNDREDS),
                         HUBER_DELTA_COURSE)
    judge_huber(value, expected["value"], expected["variants"], differentiable=True,
                what=f"the Huber loss of the line {HUBER_LINE[0]:g} x + {HUBER_LINE[1]:g} on the course data with the "
                     f"outlier (hours in tens, scores in hundreds, (9, 1) columns, the predictions requiring grad), "
                     f"delta = {HUBER_DELTA_COURSE:g}")


@points(1, "numerical_gradient")
def test_numerical_gradient_on_the_course_data(student):
    w, b, delta, eps = GRAD_COURSE
    judge_gradient(student.call("numerical_gradient", tensor(TENS), tensor(HUNDREDS), w, b, delta, eps),
                   EXPECTED["grad_course"],
                   what=f"the central-difference gradient at w = {w:g}, b = {b:g} of the Huber loss (delta = "
                        f"{delta:g}) on the course data with the outlier, eps = {eps:g}")


@points(1, "numerical_gradient")
def test_numerical_gradient_on_columns(student):
    w, b, delta, eps = GRAD_SMALL
    judge_gradient(student.call("numerical_gradient", column_tensor(GRAD_SMALL_X), column_tensor(GRAD_SMALL_Y), w, b,
                                delta, eps), EXPECTED["grad_small"],
                   what=f"the central-difference gradient at w = {w:g}, b = {b:g} (delta = {delta:g}, eps = {eps:g}) "
                        "on six points as (6, 1) columns")


@points(1, "fit_line")
def test_fit_line_with_the_l1_loss(student):
    loss, lr, steps, delta = FIT_L1
    judge_fit(student.call("fit_line", column_tensor(TENS), column_tensor(HUNDREDS), loss, lr, steps, delta),
              EXPECTED["fit_l1"], what=f"the line after {steps} steps of gradient descent at lr {lr:g} on the L1 loss "
                                       "(course data with the outlier)")


@points(1, "fit_line")
def test_fit_line_with_the_huber_loss(student):
    loss, lr, steps, delta = FIT_HUBER
    judge_fit(student.call("fit_line", column_tensor(TENS), column_tensor(HUNDREDS), loss, lr, steps, delta),
              EXPECTED["fit_huber"], what=f"the line after {steps} steps at lr {lr:g} on the Huber loss with delta = "
                                          f"{delta:g} (course data with the outlier)")


@points(1, "validation_curve")
def test_validation_losses_on_course_data(student):
    reply = call_validation(student, VAL_START, VAL_X, VAL_Y, VAL_N, VAL_LR, VAL_EPOCHS, VAL_SEED)
    judge_validation(reply, EXPECTED["validation"], VAL_START, with_model=False,
                     what=f"the validation losses of {VAL_EPOCHS} epochs at lr {VAL_LR:g}, {VAL_N} of the 8 rows held "
                          "out, from weight 0.5, bias 0 (hours in tens, scores in hundreds)")


@points(1, "validation_curve")
def test_validation_trains_the_model_you_were_given(student):
    reply = call_validation(student, VAL_START, VAL_X, VAL_Y, VAL_N, VAL_LR, VAL_EPOCHS, VAL_SEED)
    judge_validation(reply, EXPECTED["validation"], VAL_START, with_model=True,
                     what=f"the validation losses and the model passed in, after {VAL_EPOCHS} epochs at lr {VAL_LR:g}")


@points(1, "least_squares_2d")
def test_plane_of_hours_and_sleep(student):
    rows = [[h, s] for h, s in zip(HOURS, SLEEP)]
    judge_plane(student.call("least_squares_2d", tensor(rows), tensor(SCORES)), EXPECTED["plane_course"],
                what="(w1, w2, b) of score = w1 * hours + w2 * sleep + b on the course data, X of shape (8, 2)")


@points(1, "least_squares_2d")
def test_plane_with_column_targets(student):
    judge_plane(student.call("least_squares_2d", tensor(PLANE_X), column_tensor(PLANE_Y)), EXPECTED["plane_small"],
                what="(w1, w2, b) of a plane through seven points, X of shape (7, 2), y of shape (7, 1)")
