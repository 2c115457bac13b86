"""Checks of 04-beyond-least-squares: the public ones, plus hidden ones on random inputs.

As in 01-03, each hidden check judges with its public counterpart's helper, on inputs drawn
so that every mistake it can name is visible (:func:`autograder.checks.cases.draw`).
validation_curve is handed a torch.Generator seeded by the grader (``protocol.generator``):
the reference reproduces ``torch.randperm``'s order from that seed, in this process.
"""

from __future__ import annotations

from autograder.checks import slips
from autograder.checks.cases import Comparison, draw, random_points
from autograder.selfcheck.api import NOT_IN_PLACE, losses_variants, points, trained_variants
from autograder.selfcheck.protocol import column_tensor as columns
from autograder.selfcheck.protocol import tensor

from . import reference as ref
from .public_checks import (
    FIT_ABS,
    FIT_HUBER,
    FIT_L1,
    FIT_REL,
    GRAD_COURSE,
    GRAD_REL,
    GRAD_SMALL,
    GRAD_SMALL_X,
    GRAD_SMALL_Y,
    HOURS,
    HUBER_DELTA,
    HUBER_DELTA_COURSE,
    HUBER_LINE,
    HUBER_PREDS,
    HUBER_REL,
    HUBER_TARGETS,
    HUNDREDS,
    PLANE_REL,
    PLANE_X,
    PLANE_Y,
    SCORES,
    SLEEP,
    TENS,
    VAL_ABS,
    VAL_EPOCHS,
    VAL_LR,
    VAL_N,
    VAL_REL,
    VAL_SEED,
    VAL_START,
    VAL_X,
    VAL_Y,
    call_validation,
    grad_abs,
    judge_fit,
    judge_gradient,
    judge_huber,
    judge_plane,
    judge_validation,
    line,
)

# The learning rates of the notebook's stories: a function with one of them hard-coded gets
# a name of its own.
STORY_FIT_LR = 0.03
STORY_VAL_LR = 0.01
# fit_line's inputs keep every residual at least MARGIN from a kink of the loss (0 for L1,
# ±delta for Huber) along the whole reference trajectory: float32 rounds residuals of size
# ~10 by ~1e-6, so a residual 1e-3 from a kink falls on the same side in the student's run
# as in the reference's, and the two trajectories agree.
MARGIN = 1e-3

VALIDATION_VARIANTS = {
    "the rows are not shuffled: the first n_val rows validate; split with "
    "perm = torch.randperm(len(x), generator=generator)": "no_shuffle",
    "the validation loss is measured on the training rows: measure it on x[perm[:n_val]]": "on_train",
    "the validation loss is measured before the epoch's step: take the step, then measure": "before_step",
    "training and validation rows are swapped: train on perm[n_val:], validate on perm[:n_val]": "swapped",
    "the model is trained on every row, so the validation rows leak into training: train on perm[n_val:] only":
        "all_rows",
    slips.NO_ZERO_GRAD: "no_zero_grad",
    slips.MOMENTUM: "momentum",
    slips.ADAM: "adam",
    # Not slips.WEIGHT_DECAY: on the public run (6 epochs at lr 0.02) weight decay 0.01 moves the
    # validation losses by 0.6 times their tolerance (rel 6e-4 against 1e-3): invisible.
}


# --- expected values -----------------------------------------------------------------------

def huber_expected(preds, targets, delta) -> dict:
    return {"value": ref.huber_loss(preds, targets, delta), "variants": ref.huber_variants(preds, targets, delta)}


def gradient_expected(xs, ys, w, b, delta, eps) -> dict:
    loss = ref.huber_loss(line(w, b, xs), ys, delta)
    return {"value": list(ref.numerical_gradient(xs, ys, w, b, delta, eps)),
            "variants": ref.numerical_gradient_variants(xs, ys, w, b, delta, eps), "abs": grad_abs(loss, eps)}


def fit_expected(xs, ys, loss, lr, steps, delta) -> dict:
    return {"value": list(ref.fit_line(xs, ys, loss, lr, steps, delta)),
            "variants": ref.fit_line_variants(xs, ys, loss, lr, steps, delta, story_lrs=(STORY_FIT_LR,)),
            "margin": ref.kink_margin(xs, ys, loss, lr, steps, delta)}


def validation_expected(start, xs, ys, n_val, lr, epochs, seed) -> dict:
    def run(variant="correct", rate=lr):
        losses, w, b = ref.validation_curve(*start, xs, ys, n_val, rate, epochs, seed, variant)
        return {"losses": losses, "params": [w, b]}

    correct = run()
    variants = {name: run(variant) for name, variant in VALIDATION_VARIANTS.items()}
    if STORY_VAL_LR != lr:
        variants[f"the lr argument is ignored: the training uses lr = {STORY_VAL_LR:g}"] = run(rate=STORY_VAL_LR)
    variants[NOT_IN_PLACE] = {"losses": correct["losses"], "params": [ref.f32(p) for p in start]}
    return {**correct, "variants": variants}


def validation_comparisons(expected: dict) -> list[Comparison]:
    """The two comparisons ``judge_validation`` makes (losses alone; losses and model)."""
    losses_only, combined = losses_variants(expected), trained_variants(expected)
    return [Comparison(expected["losses"], losses_only, VAL_REL, VAL_ABS),
            Comparison(expected["losses"] + expected["params"], combined, VAL_REL, VAL_ABS)]


def plane_expected(rows, ys) -> dict:
    x1, x2 = [r[0] for r in rows], [r[1] for r in rows]
    return {"value": ref.least_squares_2d(x1, x2, ys), "variants": ref.least_squares_2d_variants(x1, x2, ys)}


def plane_comparison(expected: dict) -> Comparison:
    return Comparison(expected["value"], expected["variants"], PLANE_REL,
                      PLANE_REL * max(abs(v) for v in expected["value"]))


def public_expected() -> dict:
    """Expected values of the public checks (written to JSON by ``dlbasics build``)."""
    tens, hundreds = ref.f32s(TENS), ref.f32s(HUNDREDS)
    return {
        "huber_small": huber_expected(ref.f32s(HUBER_PREDS), ref.f32s(HUBER_TARGETS), HUBER_DELTA),
        "huber_course": huber_expected(ref.f32s(line(*HUBER_LINE, TENS)), hundreds, HUBER_DELTA_COURSE),
        "grad_course": gradient_expected(tens, hundreds, *GRAD_COURSE),
        "grad_small": gradient_expected(ref.f32s(GRAD_SMALL_X), ref.f32s(GRAD_SMALL_Y), *GRAD_SMALL),
        "fit_l1": fit_expected(tens, hundreds, *FIT_L1),
        "fit_huber": fit_expected(tens, hundreds, *FIT_HUBER),
        "validation": validation_expected(VAL_START, ref.f32s(VAL_X), ref.f32s(VAL_Y), VAL_N, VAL_LR, VAL_EPOCHS,
                                          VAL_SEED),
        "plane_course": plane_expected([[h, s] for h, s in zip(HOURS, ref.f32s(SLEEP))], SCORES),
        "plane_small": plane_expected([ref.f32s(r) for r in PLANE_X], ref.f32s(PLANE_Y)),
    }


# --- hidden checks -------------------------------------------------------------------------

@points(1, "huber_loss", hidden=True)
def test_huber_loss_random_inputs(student):
    def make(r):
        n = r.randint(5, 12)
        delta = round(r.uniform(0.3, 3.0), 3)
        # Residuals of up to 3 deltas: some inside [-delta, delta], most often some outside.
        targets = ref.f32s(round(r.uniform(-5, 5), 3) for _ in range(n))
        preds = ref.f32s(round(t + r.uniform(-3, 3) * delta, 3) for t in targets)
        expected = huber_expected(preds, targets, delta)
        return (preds, targets, delta, r.random() < 0.5, expected), [
            Comparison(expected["value"], expected["variants"], HUBER_REL)]

    preds, targets, delta, as_column, expected = draw(student, "huber", make)
    make_arg = columns if as_column else tensor
    judge_huber(student.call("huber_loss", make_arg(preds), make_arg(targets), delta), expected["value"],
                expected["variants"], what="the Huber loss of random predictions and targets", show_expected=False)


def _gradient(student, name: str, eps_range):
    def make(r):
        xs, ys = random_points(r, noise=2.0)
        w, b = round(r.uniform(-3, 3), 3), round(r.uniform(-3, 3), 3)
        delta = round(r.uniform(0.3, 3.0), 3)
        eps = round(r.uniform(*eps_range), 4)
        expected = gradient_expected(xs, ys, w, b, delta, eps)
        return (xs, ys, w, b, delta, eps, r.random() < 0.5, expected), [
            Comparison(expected["value"], expected["variants"], GRAD_REL, expected["abs"])]

    xs, ys, w, b, delta, eps, as_column, expected = draw(student, name, make)
    make_arg = columns if as_column else tensor
    judge_gradient(student.call("numerical_gradient", make_arg(xs), make_arg(ys), w, b, delta, eps), expected,
                   what="the central-difference gradient of the Huber loss on random data at a random point",
                   show_expected=False)


@points(1, "numerical_gradient", hidden=True)
def test_numerical_gradient_random_point(student):
    _gradient(student, "numerical gradient", (0.01, 0.03))


@points(1, "numerical_gradient", hidden=True)
def test_numerical_gradient_large_step(student):
    # A large step: the central difference now crosses kinks of the Huber loss, and differs
    # from the exact gradient; it must still be the central difference at this eps.
    _gradient(student, "numerical gradient large eps", (0.1, 0.3))


def _fit(student, name: str, losses):
    def make(r):
        # Data around a line with one outlier far above or below it; rates small enough for
        # the MSE's curvature 2 * mean(x**2) <= 2 * 9 (x within ±3) to stay stable.
        for _ in range(100):
            xs, ys = random_points(r, noise=0.3)
            k = r.randrange(len(ys))
            ys[k] = ref.f32(round(ys[k] + r.choice((-1, 1)) * r.uniform(5, 10), 3))
            loss = r.choice(losses)
            lr, steps = round(r.uniform(0.02, 0.06), 4), r.randint(30, 60)
            delta = round(r.uniform(0.3, 2.0), 3)
            expected = fit_expected(xs, ys, loss, lr, steps, delta)
            if expected["margin"] >= MARGIN:
                break
        else:
            raise RuntimeError(f"no fit_line input for {name!r} keeps its residuals off the loss's kinks")
        return (xs, ys, loss, lr, steps, delta, expected), [
            Comparison(expected["value"], expected["variants"], FIT_REL, FIT_ABS)]

    xs, ys, loss, lr, steps, delta, expected = draw(student, name, make)
    judge_fit(student.call("fit_line", columns(xs), columns(ys), loss, lr, steps, delta), expected,
              what=f"the line fitted with the {loss} loss on random data with an outlier", show_expected=False)


@points(1, "fit_line", hidden=True)
def test_fit_line_random_l1_or_mse(student):
    _fit(student, "fit l1 or mse", ("l1", "mse"))


@points(1, "fit_line", hidden=True)
def test_fit_line_random_huber(student):
    _fit(student, "fit huber", ("huber",))


def _validation(student, name: str):
    def make(r):
        xs, ys = random_points(r, n=r.randint(8, 14), noise=0.5)
        n_val = r.randint(2, len(xs) // 2)
        start = (round(r.uniform(-1, 1), 3), round(r.uniform(-1, 1), 3))
        lr, epochs, seed = round(r.uniform(0.02, 0.06), 4), r.randint(3, 7), r.randrange(2**31)
        expected = validation_expected(start, xs, ys, n_val, lr, epochs, seed)
        return (start, xs, ys, n_val, lr, epochs, seed, expected), validation_comparisons(expected)

    return draw(student, name, make)


@points(1, "validation_curve", hidden=True)
def test_validation_losses_on_random_data(student):
    start, xs, ys, n_val, lr, epochs, seed, expected = _validation(student, "validation losses")
    judge_validation(call_validation(student, start, xs, ys, n_val, lr, epochs, seed), expected, start,
                     with_model=False, what="the validation losses on random data", show_expected=False)


@points(1, "validation_curve", hidden=True)
def test_validation_trains_the_model_on_random_data(student):
    start, xs, ys, n_val, lr, epochs, seed, expected = _validation(student, "validation model")
    judge_validation(call_validation(student, start, xs, ys, n_val, lr, epochs, seed), expected, start,
                     with_model=True, what="the validation losses and the trained model on random data",
                     show_expected=False)


@points(1, "least_squares_2d", hidden=True)
def test_plane_random_data(student):
    def make(r):
        n = r.randint(6, 12)
        rows = [ref.f32s([round(r.uniform(-4, 4), 3), round(r.uniform(-4, 4), 3)]) for _ in range(n)]
        w1, w2, b = r.uniform(-3, 3), r.uniform(-3, 3), r.uniform(-5, 5)
        ys = ref.f32s(round(w1 * x1 + w2 * x2 + b + r.gauss(0, 0.5), 3) for x1, x2 in rows)
        expected = plane_expected(rows, ys)
        return (rows, ys, r.random() < 0.5, expected), [plane_comparison(expected)]

    rows, ys, as_column, expected = draw(student, "plane", make)
    judge_plane(student.call("least_squares_2d", tensor(rows), columns(ys) if as_column else tensor(ys)), expected,
                what="(w1, w2, b) of a plane through random points", show_expected=False)
