"""Checks of 03-making-training-converge: the public ones, plus hidden ones on random inputs.

As in 01 and 02, each hidden check judges with its public counterpart's helper, on inputs
drawn so that every mistake it can name is visible (:func:`autograder.checks.cases.draw`).
train_minibatch is handed a torch.Generator seeded by the grader (``protocol.generator``):
the reference reproduces the DataLoader's shuffled order from that seed, in this process.
"""

from __future__ import annotations

import math

from autograder.checks import slips
from autograder.checks.cases import Comparison, draw, random_points
from autograder.selfcheck.api import NOT_IN_PLACE, losses_variants, points, trained_variants
from autograder.selfcheck.protocol import column_tensor as columns
from autograder.selfcheck.protocol import tensor

from . import reference as ref
from .public_checks import (
    HOURS,
    PARAM_ABS,
    RATE_REL,
    SCORES,
    STANDARDIZE_ABS,
    STANDARDIZE_REL,
    SURFACE_INTERCEPTS,
    SURFACE_INTERCEPTS_TENS,
    SURFACE_REL,
    SURFACE_SLOPES,
    SURFACE_SLOPES_TENS,
    TENS,
    TRAIN_BATCH,
    TRAIN_EPOCHS,
    TRAIN_LR,
    TRAIN_SEED,
    TRAIN_START,
    TRAIN_X,
    TRAIN_Y,
    TRAJECTORY_REL,
    UNITS_EXAMPLE,
    UNITS_REL,
    UNITS_SIGNS,
    call_minibatch,
    judge_minibatch,
    judge_rate,
    judge_standardize,
    judge_surface,
    judge_units,
    units_abs,
)

# The learning rate of the notebook's training story: a train_minibatch with it hard-coded
# gets a name of its own.
STORY_LRS = (0.1,)

TRAIN_VARIANTS = {
    "the rows are not shuffled: pass shuffle=True and the generator to the DataLoader": "no_shuffle",
    "one full-batch step per epoch: iterate over DataLoader(TensorDataset(x, y), batch_size=batch_size, ...) and "
    "take one step per batch": "full_batch",
    slips.NO_ZERO_GRAD: "no_zero_grad",
    slips.LAST_BATCH_ONLY: "last_batch",
    "each epoch's loss weights the batches by their size: the contract asks for the plain mean of the epoch's "
    "batch losses": "weighted",
    slips.DROP_LAST: "drop_last",
    slips.MOMENTUM: "momentum",
    slips.ADAM: "adam",
}


# --- expected values -----------------------------------------------------------------------

def standardize_expected(xs) -> tuple[list[float], dict]:
    z, mean, std = ref.standardize(xs)
    return z + [mean, std], ref.standardize_variants(xs)


def units_expected(w, b, mean, std) -> dict:
    return {"value": list(ref.to_original_units(w, b, mean, std)),
            "variants": ref.original_units_variants(w, b, mean, std), "abs": units_abs(w, b, mean, std)}


def surface_expected(xs, ys, slopes, intercepts) -> dict:
    grid = [v for row in ref.loss_surface(xs, ys, slopes, intercepts) for v in row]
    return {"value": grid, "variants": ref.surface_variants(xs, ys, slopes, intercepts)}


def rate_expected(xs) -> dict:
    return {"value": ref.largest_stable_learning_rate(xs), "variants": ref.stable_rate_variants(xs)}


def minibatch_expected(start, xs, ys, lr: float, epochs: int, batch_size: int, seed: int) -> dict:
    """Losses, final parameters and every named variant of one run, for ``judge_minibatch``."""
    def run(variant="correct", rate=lr):
        losses, weight, bias = ref.train_minibatch(*start, xs, ys, rate, epochs, batch_size, seed, variant)
        return {"losses": losses, "params": [weight, bias]}

    correct = run()
    variants = {name: run(variant) for name, variant in TRAIN_VARIANTS.items()}
    for other in STORY_LRS:
        if other != lr:
            variants[f"the lr argument is ignored: the training uses lr = {other:g}"] = run(rate=other)
    variants[NOT_IN_PLACE] = {"losses": correct["losses"], "params": [ref.f32(p) for p in start]}
    return {**correct, "variants": variants, "batches": math.ceil(len(xs) / batch_size)}


def minibatch_comparisons(expected: dict) -> list[Comparison]:
    """The two comparisons ``judge_minibatch`` makes (losses alone; losses and model)."""
    losses_only, combined = losses_variants(expected), trained_variants(expected)
    return [Comparison(expected["losses"], losses_only, TRAJECTORY_REL),
            Comparison(expected["losses"] + expected["params"], combined, TRAJECTORY_REL, PARAM_ABS)]


def public_expected() -> dict:
    """Expected values of the public checks (written to JSON by ``dlbasics build``)."""
    hours, scores, tens = ref.f32s(HOURS), ref.f32s(SCORES), ref.f32s(TENS)
    value, variants = standardize_expected(hours)
    return {
        "standardize": value,
        "standardize_variants": variants,
        "units_example": units_expected(*UNITS_EXAMPLE),
        "units_signs": units_expected(*UNITS_SIGNS),
        "surface_raw": surface_expected(hours, scores, ref.f32s(SURFACE_SLOPES), ref.f32s(SURFACE_INTERCEPTS)),
        "surface_tens": surface_expected(tens, scores, ref.f32s(SURFACE_SLOPES_TENS),
                                         ref.f32s(SURFACE_INTERCEPTS_TENS)),
        "rate_raw": rate_expected(hours),
        "rate_tens": rate_expected(tens),
        "train": minibatch_expected(TRAIN_START, ref.f32s(TRAIN_X), ref.f32s(TRAIN_Y), TRAIN_LR, TRAIN_EPOCHS,
                                    TRAIN_BATCH, TRAIN_SEED),
    }


# --- hidden checks -------------------------------------------------------------------------

def _shifted_inputs(r, n=None) -> list[float]:
    """Random inputs around a random centre away from 0 (as hours are): centring then matters."""
    centre, spread = r.choice((-1, 1)) * r.uniform(2.0, 20.0), r.uniform(0.5, 6.0)
    return ref.f32s(round(centre + r.uniform(-spread, spread), 3) for _ in range(n or r.randint(5, 12)))


@points(1, "standardize", hidden=True)
def test_standardize_random_inputs(student):
    def make(r):
        xs = _shifted_inputs(r)
        expected, variants = standardize_expected(xs)
        return (xs, r.random() < 0.5, expected, variants), [
            Comparison(expected, variants, STANDARDIZE_REL, STANDARDIZE_ABS)]

    xs, as_column, expected, variants = draw(student, "standardize", make)
    argument, shape = (columns(xs), [len(xs), 1]) if as_column else (tensor(xs), [len(xs)])
    judge_standardize(student.call("standardize", argument), shape, expected, variants,
                      what="(z, mean, std) of random inputs", show_expected=False)


def _units(student, name: str, centre_range, spread_range):
    def make(r):
        w, b = round(r.uniform(-200, 200), 3), round(r.uniform(-800, 800), 3)
        mean = round(r.choice((-1, 1)) * r.uniform(*centre_range), 3)
        std = round(r.uniform(*spread_range), 3)
        expected = units_expected(w, b, mean, std)
        return (w, b, mean, std, expected), [
            Comparison(expected["value"], expected["variants"], UNITS_REL, expected["abs"])]

    w, b, mean, std, expected = draw(student, name, make)
    judge_units(student.call("to_original_units", w, b, mean, std), expected["value"], expected["variants"],
                expected["abs"], what="(m, b) in the original units for a random line and random statistics",
                show_expected=False)


@points(1, "to_original_units", hidden=True)
def test_units_random_line(student):
    # Statistics from about 1 to the scale of hours (tens): where a missing division shows.
    _units(student, "units", (0.5, 60.0), (0.3, 30.0))


def _surface(student, name: str, as_column: bool):
    def make(r):
        xs, ys = random_points(r)
        # Never a square grid: it would hide a transposed answer behind the right shape.
        rows = r.randint(2, 6)
        cols = r.choice([k for k in range(2, 7) if k != rows])
        slopes = ref.f32s(round(r.uniform(-6, 6), 3) for _ in range(cols))
        intercepts = ref.f32s(round(r.uniform(-8, 8), 3) for _ in range(rows))
        expected = surface_expected(xs, ys, slopes, intercepts)
        return (xs, ys, slopes, intercepts, expected), [
            Comparison(expected["value"], expected["variants"], SURFACE_REL, 1e-5 * max(expected["value"]))]

    xs, ys, slopes, intercepts, expected = draw(student, name, make)
    make_arg = columns if as_column else tensor
    value = student.call("loss_surface", make_arg(xs), make_arg(ys), tensor(slopes), tensor(intercepts))
    judge_surface(value, len(intercepts), len(slopes), expected["value"], expected["variants"],
                  what="the MSE grid over random data and a random grid", show_expected=False)


@points(1, "loss_surface", hidden=True)
def test_surface_random_grid(student):
    _surface(student, "surface", as_column=False)


@points(1, "loss_surface", hidden=True)
def test_surface_random_grid_on_columns(student):
    _surface(student, "surface columns", as_column=True)


@points(1, "largest_stable_learning_rate", hidden=True)
def test_stable_rate_random_inputs(student):
    def make(r):
        xs = _shifted_inputs(r)
        expected = rate_expected(xs)
        return (xs, r.random() < 0.5, expected), [Comparison(expected["value"], expected["variants"], RATE_REL)]

    xs, as_column, expected = draw(student, "stable rate", make)
    argument = columns(xs) if as_column else tensor(xs)
    judge_rate(student.call("largest_stable_learning_rate", argument), expected["value"], expected["variants"],
               what="the largest stable learning rate of random inputs", show_expected=False)


def _minibatch(student, name: str, lr_range, batch_sizes):
    def make(r):
        # Batches that do not divide the rows: a loss weighted by batch size differs, and
        # the last batch is smaller. Steps stay stable: x within +-3 gives a batch curvature
        # below 2 * (9 + 1) = 20, so any lr below 0.1 converges.
        batch_size = r.choice(batch_sizes)
        xs, ys = random_points(r, n=r.choice([n for n in range(7, 13) if n % batch_size]), noise=0.5)
        start = (round(r.uniform(-1, 1), 3), round(r.uniform(-1, 1), 3))
        lr, epochs, seed = round(r.uniform(*lr_range), 4), r.randint(3, 6), r.randrange(2**31)
        expected = minibatch_expected(start, xs, ys, lr, epochs, batch_size, seed)
        return (start, xs, ys, lr, epochs, batch_size, seed, expected), minibatch_comparisons(expected)

    return draw(student, name, make)


@points(1, "train_minibatch", hidden=True)
def test_minibatch_losses_on_random_data(student):
    start, xs, ys, lr, epochs, batch_size, seed, expected = _minibatch(student, "minibatch losses", (0.01, 0.05),
                                                                       (3, 4, 5))
    judge_minibatch(call_minibatch(student, start, xs, ys, lr, epochs, batch_size, seed), expected, start,
                    with_model=False, what="the losses on random data", show_expected=False)


@points(1, "train_minibatch", hidden=True)
def test_minibatch_trains_the_model_on_random_data(student):
    start, xs, ys, lr, epochs, batch_size, seed, expected = _minibatch(student, "minibatch model", (0.01, 0.05),
                                                                       (3, 4, 5))
    judge_minibatch(call_minibatch(student, start, xs, ys, lr, epochs, batch_size, seed), expected, start,
                    with_model=True, what="the losses and the trained model on random data", show_expected=False)


@points(1, "train_minibatch", hidden=True)
def test_minibatch_small_batches_larger_rate(student):
    start, xs, ys, lr, epochs, batch_size, seed, expected = _minibatch(student, "minibatch small", (0.05, 0.08), (2, 3))
    judge_minibatch(call_minibatch(student, start, xs, ys, lr, epochs, batch_size, seed), expected, start,
                    with_model=True, what="the losses and the trained model with small batches and a larger rate",
                    show_expected=False)
