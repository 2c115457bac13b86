"""Reference implementations of 01-linear-regression, and the known wrong variants the feedback names.

Plain Python floats in double precision, computed in the grader's process, never shown to
the sandbox or to students (see autograder/checks/reference.py for the shared arithmetic).
"""

from __future__ import annotations

import math

from autograder.checks import slips
from autograder.checks.reference import Adam, f32, f32s, mean, mse, predict

# The shared arithmetic is part of this module's interface (the checks use ref.mse etc.).
__all__ = [
    "f32", "f32s", "mean", "predict", "mse", "least_squares", "train_linear",
]


def least_squares(xs, ys) -> tuple[float, float]:
    x_bar, y_bar = mean(xs), mean(ys)
    sxy = math.fsum((x - x_bar) * (y - y_bar) for x, y in zip(xs, ys))
    sxx = math.fsum((x - x_bar) ** 2 for x in xs)
    slope = sxy / sxx
    return slope, y_bar - slope * x_bar


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
    * ``weight_decay``: ``torch.optim.SGD(params, lr, weight_decay=slips.WEIGHT_DECAY_RATE)``;
    * ``per_sample``: one SGD step per data point (in order), the epoch's loss recorded as
      the mean of the per-point losses computed before each point's step.
    """
    if variant == "per_sample":
        return _train_per_sample(weight, bias, xs, ys, lr, epochs)
    n = len(xs)
    scale = 1.0 if variant == "sum_loss" else 1.0 / n
    grad_w_acc = grad_b_acc = 0.0
    adam = Adam() if variant == "adam" else None
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
        if variant == "weight_decay":  # torch's SGD: d_p = grad + weight_decay * p, in the step
            grad_w, grad_b = grad_w + slips.WEIGHT_DECAY_RATE * weight, grad_b + slips.WEIGHT_DECAY_RATE * bias
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
