"""Reference implementations, and the known wrong variants the feedback names.

Plain Python floats in double precision: the grader computes every expected value here,
in its own process, without importing torch (start-up cost) and without ever showing
this code to the sandbox or to students. Inputs that the student receives as float32
tensors are first rounded with :func:`f32`, so both sides start from the same numbers.
"""

from __future__ import annotations

import math
import struct


def f32(x: float) -> float:
    """``x`` rounded to the nearest float32, as ``torch.tensor(x)`` would store it."""
    return struct.unpack("f", struct.pack("f", x))[0]


def f32s(values) -> list[float]:
    return [f32(v) for v in values]


def mean(values) -> float:
    values = list(values)
    return math.fsum(values) / len(values)


# --- assignment 1 -------------------------------------------------------------------

def predict(x: float, m: float, b: float) -> float:
    return m * x + b


def least_squares(xs, ys) -> tuple[float, float]:
    x_bar, y_bar = mean(xs), mean(ys)
    sxy = math.fsum((x - x_bar) * (y - y_bar) for x, y in zip(xs, ys))
    sxx = math.fsum((x - x_bar) ** 2 for x in xs)
    slope = sxy / sxx
    return slope, y_bar - slope * x_bar


def mse(y_true, y_pred) -> float:
    return mean((t - p) ** 2 for t, p in zip(y_true, y_pred))


def train_linear(weight: float, bias: float, xs, ys, lr: float, epochs: int, variant: str = "correct"):
    """Full-batch SGD on the MSE of ``w x + b``, as ``nn.Linear`` + ``MSELoss`` + ``SGD`` do.

    Returns ``(losses, weight, bias)``. ``variant`` reproduces a common slip so that the
    feedback can name it:

    * ``correct``: loss recorded before the update, gradients zeroed each epoch;
    * ``no_zero_grad``: gradients accumulate across epochs;
    * ``loss_after_update``: the loss recorded is the one after the epoch's update;
    * ``sum_loss``: the loss is the sum of squared errors, not the mean;
    * ``frozen``: ``step()`` runs where no gradient exists (before ``backward()``, or right
      after ``zero_grad()``), or is missing, so the parameters never move;
    * ``adam``: ``torch.optim.Adam(params, lr)`` with its defaults instead of SGD;
    * ``momentum``: ``torch.optim.SGD(params, lr, momentum=0.9)``;
    * ``per_sample``: one SGD step per data point (in order), the epoch's loss recorded as
      the mean of the per-point losses computed before each point's step.
    """
    if variant == "per_sample":
        return _train_per_sample(weight, bias, xs, ys, lr, epochs)
    n = len(xs)
    scale = 1.0 if variant == "sum_loss" else 1.0 / n
    grad_w_acc = grad_b_acc = 0.0
    adam = _Adam() if variant == "adam" else None
    velocity = None
    losses = []
    for _ in range(epochs):
        errors = [weight * x + bias - y for x, y in zip(xs, ys)]
        loss = scale * math.fsum(e * e for e in errors)
        grad_w = 2 * scale * math.fsum(e * x for e, x in zip(errors, xs))
        grad_b = 2 * scale * math.fsum(errors)
        if variant == "no_zero_grad":
            grad_w_acc += grad_w
            grad_b_acc += grad_b
            grad_w, grad_b = grad_w_acc, grad_b_acc
        if adam is not None:
            step_w, step_b = adam.step(grad_w, grad_b, lr)
        elif variant == "momentum":
            # torch's SGD momentum: the buffer starts as the first gradient, then v = 0.9 v + g.
            velocity = (grad_w, grad_b) if velocity is None else (0.9 * velocity[0] + grad_w,
                                                                 0.9 * velocity[1] + grad_b)
            step_w, step_b = lr * velocity[0], lr * velocity[1]
        else:
            step_w, step_b = lr * grad_w, lr * grad_b
        if variant != "frozen":
            weight, bias = weight - step_w, bias - step_b
        if variant == "loss_after_update":
            loss = scale * math.fsum((weight * x + bias - y) ** 2 for x, y in zip(xs, ys))
        losses.append(loss)
    return losses, weight, bias


class _Adam:
    """``torch.optim.Adam``'s update with its defaults (betas 0.9, 0.999; eps 1e-8)."""

    def __init__(self):
        self.t = 0
        self.m = [0.0, 0.0]
        self.v = [0.0, 0.0]

    def step(self, *grads_and_lr):
        *grads, lr = grads_and_lr
        self.t += 1
        steps = []
        for i, g in enumerate(grads):
            self.m[i] = 0.9 * self.m[i] + 0.1 * g
            self.v[i] = 0.999 * self.v[i] + 0.001 * g * g
            m_hat = self.m[i] / (1 - 0.9 ** self.t)
            v_hat = self.v[i] / (1 - 0.999 ** self.t)
            steps.append(lr * m_hat / (math.sqrt(v_hat) + 1e-8))
        return steps


def _train_per_sample(weight: float, bias: float, xs, ys, lr: float, epochs: int):
    losses = []
    for _ in range(epochs):
        point_losses = []
        for x, y in zip(xs, ys):
            error = weight * x + bias - y
            point_losses.append(error * error)
            weight, bias = weight - lr * 2 * error * x, bias - lr * 2 * error
        losses.append(mean(point_losses))
    return losses, weight, bias


# --- assignment 2 -------------------------------------------------------------------

def mse_variants(y_true, y_pred) -> dict[str, float]:
    """What common slips return instead of the MSE."""
    diffs = [t - p for t, p in zip(y_true, y_pred)]
    return {
        "the sum of squared errors instead of their mean": math.fsum(d * d for d in diffs),
        "the square is missing (mean of the plain differences)": mean(diffs),
        "the square is missing (mean of the plain differences, prediction minus truth)": -mean(diffs),
        "the root mean squared error (an extra square root)": math.sqrt(mse(y_true, y_pred)),
        "the mean absolute error instead of the squared error": mean(abs(d) for d in diffs),
    }


def broadcast_mse(y_true, y_pred) -> float:
    """The MSE over all pairs, as ``(N, 1) - (N,)`` silently broadcasts to ``(N, N)``."""
    return mean((t - p) ** 2 for t in y_true for p in y_pred)


def gradients(xs, ys, m: float, b: float) -> tuple[float, float]:
    """dL/dm and dL/db of L = mean((m x + b - y)^2)."""
    errors = [m * x + b - y for x, y in zip(xs, ys)]
    return 2 * mean(e * x for e, x in zip(errors, xs)), 2 * mean(errors)


def gradient_variants(xs, ys, m: float, b: float) -> dict[str, tuple[float, float]]:
    dm, db = gradients(xs, ys, m, b)
    n = len(xs)
    return {
        "the factor 2 is missing": (dm / 2, db / 2),
        "the factor 2 is missing from dL/db": (dm, db / 2),
        "the sign is wrong (error taken as y - prediction)": (-dm, -db),
        "summed instead of averaged over the points": (dm * n, db * n),
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
        "the factor 2 is missing from the gradients": (m - lr * dm / 2, b - lr * db / 2),
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
