"""Reference implementations of 02-gradient-descent, and the known wrong variants the feedback names.

Plain Python floats in double precision, computed in the grader's process, never shown to
the sandbox or to students (see autograder/checks/reference.py for the shared arithmetic).
"""

from __future__ import annotations

from autograder.checks import slips
from autograder.checks.reference import f32, f32s, mean, mse, predict

# The shared arithmetic is part of this module's interface (the checks use ref.mse etc.).
__all__ = [
    "f32", "f32s", "mean", "predict", "mse", "mse_variants", "broadcast_mse", "gradients",
    "gradient_variants", "gradient_descent_step", "step_variants", "gradient_descent", "losses_after_steps",
]


def mse_variants(y_true, y_pred) -> dict[str, float]:
    """What common slips return instead of the MSE: the shared catalogue's reductions, a missing
    square, and the (N, 1) - (N,) broadcast (a reshape inside mse_loss can make it from any shapes)."""
    diffs = [t - p for t, p in zip(y_true, y_pred)]
    return {
        **slips.reduction_variants(diffs),
        "the square is missing (mean of the plain differences)": mean(diffs),
        "the square is missing (mean of the plain differences, prediction minus truth)": -mean(diffs),
        slips.BROADCAST: broadcast_mse(y_true, y_pred),
    }


broadcast_mse = slips.broadcast_mse


def gradients(xs, ys, m: float, b: float) -> tuple[float, float]:
    """dL/dm and dL/db of L = mean((m x + b - y)^2)."""
    errors = [m * x + b - y for x, y in zip(xs, ys)]
    return 2 * mean(e * x for e, x in zip(errors, xs)), 2 * mean(errors)


def gradient_variants(xs, ys, m: float, b: float) -> dict[str, tuple[float, float]]:
    dm, db = gradients(xs, ys, m, b)
    n = len(xs)
    return {
        slips.MISSING_TWO: (dm / 2, db / 2),
        "the factor 2 is missing from dL/db": (dm, db / 2),
        "the sign is wrong (error taken as y - prediction)": (-dm, -db),
        slips.MISSING_ONE_OVER_N: (dm * n, db * n),
        "dL/dm and dL/db are swapped": (db, dm),
    }


def gradient_descent_step(xs, ys, m: float, b: float, lr: float) -> tuple[float, float]:
    dm, db = gradients(xs, ys, m, b)
    return m - lr * dm, b - lr * db


def step_variants(xs, ys, m: float, b: float, lr: float, other_lrs=()) -> dict[str, tuple[float, float]]:
    """What common slips return instead of one step; ``other_lrs`` are learning rates a student
    might have hard-coded (the notebook's own), named when the step used one of them instead of ``lr``."""
    dm, db = gradients(xs, ys, m, b)
    new_m = m - lr * dm
    variants = {
        "the update is sequential: b's gradient was computed with the already-updated m":
            (new_m, b - lr * gradients(xs, ys, new_m, b)[1]),
        "the step goes uphill (+ lr * gradient instead of -)": (m + lr * dm, b + lr * db),
        "the learning rate is ignored": (m - dm, b - db),
        slips.MISSING_TWO: (m - lr * dm / 2, b - lr * db / 2),
        slips.MISSING_ONE_OVER_N: (m - lr * dm * len(xs), b - lr * db * len(xs)),
        "the factor 2 is missing from dL/db": (new_m, b - lr * db / 2),
    }
    for other in other_lrs:
        if other != lr:
            variants[f"the lr argument is ignored: the step uses lr = {other:g}"] = (m - other * dm, b - other * db)
    return variants


def gradient_descent(xs, ys, m: float, b: float, lr: float, steps: int):
    losses = []
    for _ in range(steps):
        losses.append(mse(ys, [predict(x, m, b) for x in xs]))
        m, b = gradient_descent_step(xs, ys, m, b, lr)
    return m, b, losses


def losses_after_steps(xs, ys, m: float, b: float, lr: float, steps: int) -> list[float]:
    """The slip of recording each loss after its step instead of before it."""
    _, _, losses = gradient_descent(xs, ys, m, b, lr, steps + 1)
    return losses[1:]
