"""The corpus of 01-linear-regression: typical mistakes and correct variants (format: docs/authoring.md)."""

from __future__ import annotations

from textwrap import dedent

from autograder.checks.cases import HARD_CODED

from . import reference as ref
from .public_checks import EXPECTED, HOURS, SCORES

# What a student who hard-codes answers would paste: the course data's results, computed once.
EXPECTED_TRAIN = EXPECTED["train"]
COURSE_FIT = ref.least_squares(HOURS, SCORES)
COURSE_LOSSES = EXPECTED_TRAIN["losses"]


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


MISTAKES: list[tuple[str, str, str, str | None]] = [
    ("to_column_tensors", "x and y swapped", _src("""
        def to_column_tensors(hours, scores):
            x = torch.tensor(hours, dtype=torch.float32).reshape(-1, 1)
            y = torch.tensor(scores, dtype=torch.float32).reshape(-1, 1)
            return y, x
        """), "x and y are swapped"),
    ("to_column_tensors", "flat tensors, not columns", _src("""
        def to_column_tensors(hours, scores):
            return torch.tensor(hours, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32)
        """), "not a column"),
    ("to_column_tensors", "integer dtype kept", _src("""
        def to_column_tensors(hours, scores):
            return torch.tensor(hours).reshape(-1, 1), torch.tensor(scores).reshape(-1, 1)
        """), "wrong dtype"),
    ("to_column_tensors", "float64 from NumPy", _src("""
        def to_column_tensors(hours, scores):
            import numpy as np
            x = torch.from_numpy(np.array(hours, dtype=float)).reshape(-1, 1)
            y = torch.from_numpy(np.array(scores, dtype=float)).reshape(-1, 1)
            return x, y
        """), "float64 (double) where the course uses float32"),
    ("to_column_tensors", "hard-coded course data", _src(f"""
        def to_column_tensors(hours, scores):
            x = torch.tensor({[[float(h)] for h in HOURS]})
            y = torch.tensor({[[float(s)] for s in SCORES]})
            return x, y
        """), HARD_CODED),
    ("predict", "m and b swapped", _src("""
        def predict(x, m, b):
            return b * x + m
        """), "m and b are swapped"),
    ("predict", "bias missing", _src("""
        def predict(x, m, b):
            return m * x
        """), "the bias is missing"),
    ("fit_least_squares", "slope and intercept swapped", _src("""
        def fit_least_squares(x, y):
            x = x.reshape(-1).double()
            y = y.reshape(-1).double()
            dx = x - x.mean()
            slope = (dx * (y - y.mean())).sum() / (dx ** 2).sum()
            intercept = y.mean() - slope * x.mean()
            return intercept.item(), slope.item()
        """), "slope and intercept are swapped"),
    ("fit_least_squares", "hard-coded course constants", _src(f"""
        def fit_least_squares(x, y):
            # computed once on the course data
            return {COURSE_FIT[0]!r}, {COURSE_FIT[1]!r}
        """), HARD_CODED),
    ("plot_regression", "no legend", _src("""
        def plot_regression(x, y, m, b):
            xs = x.reshape(-1).tolist()
            fig, ax = plt.subplots()
            ax.scatter(xs, y.reshape(-1).tolist())
            ax.plot(sorted(xs), [m * v + b for v in sorted(xs)], color="red")
            ax.set_xlabel("Study hours")
            ax.set_ylabel("Exam score")
            return fig, ax
        """), "no legend"),
    ("plot_regression", "line of the course model, not m and b", _src("""
        def plot_regression(x, y, m, b):
            xs = x.reshape(-1).tolist()
            fig, ax = plt.subplots()
            ax.scatter(xs, y.reshape(-1).tolist(), label="data")
            ax.plot(sorted(xs), [7.5 * v + 400.0 for v in sorted(xs)], color="red", label="model")
            ax.set_xlabel("Study hours")
            ax.set_ylabel("Exam score")
            ax.legend()
            return fig, ax
        """), HARD_CODED),
    ("plot_regression", "no line drawn", _src("""
        def plot_regression(x, y, m, b):
            fig, ax = plt.subplots()
            ax.scatter(x.reshape(-1).tolist(), y.reshape(-1).tolist(), label="data")
            ax.scatter(x.reshape(-1).tolist(), (m * x + b).reshape(-1).tolist(), label="model")
            ax.set_xlabel("Study hours")
            ax.set_ylabel("Exam score")
            ax.legend()
            return fig, ax
        """), "no line"),
    ("plot_regression", "no axis labels", _src("""
        def plot_regression(x, y, m, b):
            xs = x.reshape(-1).tolist()
            fig, ax = plt.subplots()
            ax.scatter(xs, y.reshape(-1).tolist(), label="data")
            ax.plot(sorted(xs), [m * v + b for v in sorted(xs)], color="red", label="model")
            ax.legend()
            return fig, ax
        """), "axis labels"),
    ("train_model", "missing zero_grad", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "gradients accumulate"),
    ("train_model", "step before backward", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                optimizer.step()
                loss.backward()
                losses.append(loss.item())
            return losses
        """), "parameters never change"),
    ("train_model", "zero_grad between backward and step", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.zero_grad()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "parameters never change"),
    ("train_model", "loss recorded after the update", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss_fn(model(x), y).backward()
                optimizer.step()
                with torch.no_grad():
                    losses.append(loss_fn(model(x), y).item())
            return losses
        """), "recorded after the update"),
    ("train_model", "sum instead of mean", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss(reduction="sum")
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "sum of squared errors"),
    ("train_model", "hard-coded lr", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)  # the notebook's value
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "the lr argument is ignored"),
    ("train_model", "new model created", _src("""
        def train_model(model, x, y, lr, epochs):
            model = torch.nn.Linear(1, 1)
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "the model you were given"),
    ("train_model", "trains a copy", _src("""
        def train_model(model, x, y, lr, epochs):
            import copy
            model = copy.deepcopy(model)
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "the model you were given"),
    ("train_model", "hard-coded course losses and weights", _src(f"""
        def train_model(model, x, y, lr, epochs):
            with torch.no_grad():
                model.weight.fill_({EXPECTED_TRAIN["params"][0]!r})
                model.bias.fill_({EXPECTED_TRAIN["params"][1]!r})
            return {COURSE_LOSSES!r}
        """), HARD_CODED),
    ("train_model", "never trains (no backward, no step)", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                losses.append(loss.item())
            return losses
        """), "parameters never change"),
    ("train_model", "Adam", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "adam"),
    ("train_model", "SGD with momentum", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "momentum"),
    ("train_model", "SGD with weight decay", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=1e-2)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """), "weight decay: this is what sgd(..., weight_decay=0.01) does"),
    ("train_model", "per-sample SGD", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                total = 0.0
                for i in range(len(x)):
                    optimizer.zero_grad()
                    loss = loss_fn(model(x[i:i + 1]), y[i:i + 1])
                    loss.backward()
                    optimizer.step()
                    total += loss.item()
                losses.append(total / len(x))
            return losses
        """), "per-sample"),
    ("train_model", "mini-batches of two", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                for i in range(0, len(x), 2):
                    optimizer.zero_grad()
                    loss = loss_fn(model(x[i:i + 2]), y[i:i + 2])
                    loss.backward()
                    optimizer.step()
                losses.append(loss.item())
            return losses
        """), "full-batch"),
    ("train_model", "losses keep their graph", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss)
            return losses
        """), "still requires grad"),
    ("plot_regression", "line emptied after drawing", _src("""
        def plot_regression(x, y, m, b):
            xs = x.reshape(-1).tolist()
            fig, ax = plt.subplots()
            ax.scatter(xs, y.reshape(-1).tolist(), label="data")
            line, = ax.plot(sorted(xs), [m * v + b for v in sorted(xs)], color="red", label="model")
            line.set_data([], [])
            ax.set_xlabel("Study hours")
            ax.set_ylabel("Exam score")
            ax.legend()
            return fig, ax
        """), "no line"),
    ("plot_regression", "line over part of the data", _src("""
        def plot_regression(x, y, m, b):
            xs = x.reshape(-1).tolist()
            fig, ax = plt.subplots()
            ax.scatter(xs, y.reshape(-1).tolist(), label="data")
            ax.plot(xs[:2], [m * v + b for v in xs[:2]], color="red", label="model")
            ax.set_xlabel("Study hours")
            ax.set_ylabel("Exam score")
            ax.legend()
            return fig, ax
        """), "line does not cover the data"),
    ("plot_regression", "same label on both axes", _src("""
        def plot_regression(x, y, m, b):
            xs = x.reshape(-1).tolist()
            fig, ax = plt.subplots()
            ax.scatter(xs, y.reshape(-1).tolist(), label="data")
            ax.plot(sorted(xs), [m * v + b for v in sorted(xs)], color="red", label="model")
            ax.set_xlabel("value")
            ax.set_ylabel("value")
            ax.legend()
            return fig, ax
        """), "axis labels"),
]

CORRECT: list[tuple[str, str, str]] = [
    ("to_column_tensors", "view", _src("""
        def to_column_tensors(hours, scores):
            x = torch.tensor(hours, dtype=torch.float32).view(-1, 1)
            y = torch.tensor(scores, dtype=torch.float32).view(-1, 1)
            return x, y
        """)),
    ("to_column_tensors", "unsqueeze", _src("""
        def to_column_tensors(hours, scores):
            return (torch.tensor(hours, dtype=torch.float32).unsqueeze(1),
                    torch.tensor(scores, dtype=torch.float32).unsqueeze(-1))
        """)),
    ("to_column_tensors", "nested lists", _src("""
        def to_column_tensors(hours, scores):
            x = torch.tensor([[h] for h in hours], dtype=torch.float32)
            y = torch.tensor([[float(s)] for s in scores])
            return x, y
        """)),
    ("to_column_tensors", "FloatTensor and list return", _src("""
        def to_column_tensors(hours, scores):
            return [torch.FloatTensor(hours).reshape(len(hours), 1), torch.FloatTensor(scores)[:, None]]
        """)),
    ("predict", "b plus x times m", _src("""
        def predict(x, m, b):
            y = b + x * m
            return y
        """)),
    ("fit_least_squares", "numpy polyfit", _src("""
        def fit_least_squares(x, y):
            import numpy as np
            slope, intercept = np.polyfit(x.numpy().ravel(), y.numpy().ravel(), 1)
            return float(slope), float(intercept)
        """)),
    ("fit_least_squares", "plain python loops", _src("""
        def fit_least_squares(x, y):
            xs = [float(v) for v in x.reshape(-1)]
            ys = [float(v) for v in y.reshape(-1)]
            x_bar = sum(xs) / len(xs)
            y_bar = sum(ys) / len(ys)
            sxy = 0.0
            sxx = 0.0
            for xi, yi in zip(xs, ys):
                sxy += (xi - x_bar) * (yi - y_bar)
                sxx += (xi - x_bar) ** 2
            slope = sxy / sxx
            return slope, y_bar - slope * x_bar
        """)),
    ("fit_least_squares", "float32 tensors returned 0-d", _src("""
        def fit_least_squares(x, y):
            x = x.flatten()
            y = y.flatten()
            slope = ((x - x.mean()) * (y - y.mean())).mean() / ((x - x.mean()) ** 2).mean()
            return slope, y.mean() - slope * x.mean()
        """)),
    ("fit_least_squares", "lstsq in float64", _src("""
        def fit_least_squares(x, y):
            X = torch.cat([x.reshape(-1, 1), torch.ones(x.numel(), 1)], dim=1).double()
            solution = torch.linalg.lstsq(X, y.reshape(-1, 1).double()).solution
            return solution[0, 0].item(), solution[1, 0].item()
        """)),
    ("fit_least_squares", "np.polyfit's array", _src("""
        def fit_least_squares(x, y):
            import numpy as np
            return np.polyfit(x.numpy().ravel(), y.numpy().ravel(), 1)
        """)),
    ("fit_least_squares", "one stacked (2,) tensor", _src("""
        def fit_least_squares(x, y):
            x = x.reshape(-1).double()
            y = y.reshape(-1).double()
            slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
            return torch.stack([slope, y.mean() - slope * x.mean()])
        """)),
    ("fit_least_squares", "(1,)-shaped tensors", _src("""
        def fit_least_squares(x, y):
            X = torch.cat([x.reshape(-1, 1), torch.ones(x.numel(), 1)], dim=1).double()
            solution = torch.linalg.lstsq(X, y.reshape(-1, 1).double()).solution
            return solution[0], solution[1]
        """)),
    ("plot_regression", "own axis labels, line over the sorted range", _src("""
        def plot_regression(x, y, m, b):
            fig, ax = plt.subplots()
            ax.plot(x.flatten(), y.flatten(), "s", label="students")
            grid = torch.linspace(float(x.min()), float(x.max()), 20)
            ax.plot(grid, m * grid + b, label=f"y = {m:.1f} x + {b:.1f}")
            ax.set_xlabel("Time spent (h)")
            ax.set_ylabel("Result")
            ax.legend()
            return fig, ax
        """)),
    ("plot_regression", "plt.plot with 'o'", _src("""
        def plot_regression(x, y, m, b):
            fig, ax = plt.subplots()
            plt.plot(x.reshape(-1).tolist(), y.reshape(-1).tolist(), 'o', label='data')
            lo, hi = x.min().item(), x.max().item()
            plt.plot([lo, hi], [m * lo + b, m * hi + b], '-', label='fit')
            plt.xlabel('Hours studied')
            plt.ylabel('Score')
            plt.legend()
            return fig, ax
        """)),
    ("plot_regression", "tensors passed to matplotlib", _src("""
        def plot_regression(x, y, m, b):
            fig = plt.figure()
            ax = fig.add_subplot(1, 1, 1)
            ax.scatter(x, y, label="observations")
            ax.plot(x, m * x + b, "r-", label="regression line")
            ax.set(xlabel="hours of study", ylabel="exam SCORE")
            ax.legend(loc="upper left")
            return fig, ax
        """)),
    ("train_model", "manual update under no_grad", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            losses = []
            for epoch in range(epochs):
                loss = loss_fn(model(x), y)
                losses.append(loss.item())
                model.zero_grad()
                loss.backward()
                with torch.no_grad():
                    for p in model.parameters():
                        p -= lr * p.grad
            return losses
        """)),
    ("train_model", "F.mse_loss, zero_grad last", _src("""
        def train_model(model, x, y, lr, epochs):
            import torch.nn.functional as F
            opt = torch.optim.SGD(model.parameters(), lr)
            history = []
            for _ in range(epochs):
                loss = F.mse_loss(model(x), y)
                history.append(float(loss))
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=False)
            return history
        """)),
    ("train_model", "0-d tensor losses", _src("""
        def train_model(model, x, y, lr, epochs):
            criterion = torch.nn.MSELoss(reduction="mean")
            optimizer = torch.optim.SGD(params=model.parameters(), lr=lr)
            losses = []
            epoch = 0
            while epoch < epochs:
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                losses.append(loss.detach().clone())
                loss.backward()
                optimizer.step()
                epoch += 1
            return losses
        """)),
    ("train_model", "returns a tuple", _src("""
        def train_model(model, x, y, lr, epochs):
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = ()
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                optimizer.step()
                losses += (loss.item(),)
            return losses
        """)),
    ("train_model", "returns a tensor of losses", _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = torch.zeros(epochs)
            for epoch in range(epochs):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                losses[epoch] = loss.detach()
            return losses
        """)),
]

SAMPLE_MISTAKES = {
    "fit_least_squares": _src("""
        def fit_least_squares(x, y):
            x, y = x.reshape(-1), y.reshape(-1)
            slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
            return float(y.mean() - slope * x.mean()), float(slope)  # swapped by mistake
        """),
    "train_model": _src("""
        def train_model(model, x, y, lr, epochs):
            loss_fn = torch.nn.MSELoss()
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                loss = loss_fn(model(x), y)
                loss.backward()  # zero_grad() forgotten
                optimizer.step()
                losses.append(loss.item())
            return losses
        """),
}
SAMPLE_LOOP = "predict"
