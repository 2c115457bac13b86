"""Public checks of 03-making-training-converge, on the course's data.

Expected values come from ``making_training_converge.json``, computed by the kit's build from
the reference; the inputs are the course data below. The judging helpers (``judge_*``) are
shared with the hidden checks, which call them with expected values the reference computes
for random inputs (see the 01 module's docstring).
"""

from ..api import (
    NOT_IN_PLACE,
    CheckFailed,
    as_float,
    as_float32,
    as_floats,
    as_items,
    as_numbers,
    close,
    describe,
    expect_close,
    expect_sequence,
    losses_variants,
    points,
    require,
    tensor_values,
    trained_params,
    trained_variants,
)
from ..expected import expected_values
from ..protocol import column_tensor, generator, linear, tensor

HOURS = [10, 20, 30, 40, 50, 60, 70, 80]
SCORES = [480, 520, 710, 680, 830, 890, 920, 980]

# to_original_units: a line fitted on standardised hours, and a second one with a negative
# slope and a negative mean, where every sign slip shows.
UNITS_EXAMPLE = (168.85, 751.25, 45.0, 22.9129)
UNITS_SIGNS = (-2.5, 4.0, -1.5, 0.8)

# loss_surface: a 4 x 3 grid over the raw course data, and a 2 x 5 grid over the hours in
# tens (I != S in both, so a transposed grid has the wrong shape).
SURFACE_SLOPES = [5.0, 7.5, 10.0]
SURFACE_INTERCEPTS = [300.0, 400.0, 500.0, 600.0]
TENS = [h / 10 for h in HOURS]
SURFACE_SLOPES_TENS = [40.0, 55.0, 70.0, 85.0, 100.0]
SURFACE_INTERCEPTS_TENS = [350.0, 450.0]

# train_minibatch runs on the hours in tens and the scores in hundreds (x from 1 to 8), in
# batches of 3 (8 rows: batches of 3, 3 and 2, so a loss weighted by batch size differs from
# the mean of the batch losses), from a known start and a generator seeded here. The
# learning rate is one no story cell uses: a train_minibatch that ignores lr fails.
TRAIN_X = TENS
TRAIN_Y = [s / 100 for s in SCORES]
TRAIN_START = (0.5, 0.0)
TRAIN_LR, TRAIN_EPOCHS, TRAIN_BATCH, TRAIN_SEED = 0.004, 5, 3, 20260

EXPECTED = expected_values(__name__)

# Tolerances.
# standardize: a mean and a square root of a mean of N float32 values: relative error ~1e-6.
# z near 0 (an x at the mean) keeps only an absolute error, float32's rounding of x - mean
# (~1e-7 of |x|) divided by std. 1e-5 relative and absolute is tight for one computation and
# far from every named slip (each off by a factor, a shift or a swap).
STANDARDIZE_REL = 1e-5
STANDARDIZE_ABS = 1e-5
# to_original_units: a division and a multiply-add, in float64 or float32 (relative 6e-8
# per rounding); the new intercept b - w*mean/std may cancel, so its absolute error scales
# with the terms (the checks pass UNITS_REL of |b| + |w mean / std| as the floor).
UNITS_REL = 1e-5
# loss_surface: each value is a mean of N float32 squares (relative ~1e-6), but a student may
# expand (m x + b - y)^2 into m^2 mean(x^2) + ... , whose terms are up to a few hundred times
# the MSE near the minimum on raw hours: float32 cancellation then costs ~1e-4. 1e-3 accepts
# every honest formula; the named slips are off by a factor N, a square root or a swap.
SURFACE_REL = 1e-3
# largest_stable_learning_rate: one 2 x 2 eigenvalue in float32 (relative ~1e-6); 2e-5 still
# sees "only the slope's curvature", which differs by ~3e-4 on the raw course hours.
RATE_REL = 2e-5
# Training: float32 rounding compounds over the updates; a handful of epochs of mini-batch
# steps stays within 1e-4 of the double-precision reference: 1e-3 is a safe margin, far
# below every named slip (tests/test_mistake_visibility.py). Parameters may end near 0: an
# absolute floor of 1e-4, 100 times float32's rounding of parameters of size ~1.
TRAJECTORY_REL = 1e-3
PARAM_ABS = 1e-4

PER_BATCH = ("one loss per batch was recorded: return one per epoch, the mean of that epoch's batch losses")
NOT_MINIBATCH = ("the losses or the trained weights are not those of mini-batch SGD over "
                 "DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=generator) "
                 "with torch.optim.SGD(model.parameters(), lr=lr): check that the generator is passed to the "
                 "DataLoader (the order of the rows depends on it) and that each epoch's loss is the mean of its "
                 "batch losses, each computed before its update")
# When epoch 0's loss is right, the rows came in the DataLoader's order (the generator was
# passed) and that epoch's steps were right: the cause lies in what carries over between epochs.
NOT_MINIBATCH_LATER = ("the loss of epoch 0 is right, so the order of the rows (the generator) and the first "
                       "epoch's steps are right, but later values differ: create the DataLoader, the optimizer and "
                       "the model once, before the loop over epochs, and let each epoch continue from where the "
                       "last one ended (nothing re-created or reset per epoch)")


# --- judging ---------------------------------------------------------------------------------

def judge_standardize(value: dict, shape: list[int], expected: list[float], variants: dict, *, what: str,
                      show_expected: bool = True) -> None:
    """``standardize(x)`` returned (z, mean, std): z a tensor of x's shape, z + [mean, std] as expected."""
    z, mean, std = as_items(value, 3, "standardize's result (z, mean, std)")
    if z.get("t") != "tensor":
        raise CheckFailed(f"z should be a torch tensor, got {describe(z)}", "wrong type")
    require(z["shape"] == shape, f"z should have the shape of x, {tuple(shape)}; got {tuple(z['shape'])}",
            "z does not have the shape of x")
    got = tensor_values(z, "z") + [as_float(mean, "the mean"), as_float(std, "the std")]
    n = len(expected) - 2
    expect_sequence(got, expected, rel=STANDARDIZE_REL, abs_=STANDARDIZE_ABS, what=what, variants=variants,
                    show_expected=show_expected, names=[f"z[{i}]" for i in range(n)] + ["the mean", "the std"])


def judge_units(value: dict, expected: list[float], variants: dict, abs_: float, *, what: str,
                show_expected: bool = True) -> None:
    got = as_numbers(value, 2, "to_original_units's result (m, b)", ("the slope", "the intercept"))
    expect_sequence(got, expected, rel=UNITS_REL, abs_=abs_, what=what, variants=variants,
                    show_expected=show_expected, names=["the slope", "the intercept"])


def units_abs(w: float, b: float, mean: float, std: float) -> float:
    """The intercept's absolute floor: UNITS_REL of the two terms it subtracts."""
    return UNITS_REL * (abs(b) + abs(w * mean / std))


def judge_surface(value: dict, rows: int, columns: int, expected: list[float], variants: dict, *, what: str,
                  show_expected: bool = True) -> None:
    """``loss_surface`` returned a tensor of shape (len(intercepts), len(slopes)) holding the MSEs."""
    if value.get("t") not in ("tensor", "ndarray"):
        raise CheckFailed(f"loss_surface should return a torch tensor, got {describe(value)}", "wrong type")
    shape = value["shape"]
    require(shape != [columns, rows], f"the grid has shape {tuple(shape)}, i.e. (len(slopes), len(intercepts)); "
            f"it should be ({rows}, {columns}) = (len(intercepts), len(slopes)): row i is intercepts[i], column j "
            "is slopes[j], as plt.contour(slopes, intercepts, Z) expects",
            "the grid is transposed: (len(slopes), len(intercepts)) instead of (len(intercepts), len(slopes))")
    require(shape == [rows, columns], f"the grid should have shape ({rows}, {columns}) = (len(intercepts), "
            f"len(slopes)), got {describe(value)}", "wrong shape")
    values = tensor_values(value, "the grid")
    # A value near 0 keeps only float32's absolute rounding of the grid's largest terms.
    expect_sequence(values, expected, rel=SURFACE_REL, abs_=1e-5 * max(expected), what=what,
                    variants=variants, show_expected=show_expected,
                    names=[f"Z[{i}, {j}]" for i in range(rows) for j in range(columns)])


def judge_rate(value: dict, expected: float, variants: dict, *, what: str, show_expected: bool = True) -> None:
    expect_close(as_float(value, "largest_stable_learning_rate's result"), expected, rel=RATE_REL, what=what,
                 variants=variants, show_expected=show_expected)


def judge_minibatch(reply: dict, expected: dict, start: tuple[float, float], *, what: str, with_model: bool,
                    show_expected: bool = True) -> None:
    """``train_minibatch`` returned one loss per epoch along mini-batch SGD's trajectory.

    ``expected`` holds ``losses``, ``params`` (weight and bias after training), ``batches``
    (per epoch) and ``variants`` (name -> {"losses", "params"}). ``with_model`` also judges
    the model passed in, as it is after the call: trained in place, to the right values.
    """
    losses = as_floats(reply["value"], "train_minibatch's list of losses")
    epochs = len(expected["losses"])
    require(not (len(losses) == epochs * expected["batches"] and expected["batches"] > 1),
            f"{epochs} epochs should give {epochs} losses, got {len(losses)}: one per batch", PER_BATCH)
    require(len(losses) == epochs, f"{epochs} epochs should give {epochs} losses, got {len(losses)}",
            "wrong number of losses")
    params = trained_params(reply)
    moved = [as_float32(p) for p in start] != params
    first_right = close(losses[0], expected["losses"][0], TRAJECTORY_REL)
    otherwise = (NOT_MINIBATCH_LATER if first_right else NOT_MINIBATCH) if moved else NOT_IN_PLACE
    names = [f"the loss of epoch {i}" for i in range(epochs)]
    if not with_model:
        variants = losses_variants(expected)
        expect_sequence(losses, expected["losses"], rel=TRAJECTORY_REL, what=what, variants=variants,
                        show_expected=show_expected, otherwise=otherwise if moved else None, names=names)
        return
    variants = trained_variants(expected)
    expect_sequence(losses + params, expected["losses"] + expected["params"], rel=TRAJECTORY_REL, abs_=PARAM_ABS,
                    what=what, variants=variants, show_expected=show_expected, otherwise=otherwise,
                    names=names + ["the model's weight after training", "the model's bias after training"])


def call_minibatch(student, start, xs, ys, lr, epochs, batch_size, seed) -> dict:
    return student.call_full("train_minibatch", linear(*start), column_tensor(xs), column_tensor(ys), lr, epochs,
                             batch_size, generator(seed))


# --- the public checks -----------------------------------------------------------------------

@points(1, "standardize")
def test_standardize_the_course_hours(student):
    judge_standardize(student.call("standardize", tensor(HOURS)), [len(HOURS)], EXPECTED["standardize"],
                      EXPECTED["standardize_variants"], what="(z, mean, std) of the course hours, a flat (8,) tensor")


@points(1, "standardize")
def test_standardize_keeps_a_column_a_column(student):
    judge_standardize(student.call("standardize", column_tensor(HOURS)), [len(HOURS), 1], EXPECTED["standardize"],
                      EXPECTED["standardize_variants"], what="(z, mean, std) of the course hours as an (8, 1) column")


@points(1, "to_original_units")
def test_units_of_a_line_on_standardised_hours(student):
    expected = EXPECTED["units_example"]
    judge_units(student.call("to_original_units", *UNITS_EXAMPLE), expected["value"], expected["variants"],
                expected["abs"], what="(m, b) in hours of score = 168.85 * z + 751.25, mean 45, std 22.9129")


@points(1, "to_original_units")
def test_units_with_negative_slope_and_mean(student):
    expected = EXPECTED["units_signs"]
    judge_units(student.call("to_original_units", *UNITS_SIGNS), expected["value"], expected["variants"],
                expected["abs"], what="(m, b) of y = -2.5 * z + 4, mean -1.5, std 0.8")


@points(1, "loss_surface")
def test_surface_over_the_raw_course_data(student):
    expected = EXPECTED["surface_raw"]
    value = student.call("loss_surface", tensor(HOURS), tensor(SCORES), tensor(SURFACE_SLOPES),
                         tensor(SURFACE_INTERCEPTS))
    judge_surface(value, len(SURFACE_INTERCEPTS), len(SURFACE_SLOPES), expected["value"], expected["variants"],
                  what="the MSE grid of 3 slopes x 4 intercepts over the course data")


@points(1, "loss_surface")
def test_surface_over_the_hours_in_tens(student):
    expected = EXPECTED["surface_tens"]
    value = student.call("loss_surface", column_tensor(TENS), column_tensor(SCORES), tensor(SURFACE_SLOPES_TENS),
                         tensor(SURFACE_INTERCEPTS_TENS))
    judge_surface(value, len(SURFACE_INTERCEPTS_TENS), len(SURFACE_SLOPES_TENS), expected["value"],
                  expected["variants"], what="the MSE grid of 5 slopes x 2 intercepts over the hours in tens, "
                                             "x and y as (8, 1) columns")


@points(1, "largest_stable_learning_rate")
def test_stable_rate_of_the_raw_hours(student):
    expected = EXPECTED["rate_raw"]
    judge_rate(student.call("largest_stable_learning_rate", tensor(HOURS)), expected["value"], expected["variants"],
               what="the largest stable learning rate for the raw course hours, a flat (8,) tensor")


@points(1, "largest_stable_learning_rate")
def test_stable_rate_of_the_hours_in_tens(student):
    expected = EXPECTED["rate_tens"]
    judge_rate(student.call("largest_stable_learning_rate", column_tensor(TENS)), expected["value"],
               expected["variants"], what="the largest stable learning rate for the hours in tens, an (8, 1) column")


@points(1, "train_minibatch")
def test_minibatch_losses_on_course_data(student):
    reply = call_minibatch(student, TRAIN_START, TRAIN_X, TRAIN_Y, TRAIN_LR, TRAIN_EPOCHS, TRAIN_BATCH, TRAIN_SEED)
    judge_minibatch(reply, EXPECTED["train"], TRAIN_START, with_model=False,
                    what=f"losses of {TRAIN_EPOCHS} epochs at lr {TRAIN_LR:g}, batches of {TRAIN_BATCH}, from weight "
                         "0.5, bias 0 (hours in tens, scores in hundreds)")


@points(1, "train_minibatch")
def test_minibatch_trains_the_model_you_were_given(student):
    reply = call_minibatch(student, TRAIN_START, TRAIN_X, TRAIN_Y, TRAIN_LR, TRAIN_EPOCHS, TRAIN_BATCH, TRAIN_SEED)
    judge_minibatch(reply, EXPECTED["train"], TRAIN_START, with_model=True,
                    what=f"the losses and the model passed in, after {TRAIN_EPOCHS} epochs at lr {TRAIN_LR:g} in "
                         f"batches of {TRAIN_BATCH}")
