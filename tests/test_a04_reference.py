"""04-beyond-least-squares's reference, computed without torch, agrees with an independent torch computation.

The hidden checks of 04 compare students' values with plain-Python double-precision values
(``solutions/04-beyond-least-squares/reference.py``). Each is recomputed here another way, in
torch float64: the Huber loss with ``nn.HuberLoss``, the central differences from autograd's
exact gradient, the gradient-descent fits with autograd and ``torch.optim.SGD``, the split with
``torch.randperm`` itself, and the plane with ``torch.linalg.lstsq``. The split rests on torch
internals (MT19937 seeding, randperm's shuffle): a torch upgrade that changes them fails here
instead of failing every student.
"""

from __future__ import annotations

import random

import pytest

from autograder.checks import ASSIGNMENTS

ASSIGNMENT = "04-beyond-least-squares"
pytestmark = pytest.mark.skipif(ASSIGNMENT not in ASSIGNMENTS, reason=f"{ASSIGNMENT} is not in this kit")

SEEDS = [0, 1, 7, 20264, 2**31 - 1, 2**32 + 5]


@pytest.fixture(scope="module")
def ref():
    return ASSIGNMENTS[ASSIGNMENT].reference_module()


def data(seed: int, n: int = 9):
    r = random.Random(seed)
    xs = [round(r.uniform(-3, 3), 3) for _ in range(n)]
    ys = [round(2 * x - 1 + r.gauss(0, 1.5), 3) for x in xs]
    return xs, ys


@pytest.mark.parametrize("seed", SEEDS)
def test_randperm_is_torchs(ref, seed):
    import torch

    for n in (1, 2, 5, 8, 9, 14, 30):
        assert ref.randperm(n, seed) == torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()


@pytest.mark.parametrize("seed", range(5))
def test_huber_loss_is_torchs(ref, seed):
    import torch

    xs, ys = data(seed)
    for delta in (0.3, 1.0, 2.5):
        expected = torch.nn.HuberLoss(delta=delta)(torch.tensor(xs, dtype=torch.float64),
                                                   torch.tensor(ys, dtype=torch.float64)).item()
        assert ref.huber_loss(xs, ys, delta) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_central_differences_approach_autograds_gradient(ref, seed):
    import torch

    xs, ys = data(seed)
    w = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-0.2, dtype=torch.float64, requires_grad=True)
    x, y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    torch.nn.HuberLoss(delta=1.3)(w * x + b, y).backward()
    # A small step crosses no kink: the central difference of a piecewise parabola is exact.
    got = ref.numerical_gradient(xs, ys, 0.7, -0.2, 1.3, 1e-6)
    assert got == pytest.approx([w.grad.item(), b.grad.item()], rel=1e-7, abs=1e-9)
    assert ref.exact_gradient(xs, ys, 0.7, -0.2, 1.3) == pytest.approx([w.grad.item(), b.grad.item()], rel=1e-12)


def torch_fit(xs, ys, loss, lr, steps, delta):
    import torch

    x, y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    w = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = {"mse": torch.nn.MSELoss(), "l1": torch.nn.L1Loss(), "huber": torch.nn.HuberLoss(delta=delta)}
    for _ in range(steps):
        optimizer.zero_grad()
        losses[loss](w * x + b, y).backward()
        optimizer.step()
    return w.item(), b.item()


@pytest.mark.parametrize("loss", ["mse", "l1", "huber"])
@pytest.mark.parametrize("seed", range(4))
def test_fit_line_is_gradient_descent_with_autograd(ref, loss, seed):
    xs, ys = data(seed)
    got = ref.fit_line(xs, ys, loss, 0.04, 40, 0.8)
    assert got == pytest.approx(torch_fit(xs, ys, loss, 0.04, 40, 0.8), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_validation_curve_is_torchs_split_and_sgd(ref, seed):
    import torch

    xs, ys = data(seed % 1000, n=11)
    x = torch.tensor(xs, dtype=torch.float64).reshape(-1, 1)
    y = torch.tensor(ys, dtype=torch.float64).reshape(-1, 1)
    model = torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        model.weight.fill_(0.3)
        model.bias.fill_(-0.4)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    val, train = perm[:4], perm[4:]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x[train]), y[train]).backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(torch.nn.functional.mse_loss(model(x[val]), y[val]).item())
    got, w, b = ref.validation_curve(0.3, -0.4, xs, ys, 4, 0.03, 5, seed)
    assert got == pytest.approx(losses, rel=1e-10)
    assert [w, b] == pytest.approx([model.weight.item(), model.bias.item()], rel=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_least_squares_2d_is_lstsq(ref, seed):
    import torch

    r = random.Random(seed)
    rows = [[r.uniform(-4, 40), r.uniform(3, 9)] for _ in range(10)]
    ys = [3 * a - 2 * c + 5 + r.gauss(0, 1) for a, c in rows]
    design = torch.cat([torch.tensor(rows, dtype=torch.float64), torch.ones(10, 1, dtype=torch.float64)], dim=1)
    expected = torch.linalg.lstsq(design, torch.tensor(ys, dtype=torch.float64).reshape(-1, 1)).solution
    got = ref.least_squares_2d([a for a, _ in rows], [c for _, c in rows], ys)
    assert got == pytest.approx(expected.reshape(-1).tolist(), rel=1e-9)


def test_public_fits_keep_their_residuals_off_the_kinks(ref):
    """The public fit_line inputs are chosen, like the hidden ones, so float32 cannot flip a residual's side."""
    checks = ASSIGNMENTS[ASSIGNMENT].check_module()
    expected = checks.public_expected()
    for name in ("fit_l1", "fit_huber"):
        assert expected[name]["margin"] >= checks.MARGIN, (name, expected[name]["margin"])
