"""The corpus of 03-making-training-converge: typical mistakes and correct variants (format: docs/authoring.md)."""

from __future__ import annotations

from textwrap import dedent

from autograder.checks.cases import HARD_CODED, UNNAMED

from . import reference as ref
from .public_checks import (
    HOURS,
    SCORES,
    SURFACE_INTERCEPTS,
    SURFACE_INTERCEPTS_TENS,
    SURFACE_SLOPES,
    SURFACE_SLOPES_TENS,
    TENS,
    UNITS_EXAMPLE,
    UNITS_SIGNS,
)

# What a student who hard-codes answers would paste: the course example's results, computed once.
COURSE_Z, COURSE_MEAN, COURSE_STD = ref.standardize(HOURS)
COURSE_RATE = ref.largest_stable_learning_rate(HOURS)
TENS_RATE = ref.largest_stable_learning_rate(ref.f32s(TENS))
EXAMPLE_UNITS = ref.to_original_units(*UNITS_EXAMPLE)
SIGNS_UNITS = ref.to_original_units(*UNITS_SIGNS)
RAW_GRID = ref.loss_surface(HOURS, SCORES, SURFACE_SLOPES, SURFACE_INTERCEPTS)
TENS_GRID = ref.loss_surface(ref.f32s(TENS), SCORES, SURFACE_SLOPES_TENS, SURFACE_INTERCEPTS_TENS)


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


# The reference train_minibatch with one part changed: most slips are one line.
def _train(*, loader="DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=generator)",
           zero="optimizer.zero_grad()", record="losses.append(sum(batch_losses) / len(batch_losses))",
           optimizer="torch.optim.SGD(model.parameters(), lr=lr)") -> str:
    return _src(f"""
        from torch.utils.data import DataLoader, TensorDataset
        def train_minibatch(model, x, y, lr, epochs, batch_size, generator):
            loader = {loader}
            loss_fn = torch.nn.MSELoss()
            optimizer = {optimizer}
            losses = []
            for _ in range(epochs):
                batch_losses = []
                for xb, yb in loader:
                    loss = loss_fn(model(xb), yb)
                    {zero}
                    loss.backward()
                    optimizer.step()
                    batch_losses.append(loss.item())
                {record}
            return losses
        """)


MISTAKES: list[tuple[str, str, str, str | None]] = [
    ("standardize", "sample std", _src("""
        def standardize(x):
            mean, std = x.mean(), x.std()
            return (x - mean) / std, mean.item(), std.item()
        """), "sample standard deviation"),
    ("standardize", "mean not subtracted", _src("""
        def standardize(x):
            mean, std = x.mean(), x.std(correction=0)
            return x / std, mean.item(), std.item()
        """), "mean is not subtracted"),
    ("standardize", "not divided by std", _src("""
        def standardize(x):
            mean, std = x.mean(), x.std(correction=0)
            return x - mean, mean.item(), std.item()
        """), "not divided by the standard deviation"),
    ("standardize", "divided by the variance", _src("""
        def standardize(x):
            mean, var = x.mean(), x.var(correction=0)
            return (x - mean) / var, mean.item(), var.sqrt().item()
        """), "divided by the variance"),
    ("standardize", "std and mean swapped", _src("""
        def standardize(x):
            mean, std = x.mean(), x.std(correction=0)
            return (x - mean) / std, std.item(), mean.item()
        """), "swapped"),
    ("standardize", "flattened result", _src("""
        def standardize(x):
            x = x.reshape(-1)
            mean, std = x.mean(), x.std(correction=0)
            return (x - mean) / std, mean.item(), std.item()
        """), "shape of x"),
    ("standardize", "hard-coded course statistics", _src(f"""
        def standardize(x):
            return (x - {COURSE_MEAN!r}) / {COURSE_STD!r}, {COURSE_MEAN!r}, {COURSE_STD!r}
        """), HARD_CODED),
    ("to_original_units", "intercept not shifted", _src("""
        def to_original_units(w, b, mean, std):
            return w / std, b
        """), "intercept is not shifted"),
    ("to_original_units", "multiplied by std", _src("""
        def to_original_units(w, b, mean, std):
            return w * std, b - w * mean * std
        """), "multiplied by std"),
    ("to_original_units", "shift without dividing by std", _src("""
        def to_original_units(w, b, mean, std):
            return w / std, b - w * mean
        """), "without dividing by std"),
    ("to_original_units", "shift with the wrong sign", _src("""
        def to_original_units(w, b, mean, std):
            return w / std, b + w * mean / std
        """), "wrong way"),
    ("to_original_units", "swapped pair", _src("""
        def to_original_units(w, b, mean, std):
            return b - w * mean / std, w / std
        """), "swapped"),
    ("to_original_units", "hard-coded example lines", _src(f"""
        def to_original_units(w, b, mean, std):
            if w > 0:
                return {EXAMPLE_UNITS!r}
            return {SIGNS_UNITS!r}
        """), HARD_CODED),
    ("loss_surface", "transposed grid", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(1, 1, -1), y.reshape(1, 1, -1)
            m, b = slopes.reshape(-1, 1, 1), intercepts.reshape(1, -1, 1)
            return ((m * x + b - y) ** 2).mean(dim=2)
        """), "transposed"),
    ("loss_surface", "meshgrid with ij indexing", _src("""
        def loss_surface(x, y, slopes, intercepts):
            M, B = torch.meshgrid(slopes, intercepts, indexing="ij")
            x, y = x.reshape(-1), y.reshape(-1)
            return ((M[..., None] * x + B[..., None] - y) ** 2).mean(dim=-1)
        """), "transposed"),
    ("loss_surface", "sum of squares", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(1, 1, -1), y.reshape(1, 1, -1)
            m, b = slopes.reshape(1, -1, 1), intercepts.reshape(-1, 1, 1)
            return ((m * x + b - y) ** 2).sum(dim=2)
        """), "sum of squared errors"),
    ("loss_surface", "root mean squared error", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(1, 1, -1), y.reshape(1, 1, -1)
            m, b = slopes.reshape(1, -1, 1), intercepts.reshape(-1, 1, 1)
            return ((m * x + b - y) ** 2).mean(dim=2).sqrt()
        """), "root mean squared error"),
    ("loss_surface", "half the mean squared error", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(1, 1, -1), y.reshape(1, 1, -1)
            m, b = slopes.reshape(1, -1, 1), intercepts.reshape(-1, 1, 1)
            return ((m * x + b - y) ** 2).mean(dim=2) / 2
        """), "half the mean squared error"),
    ("loss_surface", "mean absolute error", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(1, 1, -1), y.reshape(1, 1, -1)
            m, b = slopes.reshape(1, -1, 1), intercepts.reshape(-1, 1, 1)
            return (m * x + b - y).abs().mean(dim=2)
        """), "mean absolute error"),
    ("loss_surface", "square of the mean error", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(1, 1, -1), y.reshape(1, 1, -1)
            m, b = slopes.reshape(1, -1, 1), intercepts.reshape(-1, 1, 1)
            return (m * x + b - y).mean(dim=2) ** 2
        """), "square of the mean error"),
    ("loss_surface", "slopes and intercepts swapped", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(1, 1, -1), y.reshape(1, 1, -1)
            m, b = intercepts.reshape(-1, 1, 1), slopes.reshape(1, -1, 1)
            return ((m * x + b - y) ** 2).mean(dim=2)
        """), "slopes and intercepts swapped"),
    ("loss_surface", "data not flattened: columns broadcast wrongly", _src("""
        def loss_surface(x, y, slopes, intercepts):
            m, b = slopes.reshape(1, -1, 1), intercepts.reshape(-1, 1, 1)
            return ((m * x + b - y) ** 2).mean(dim=-1)
        """), UNNAMED),
    ("loss_surface", "hard-coded course grids", _src(f"""
        def loss_surface(x, y, slopes, intercepts):
            if len(slopes) == {len(SURFACE_SLOPES)}:
                return torch.tensor({RAW_GRID!r})
            return torch.tensor({TENS_GRID!r})
        """), HARD_CODED),
    ("largest_stable_learning_rate", "no factor 2 in the Hessian", _src("""
        def largest_stable_learning_rate(x):
            x = x.reshape(-1).double()
            n = x.numel()
            h = torch.tensor([[(x * x).sum().item(), x.sum().item()], [x.sum().item(), float(n)]]) / n
            return 2 / torch.linalg.eigvalsh(h.double())[-1].item()
        """), "factor 2 of the hessian"),
    ("largest_stable_learning_rate", "1 over lambda", _src("""
        def largest_stable_learning_rate(x):
            x = x.reshape(-1).double()
            n = x.numel()
            h = 2 / n * torch.tensor([[(x * x).sum().item(), x.sum().item()], [x.sum().item(), float(n)]])
            return 1 / torch.linalg.eigvalsh(h.double())[-1].item()
        """), "1 / the largest eigenvalue"),
    ("largest_stable_learning_rate", "smallest eigenvalue", _src("""
        def largest_stable_learning_rate(x):
            x = x.reshape(-1).double()
            n = x.numel()
            h = 2 / n * torch.tensor([[(x * x).sum().item(), x.sum().item()], [x.sum().item(), float(n)]])
            return 2 / torch.linalg.eigvalsh(h.double())[0].item()
        """), "smallest eigenvalue"),
    ("largest_stable_learning_rate", "slope curvature only", _src("""
        def largest_stable_learning_rate(x):
            x = x.reshape(-1).double()
            return (2 / (2 * (x * x).mean())).item()
        """), "slope's curvature"),
    ("largest_stable_learning_rate", "Hessian of the sum", _src("""
        def largest_stable_learning_rate(x):
            x = x.reshape(-1).double()
            n = x.numel()
            h = 2 * torch.tensor([[(x * x).sum().item(), x.sum().item()], [x.sum().item(), float(n)]])
            return 2 / torch.linalg.eigvalsh(h.double())[-1].item()
        """), "summed squared error"),
    ("largest_stable_learning_rate", "Hessian without 2/N", _src("""
        def largest_stable_learning_rate(x):
            x = x.reshape(-1).double()
            n = x.numel()
            h = torch.tensor([[(x * x).sum().item(), x.sum().item()], [x.sum().item(), float(n)]])
            return 2 / torch.linalg.eigvalsh(h.double())[-1].item()
        """), "without its factor 2/n"),
    ("largest_stable_learning_rate", "hard-coded course rates", _src(f"""
        def largest_stable_learning_rate(x):
            if x.max() > 10:
                return {COURSE_RATE!r}
            return {TENS_RATE!r}
        """), HARD_CODED),
    ("train_minibatch", "no shuffle", _train(
        loader="DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)"), "not shuffled"),
    ("train_minibatch", "full batch", _train(
        loader="[(x, y)]"), "full-batch"),
    ("train_minibatch", "missing zero_grad", _train(zero="pass"), "zero_grad() is missing"),
    ("train_minibatch", "last batch's loss only", _train(record="losses.append(batch_losses[-1])"), "last batch"),
    ("train_minibatch", "loss weighted by batch size", _src("""
        from torch.utils.data import DataLoader, TensorDataset
        def train_minibatch(model, x, y, lr, epochs, batch_size, generator):
            loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=generator)
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                total = 0.0
                for xb, yb in loader:
                    loss = torch.nn.MSELoss()(model(xb), yb)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(xb)
                losses.append(total / len(x))
            return losses
        """), "weights the batches"),
    ("train_minibatch", "drop_last=True", _train(
        loader="DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=generator, "
               "drop_last=True)"), "drop_last=true"),
    ("train_minibatch", "SGD with momentum", _train(
        optimizer="torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)"), "momentum=0.9"),
    ("train_minibatch", "Adam", _train(optimizer="torch.optim.Adam(model.parameters(), lr=lr)"), "torch.optim.adam"),
    ("train_minibatch", "learning rate halved each epoch", _train(
        record="losses.append(sum(batch_losses) / len(batch_losses))\n"
               "                optimizer.param_groups[0]['lr'] /= 2"), "the loss of epoch 0 is right"),
    ("train_minibatch", "one loss per batch", _train(record="losses.extend(batch_losses)"), "one loss per batch"),
    ("train_minibatch", "shuffled without the generator", _train(
        loader="DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)"), "generator"),
    ("train_minibatch", "hard-coded story lr", _train(
        optimizer="torch.optim.SGD(model.parameters(), lr=0.1)"), "the lr argument is ignored"),
    ("train_minibatch", "trains a copy", _src("""
        import copy
        from torch.utils.data import DataLoader, TensorDataset
        def train_minibatch(model, x, y, lr, epochs, batch_size, generator):
            model = copy.deepcopy(model)
            loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=generator)
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                batch_losses = []
                for xb, yb in loader:
                    loss = torch.nn.functional.mse_loss(model(xb), yb)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    batch_losses.append(loss.item())
                losses.append(sum(batch_losses) / len(batch_losses))
            return losses
        """), "not trained"),
]

CORRECT: list[tuple[str, str, str]] = [
    ("standardize", "unbiased=False and float64 statistics", _src("""
        def standardize(x):
            mean = x.double().mean()
            std = x.double().std(unbiased=False)
            return ((x - mean) / std).float(), float(mean), float(std)
        """)),
    ("standardize", "by hand, 0-d tensors", _src("""
        def standardize(x):
            mean = x.sum() / x.numel()
            std = (((x - mean) ** 2).sum() / x.numel()).sqrt()
            return (x - mean) / std, mean, std
        """)),
    ("to_original_units", "list with named steps", _src("""
        def to_original_units(w, b, mean, std):
            slope = w / std
            intercept = b - slope * mean
            return [slope, intercept]
        """)),
    ("to_original_units", "one 1-d tensor", _src("""
        def to_original_units(w, b, mean, std):
            return torch.tensor([w / std, b - w * mean / std], dtype=torch.float64)
        """)),
    ("loss_surface", "unsqueeze and float64", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(-1).double(), y.reshape(-1).double()
            pred = slopes.double()[None, :, None] * x + intercepts.double()[:, None, None]
            return ((pred - y) ** 2).mean(-1)
        """)),
    ("loss_surface", "expanded square", _src("""
        def loss_surface(x, y, slopes, intercepts):
            x, y = x.reshape(-1), y.reshape(-1)
            m, b = slopes[None, :], intercepts[:, None]
            return (m ** 2 * (x * x).mean() + 2 * m * b * x.mean() + b ** 2
                    - 2 * m * (x * y).mean() - 2 * b * y.mean() + (y * y).mean())
        """)),
    ("loss_surface", "meshgrid with xy indexing", _src("""
        def loss_surface(x, y, slopes, intercepts):
            M, B = torch.meshgrid(slopes, intercepts, indexing="xy")
            x, y = x.reshape(-1), y.reshape(-1)
            return ((M[..., None] * x + B[..., None] - y) ** 2).mean(dim=-1)
        """)),
    ("largest_stable_learning_rate", "closed-form eigenvalue", _src("""
        import math
        def largest_stable_learning_rate(x):
            xs = [float(v) for v in x.reshape(-1)]
            n = len(xs)
            a, b, c = 2 * sum(v * v for v in xs) / n, 2 * sum(xs) / n, 2.0
            largest = (a + c) / 2 + math.sqrt(((a - c) / 2) ** 2 + b * b)
            return 2 / largest
        """)),
    ("largest_stable_learning_rate", "design matrix, float32", _src("""
        def largest_stable_learning_rate(x):
            design = torch.cat([x.reshape(-1, 1), torch.ones(x.numel(), 1)], dim=1)
            hessian = 2 * design.T @ design / x.numel()
            return 2 / torch.linalg.eigvalsh(hessian).max()
        """)),
    ("train_minibatch", "F.mse_loss, losses as a tensor", _src("""
        from torch.utils.data import DataLoader, TensorDataset
        def train_minibatch(model, x, y, lr, epochs, batch_size, generator):
            data = DataLoader(TensorDataset(x, y), batch_size, shuffle=True, generator=generator)
            opt = torch.optim.SGD(model.parameters(), lr)
            out = []
            for epoch in range(epochs):
                total, count = 0.0, 0
                for xb, yb in data:
                    opt.zero_grad()
                    loss = torch.nn.functional.mse_loss(model(xb), yb)
                    loss.backward()
                    opt.step()
                    total += loss.item()
                    count += 1
                out.append(total / count)
            return torch.tensor(out)
        """)),
    ("train_minibatch", "loader rebuilt every epoch", _src("""
        import torch.utils.data as tud
        def train_minibatch(model, x, y, lr, epochs, batch_size, generator):
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            criterion = torch.nn.MSELoss()
            losses = []
            for _ in range(epochs):
                loader = tud.DataLoader(tud.TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                                        generator=generator)
                epoch_losses = []
                for inputs, targets in loader:
                    loss = criterion(model(inputs), targets)
                    epoch_losses.append(loss.detach())
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                losses.append(torch.stack(epoch_losses).mean().item())
            return losses
        """)),
]

SAMPLE_MISTAKES = {
    "to_original_units": _src("""
        def to_original_units(w, b, mean, std):
            return w / std, b
        """),
    "train_minibatch": _train(loader="DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)"),
}
SAMPLE_LOOP = "loss_surface"
