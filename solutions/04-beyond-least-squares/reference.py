"""Reference implementations of 04-beyond-least-squares, and the known wrong variants the feedback names.

Plain Python floats in double precision, computed in the grader's process, never shown to
the sandbox or to students (see autograder/checks/reference.py for the shared arithmetic).
That includes the order in which ``torch.randperm(n, generator=g)`` shuffles the rows of the
train/validation split: :func:`randperm` reproduces it from the generator's seed without torch
(``tests/test_a04_reference.py`` compares it with torch's own).
"""

from __future__ import annotations

import math

from autograder.checks import slips
from autograder.checks.reference import Adam, f32, f32s, mean, mt19937
from autograder.checks.reference import randperm as torch_randperm

__all__ = [
    "f32", "f32s", "mean", "huber", "huber_loss", "huber_variants", "numerical_gradient",
    "numerical_gradient_variants", "exact_gradient", "fit_line", "fit_line_variants", "kink_margin", "randperm",
    "validation_curve", "least_squares_2d", "least_squares_2d_variants",
]


# --- huber_loss ------------------------------------------------------------------------

def huber(r: float, delta: float) -> float:
    """The Huber loss of one residual: r²/2 inside [-delta, delta], delta (|r| - delta/2) outside."""
    return 0.5 * r * r if abs(r) <= delta else delta * (abs(r) - 0.5 * delta)


def huber_loss(preds, targets, delta: float) -> float:
    """The mean Huber loss, as torch.nn.HuberLoss(delta=delta) (reduction "mean") computes it."""
    return mean(huber(p - t, delta) for p, t in zip(preds, targets))


def huber_variants(preds, targets, delta: float) -> dict[str, float]:
    """What common slips return instead."""
    rs = [p - t for p, t in zip(preds, targets)]
    n = len(rs)
    return {
        "the quadratic part lacks its 1/2: inside [-delta, delta] the loss is r**2 / 2":
            mean(r * r if abs(r) <= delta else delta * (abs(r) - 0.5 * delta) for r in rs),
        "the linear part lacks its shift: outside [-delta, delta] the loss is delta * (|r| - delta / 2), "
        "not delta * |r|": mean(0.5 * r * r if abs(r) <= delta else delta * abs(r) for r in rs),
        "the linear part is not multiplied by delta: outside [-delta, delta] the loss is delta * (|r| - delta / 2)":
            mean(0.5 * r * r if abs(r) <= delta else abs(r) - 0.5 * delta for r in rs),
        "this is the smooth L1 loss (the Huber loss divided by delta): do not divide by delta":
            mean(huber(r, delta) / delta for r in rs),
        "r**2 is compared with delta: the quadratic part holds where |r| <= delta":
            mean(0.5 * r * r if r * r <= delta else delta * (abs(r) - 0.5 * delta) for r in rs),
        "delta is not used: this is half the squared error everywhere": mean(0.5 * r * r for r in rs),
        "delta is not used: this is the squared error (MSE) everywhere": mean(r * r for r in rs),
        "delta is not used: this is the absolute error (L1) everywhere": mean(abs(r) for r in rs),
        "the sum over the points instead of the mean": n * huber_loss(preds, targets, delta),
    }


# --- numerical_gradient ----------------------------------------------------------------

def _line_loss(xs, ys, w: float, b: float, delta: float) -> float:
    return huber_loss([w * x + b for x in xs], ys, delta)


def numerical_gradient(xs, ys, w: float, b: float, delta: float, eps: float) -> tuple[float, float]:
    """Central differences of L(w, b) = huber_loss(w * x + b, y, delta), one parameter at a time."""
    def loss(w_, b_):
        return _line_loss(xs, ys, w_, b_, delta)

    return ((loss(w + eps, b) - loss(w - eps, b)) / (2 * eps),
            (loss(w, b + eps) - loss(w, b - eps)) / (2 * eps))


def exact_gradient(xs, ys, w: float, b: float, delta: float) -> tuple[float, float]:
    """The analytic gradient: the mean of clip(r, -delta, delta) * (x, 1)."""
    clipped = [max(-delta, min(delta, w * x + b - y)) for x, y in zip(xs, ys)]
    return mean(c * x for c, x in zip(clipped, xs)), mean(clipped)


def numerical_gradient_variants(xs, ys, w, b, delta, eps) -> dict[str, list[float]]:
    def loss(w_, b_, d=delta):
        return _line_loss(xs, ys, w_, b_, d)

    g_w, g_b = numerical_gradient(xs, ys, w, b, delta, eps)
    l0 = loss(w, b)
    return {
        "a forward difference (L(p + eps) - L(p)) / eps: use the central difference "
        "(L(p + eps) - L(p - eps)) / (2 eps), whose error is far smaller":
            [(loss(w + eps, b) - l0) / eps, (loss(w, b + eps) - l0) / eps],
        "a backward difference (L(p) - L(p - eps)) / eps: use the central difference "
        "(L(p + eps) - L(p - eps)) / (2 eps)":
            [(l0 - loss(w - eps, b)) / eps, (l0 - loss(w, b - eps)) / eps],
        "divided by eps instead of 2 * eps: the two points are 2 * eps apart": [2 * g_w, 2 * g_b],
        "both parameters are moved at once: move one parameter at a time, keeping the other fixed":
            [(loss(w + eps, b + eps) - loss(w - eps, b - eps)) / (2 * eps)] * 2,
        "the first parameter is not put back before the second is moved: restore w before moving b":
            [g_w, (loss(w - eps, b + eps) - loss(w - eps, b - eps)) / (2 * eps)],
        "the gradients with respect to w and b are swapped": [g_b, g_w],
        "delta is not passed on: the loss differentiated is the Huber loss with delta = 1":
            list(numerical_gradient(xs, ys, w, b, 1.0, eps)),
    }


# --- fit_line ----------------------------------------------------------------------------

LOSSES = ("mse", "l1", "huber")


def _sign(r: float) -> float:
    # torch.sign and the gradient of torch.abs at 0 are both 0.
    return (r > 0) - (r < 0)


def _residual_gradient(r: float, loss: str, delta: float, flip_sign: bool) -> float:
    """dL_i/dr for one residual; ``flip_sign`` negates the sign term of L1 and of Huber's linear part."""
    s = -_sign(r) if flip_sign else _sign(r)
    if loss == "mse":
        return 2 * r
    if loss == "l1":
        return s
    return r if abs(r) <= delta else delta * s


def fit_line(xs, ys, loss: str, lr: float, steps: int, delta: float = 1.0, *, variant: str = "correct",
             trace: list | None = None) -> tuple[float, float]:
    """Full-batch gradient descent on the mean loss of w * x + b, from (0, 0); ``steps`` updates.

    ``variant`` reproduces a slip: ``l1_sign`` (the sign term's gradient negated), ``no_zero_grad``
    (the gradients accumulate), ``weight_decay`` (``SGD(..., weight_decay=slips.WEIGHT_DECAY_RATE)``),
    ``momentum`` (``SGD(..., momentum=0.9)``), ``adam`` (``torch.optim.Adam`` with its defaults),
    ``steps_minus_one`` / ``steps_plus_one``. ``trace`` collects every
    residual the fit computes (for :func:`kink_margin`).
    """
    w = b = 0.0
    acc_w = acc_b = 0.0
    optimizer = _Optimizer(variant)
    steps = steps - 1 if variant == "steps_minus_one" else steps + 1 if variant == "steps_plus_one" else steps
    for _ in range(steps):
        rs = [w * x + b - y for x, y in zip(xs, ys)]
        if trace is not None:
            trace.extend(rs)
        gs = [_residual_gradient(r, loss, delta, variant == "l1_sign") for r in rs]
        g_w, g_b = mean(g * x for g, x in zip(gs, xs)), mean(gs)
        if variant == "no_zero_grad":
            acc_w, acc_b = acc_w + g_w, acc_b + g_b
            g_w, g_b = acc_w, acc_b
        step_w, step_b = optimizer.step(w, b, g_w, g_b, lr)
        w, b = w - step_w, b - step_b
    return w, b


class _Optimizer:
    """The step torch.optim takes for a ``variant``: plain SGD, or the catalogue's other optimisers."""

    def __init__(self, variant: str):
        self.variant = variant
        self.adam = Adam() if variant == "adam" else None
        self.velocity = None

    def step(self, w: float, b: float, g_w: float, g_b: float, lr: float) -> tuple[float, float]:
        if self.variant == "weight_decay":  # torch's SGD: d_p = grad + weight_decay * p, in the step
            g_w, g_b = g_w + slips.WEIGHT_DECAY_RATE * w, g_b + slips.WEIGHT_DECAY_RATE * b
        if self.variant == "momentum":  # torch's SGD momentum: the buffer starts as the first gradient
            beta = slips.MOMENTUM_BETA
            self.velocity = (g_w, g_b) if self.velocity is None else (beta * self.velocity[0] + g_w,
                                                                      beta * self.velocity[1] + g_b)
            g_w, g_b = self.velocity
        if self.adam is not None:
            step_w, step_b = self.adam.step(g_w, g_b, lr)
            return step_w, step_b
        return lr * g_w, lr * g_b


def kink_margin(xs, ys, loss: str, lr: float, steps: int, delta: float) -> float:
    """How far every residual of the fit stays from a kink of the loss (0 for L1, ±delta for Huber).

    In float32 a residual closer to a kink than its rounding could fall on the other side, and
    the student's trajectory would leave the reference's: checks use inputs where this margin
    is large (MARGIN in checks.py).
    """
    trace: list[float] = []
    fit_line(xs, ys, loss, lr, steps, delta, trace=trace)
    if loss == "mse":
        return math.inf
    kinks = (0.0,) if loss == "l1" else (-delta, delta)
    return min(abs(r - k) for r in trace for k in kinks)


def fit_line_variants(xs, ys, loss: str, lr: float, steps: int, delta: float,
                      story_lrs=(), story_deltas=()) -> dict[str, list[float]]:
    variants = {}
    if loss != "mse":
        variants["the loss argument is ignored: this is the line gradient descent finds with the MSE"] = \
            list(fit_line(xs, ys, "mse", lr, steps, delta))
        variants["the sign of the absolute value's gradient is wrong: d|r|/dr = sign(r), so the update "
                 "moves against sign(r) * x"] = list(fit_line(xs, ys, loss, lr, steps, delta, variant="l1_sign"))
    if loss == "huber":
        variants["delta is not passed on: this is the Huber fit with delta = 1"] = \
            list(fit_line(xs, ys, loss, lr, steps, 1.0))
        variants["the L1 loss is used where the Huber loss was asked for"] = list(fit_line(xs, ys, "l1", lr, steps))
    if loss == "l1":
        variants["the Huber loss is used where the L1 loss was asked for"] = \
            list(fit_line(xs, ys, "huber", lr, steps, delta))
    variants[slips.NO_ZERO_GRAD] = list(fit_line(xs, ys, loss, lr, steps, delta, variant="no_zero_grad"))
    variants[slips.WEIGHT_DECAY] = list(fit_line(xs, ys, loss, lr, steps, delta, variant="weight_decay"))
    variants[slips.MOMENTUM] = list(fit_line(xs, ys, loss, lr, steps, delta, variant="momentum"))
    variants[slips.ADAM] = list(fit_line(xs, ys, loss, lr, steps, delta, variant="adam"))
    variants["one update too few: take exactly `steps` steps"] = \
        list(fit_line(xs, ys, loss, lr, steps, delta, variant="steps_minus_one"))
    variants["one update too many: take exactly `steps` steps"] = \
        list(fit_line(xs, ys, loss, lr, steps, delta, variant="steps_plus_one"))
    for other in story_lrs:
        if other != lr:
            variants[f"the lr argument is ignored: the fit uses lr = {other:g}"] = \
                list(fit_line(xs, ys, loss, other, steps, delta))
    return variants


# --- validation_curve -------------------------------------------------------------------

def randperm(n: int, seed: int) -> list[int]:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` on the CPU for small n."""
    return torch_randperm(mt19937(seed), n)


def _mse_step(w, b, xs, ys, rows, lr):
    rs = [w * xs[i] + b - ys[i] for i in rows]
    return w - lr * 2 * mean(r * xs[i] for r, i in zip(rs, rows)), b - lr * 2 * mean(rs)


def _mse_rows(w, b, xs, ys, rows) -> float:
    return mean((w * xs[i] + b - ys[i]) ** 2 for i in rows)


def validation_curve(w: float, b: float, xs, ys, n_val: int, lr: float, epochs: int, seed: int,
                     variant: str = "correct") -> tuple[list[float], float, float]:
    """Full-batch SGD on the training rows; after each epoch's step, the validation rows' MSE.

    The split: ``perm = randperm(n)``, validation rows ``perm[:n_val]``, training rows the rest.
    Returns ``(losses, w, b)``. ``variant`` reproduces a slip: ``no_shuffle`` (the first n_val
    rows validate), ``on_train`` (the "validation" loss is measured on the training rows),
    ``before_step`` (measured before the epoch's step), ``swapped`` (trained on the validation
    rows, measured on the others), ``all_rows`` (trained on every row: the validation rows leak
    into training), ``no_zero_grad`` (gradients accumulate), and the optimisers of the catalogue
    (``weight_decay``, ``momentum``, ``adam``, as in :func:`fit_line`).
    """
    n = len(xs)
    perm = list(range(n)) if variant == "no_shuffle" else randperm(n, seed)
    val, train = perm[:n_val], perm[n_val:]
    if variant == "swapped":
        val, train = train, val
    fit_rows = list(range(n)) if variant == "all_rows" else train
    measure = train if variant == "on_train" else val
    losses = []
    acc_w = acc_b = 0.0
    optimizer = _Optimizer(variant)
    for _ in range(epochs):
        if variant == "before_step":
            losses.append(_mse_rows(w, b, xs, ys, measure))
        new_w, new_b = _mse_step(w, b, xs, ys, fit_rows, lr)
        if variant in ("momentum", "adam", "weight_decay"):
            rs = [w * xs[i] + b - ys[i] for i in fit_rows]
            step_w, step_b = optimizer.step(w, b, 2 * mean(r * xs[i] for r, i in zip(rs, fit_rows)), 2 * mean(rs), lr)
            new_w, new_b = w - step_w, b - step_b
        if variant == "no_zero_grad":
            acc_w, acc_b = acc_w + (w - new_w), acc_b + (b - new_b)
            new_w, new_b = w - acc_w, b - acc_b
        w, b = new_w, new_b
        if variant != "before_step":
            losses.append(_mse_rows(w, b, xs, ys, measure))
    return losses, w, b


# --- least_squares_2d -------------------------------------------------------------------

def least_squares_2d(x1, x2, ys) -> list[float]:
    """(w1, w2, b) minimising the MSE of w1 x1 + w2 x2 + b: the normal equations, on centred data.

    Centring first (b then follows from the means) keeps the 2 x 2 system well conditioned in
    double precision; it is the same minimiser as the 3 x 3 normal equations with a ones column.
    """
    m1, m2, my = mean(x1), mean(x2), mean(ys)
    c1, c2, cy = [v - m1 for v in x1], [v - m2 for v in x2], [v - my for v in ys]
    s11, s12, s22 = (math.fsum(a * b for a, b in zip(p, q)) for p, q in ((c1, c1), (c1, c2), (c2, c2)))
    s1y, s2y = (math.fsum(a * b for a, b in zip(p, cy)) for p in (c1, c2))
    det = s11 * s22 - s12 * s12
    w1, w2 = (s22 * s1y - s12 * s2y) / det, (s11 * s2y - s12 * s1y) / det
    return [w1, w2, my - w1 * m1 - w2 * m2]


def least_squares_2d_variants(x1, x2, ys) -> dict[str, list[float]]:
    w1, w2, b = least_squares_2d(x1, x2, ys)
    # Through the origin: the normal equations without the ones column.
    s11, s12, s22 = (math.fsum(a * c for a, c in zip(p, q)) for p, q in ((x1, x1), (x1, x2), (x2, x2)))
    s1y, s2y = (math.fsum(a * c for a, c in zip(p, ys)) for p in (x1, x2))
    det = s11 * s22 - s12 * s12
    o1, o2 = (s22 * s1y - s12 * s2y) / det, (s11 * s2y - s12 * s1y) / det

    def slope(xs):
        xb, yb = mean(xs), mean(ys)
        return math.fsum((x - xb) * (y - yb) for x, y in zip(xs, ys)) / math.fsum((x - xb) ** 2 for x in xs)

    a1, a2 = slope(x1), slope(x2)
    return {
        "there is no column of ones: the plane is forced through the origin (b = 0)": [o1, o2, 0.0],
        "the bias comes first: the ones column is the design matrix's first column, so the solution is "
        "(b, w1, w2); return (w1, w2, b)": [b, w1, w2],
        "the two weights are swapped: w1 belongs to the first column of X": [w2, w1, b],
        "each feature was fitted on its own (two one-feature lines): fit both weights together, "
        "they share the explanation of y": [a1, a2, mean(ys) - a1 * mean(x1) - a2 * mean(x2)],
    }
