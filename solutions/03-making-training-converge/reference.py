"""Reference implementations of 03-making-training-converge, and the known wrong variants the feedback names.

Plain Python floats in double precision, computed in the grader's process, never shown to
the sandbox or to students (see autograder/checks/reference.py for the shared arithmetic).
That includes the order in which ``DataLoader(..., shuffle=True, generator=g)`` hands out
the rows: :func:`shuffled_batches` reproduces it from the generator's seed without torch.
"""

from __future__ import annotations

import math

from autograder.checks import slips
from autograder.checks.reference import Adam, f32, f32s, mean, mse, mt19937, predict, randperm

# The shared arithmetic is part of this module's interface (the checks use ref.mse etc.).
__all__ = [
    "f32", "f32s", "mean", "predict", "mse", "standardize", "standardize_variants", "to_original_units",
    "original_units_variants", "loss_surface", "surface_variants", "hessian_eigenvalues",
    "largest_stable_learning_rate", "stable_rate_variants", "shuffled_batches", "train_minibatch",
    "least_squares",
]


# --- standardize -------------------------------------------------------------------------

def _stats(xs, ddof: int = 0) -> tuple[float, float]:
    x_bar = mean(xs)
    return x_bar, math.sqrt(math.fsum((x - x_bar) ** 2 for x in xs) / (len(xs) - ddof))


def standardize(xs) -> tuple[list[float], float, float]:
    """(z, mean, population std): z = (x - mean) / std, std dividing by N."""
    x_bar, s = _stats(xs)
    return [(x - x_bar) / s for x in xs], x_bar, s


def standardize_variants(xs) -> dict[str, list[float]]:
    """What common slips return instead, flattened as z + [mean, std] (how the checks compare)."""
    x_bar, s = _stats(xs)
    z = [(x - x_bar) / s for x in xs]
    x_bar, s1 = _stats(xs, ddof=1)
    return {
        "the sample standard deviation (dividing by N - 1): use the population one, "
        "x.std(correction=0) (unbiased=False in older PyTorch)": [(x - x_bar) / s1 for x in xs] + [x_bar, s1],
        "the mean is not subtracted (z = x / std)": [x / s for x in xs] + [x_bar, s],
        "z is not divided by the standard deviation (z = x - mean)": [x - x_bar for x in xs] + [x_bar, s],
        "divided by the variance instead of the standard deviation": [(x - x_bar) / s ** 2 for x in xs] + [x_bar, s],
        "mean and std are swapped in the returned tuple (return z, mean, std)": z + [s, x_bar],
    }


# --- to_original_units -----------------------------------------------------------------

def to_original_units(w: float, b: float, x_mean: float, x_std: float) -> tuple[float, float]:
    """w * (x - mean) / std + b  ==  (w / std) * x + (b - w * mean / std)."""
    return w / x_std, b - w * x_mean / x_std


def original_units_variants(w: float, b: float, x_mean: float, x_std: float) -> dict[str, list[float]]:
    m, b_new = to_original_units(w, b, x_mean, x_std)
    return {
        "the intercept is not shifted: b must become b - w * mean / std": [m, b],
        "multiplied by std instead of dividing by it": [w * x_std, b - w * x_mean * x_std],
        "the intercept is shifted by w * mean, without dividing by std": [m, b - w * x_mean],
        "the intercept is shifted the wrong way (b + w * mean / std)": [m, b + w * x_mean / x_std],
        "slope and intercept are swapped in the returned pair": [b_new, m],
    }


# --- loss_surface ------------------------------------------------------------------------

def loss_surface(xs, ys, slopes, intercepts) -> list[list[float]]:
    """Row i, column j: the MSE of slopes[j] * x + intercepts[i] (shape (I, S), as contour wants)."""
    return [[mse(ys, [m * x + b for x in xs]) for m in slopes] for b in intercepts]


def _flat(rows) -> list[float]:
    return [v for row in rows for v in row]


def surface_variants(xs, ys, slopes, intercepts) -> dict[str, list[float]]:
    """Flattened (I, S) grids of the slips that keep the shape (a transposed grid is told by its shape)."""
    # The reductions of the shared catalogue, cell by cell (the sum is N times the mean).
    cells = [slips.reduction_variants([m * x + b - y for x, y in zip(xs, ys)]) for b in intercepts for m in slopes]
    reductions = {name: [cell[name] for cell in cells]
                  for name in (slips.SUM, slips.ROOT, slips.HALF, slips.ABSOLUTE, slips.SQUARE_OF_MEAN)}
    return {
        **reductions,
        "slopes and intercepts swapped: intercepts[i] * x + slopes[j] instead of slopes[j] * x + intercepts[i]":
            _flat([[mse(ys, [b * x + m for x in xs]) for m in slopes] for b in intercepts]),
    }


# --- largest_stable_learning_rate ------------------------------------------------------

def hessian_eigenvalues(xs) -> tuple[float, float]:
    """(smallest, largest) eigenvalue of the MSE's Hessian in (m, b): 2/N [[Σx², Σx], [Σx, N]]."""
    n = len(xs)
    a, b, c = 2 * math.fsum(x * x for x in xs) / n, 2 * math.fsum(xs) / n, 2.0
    centre, radius = (a + c) / 2, math.hypot((a - c) / 2, b)
    largest = centre + radius
    # The product of the eigenvalues is the determinant: the small one without cancellation.
    return (a * c - b * b) / largest, largest


def largest_stable_learning_rate(xs) -> float:
    return 2 / hessian_eigenvalues(xs)[1]


def stable_rate_variants(xs) -> dict[str, float]:
    small, large = hessian_eigenvalues(xs)
    n = len(xs)
    return {
        "the factor 2 of the Hessian is missing (H = 2/N [[Σx², Σx], [Σx, N]], not 1/N ...)": 4 / large,
        "1 / the largest eigenvalue instead of 2 / it": 1 / large,
        "the smallest eigenvalue instead of the largest": 2 / small,
        "only the slope's curvature 2/N Σx² was used, not the largest eigenvalue of the 2 x 2 Hessian":
            n / math.fsum(x * x for x in xs),
        "the Hessian of the summed squared error (no 1/N) instead of the mean's": 2 / (n * large),
        # [[Σx², Σx], [Σx, N]] has the eigenvalues of the Hessian times N/2.
        slips.HESSIAN_WITHOUT_TWO_OVER_N: 2 / (large * n / 2),
    }


def least_squares(xs, ys) -> tuple[float, float]:
    x_bar, y_bar = mean(xs), mean(ys)
    slope = math.fsum((x - x_bar) * (y - y_bar) for x, y in zip(xs, ys)) / math.fsum((x - x_bar) ** 2 for x in xs)
    return slope, y_bar - slope * x_bar


# --- train_minibatch ---------------------------------------------------------------------



def shuffled_batches(n: int, batch_size: int, epochs: int, seed: int) -> list[list[list[int]]]:
    """The row indices of each batch of each epoch of ``DataLoader(TensorDataset(...), batch_size,
    shuffle=True, generator=torch.Generator().manual_seed(seed))``, iterated to the end every epoch.

    Per epoch, torch 2.13 draws from the generator: the iterator's base seed (one int64: two
    32-bit draws), the epoch's permutation (``RandomSampler``: ``randperm(n)``), and, when
    the sampler is exhausted, a second ``randperm(n)`` of which it keeps nothing. The test
    ``tests/test_dataloader_order.py`` compares this with torch's own DataLoader.
    """
    generator = mt19937(seed)
    epochs_batches = []
    for _ in range(epochs):
        generator.getrandbits(32), generator.getrandbits(32)
        order = randperm(generator, n)
        randperm(generator, n)
        epochs_batches.append([order[i:i + batch_size] for i in range(0, n, batch_size)])
    return epochs_batches


def train_minibatch(weight: float, bias: float, xs, ys, lr: float, epochs: int, batch_size: int, seed: int,
                    variant: str = "correct"):
    """Mini-batch SGD on the MSE of ``w x + b``, as nn.Linear + MSELoss + SGD + a shuffled DataLoader do.

    Returns ``(losses, weight, bias)``: losses[e] is the mean of epoch e's batch losses, each
    computed before its batch's update. ``variant`` reproduces a common slip:

    * ``no_shuffle``: the rows in their order every epoch (``shuffle=False``);
    * ``full_batch``: one step per epoch on all rows (``batch_size`` ignored);
    * ``no_zero_grad``: gradients accumulate over every batch and epoch;
    * ``last_batch``: the epoch's loss is its last batch's loss only;
    * ``weighted``: the epoch's loss weights each batch's loss by its size (the MSE over the
      epoch's rows) instead of the plain mean of the batch losses;
    * ``drop_last``: ``DataLoader(..., drop_last=True)``: the last, smaller batch never runs
      (the generator draws the same permutations: only the batches kept differ);
    * ``momentum``: ``torch.optim.SGD(params, lr, momentum=0.9)``;
    * ``adam``: ``torch.optim.Adam(params, lr)`` with its defaults.
    """
    n = len(xs)
    if variant == "no_shuffle":
        batches = [[list(range(n))[i:i + batch_size] for i in range(0, n, batch_size)]] * epochs
    elif variant == "full_batch":
        batches = [[list(range(n))]] * epochs
    else:
        batches = shuffled_batches(n, batch_size, epochs, seed)
    if variant == "drop_last":
        batches = [[rows for rows in epoch if len(rows) == batch_size] for epoch in batches]
    grad_w_acc = grad_b_acc = 0.0
    velocity = None
    adam = Adam() if variant == "adam" else None
    losses = []
    for epoch in batches:
        batch_losses = []
        for rows in epoch:
            errors = [weight * xs[i] + bias - ys[i] for i in rows]
            batch_losses.append(mean(e * e for e in errors))
            grad_w = 2 * mean(e * xs[i] for e, i in zip(errors, rows))
            grad_b = 2 * mean(errors)
            if variant == "no_zero_grad":
                grad_w_acc += grad_w
                grad_b_acc += grad_b
                grad_w, grad_b = grad_w_acc, grad_b_acc
            if variant == "momentum":
                # torch's SGD momentum: the buffer starts as the first gradient, then v = beta v + g.
                beta = slips.MOMENTUM_BETA
                velocity = (grad_w, grad_b) if velocity is None else (beta * velocity[0] + grad_w,
                                                                     beta * velocity[1] + grad_b)
                grad_w, grad_b = velocity
            if adam is not None:
                step_w, step_b = adam.step(grad_w, grad_b, lr)
                weight, bias = weight - step_w, bias - step_b
            else:
                weight, bias = weight - lr * grad_w, bias - lr * grad_b
        if variant == "last_batch":
            losses.append(batch_losses[-1])
        elif variant == "weighted":
            losses.append(math.fsum(loss * len(rows) for loss, rows in zip(batch_losses, epoch)) / n)
        else:
            losses.append(mean(batch_losses))
    return losses, weight, bias


