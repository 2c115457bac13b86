"""Correct answers written differently from the reference: each must get full marks.

``CORRECT`` holds ``(assignment id, question id, case name, answer cell source)``. The
variants cover what students actually write: torch or plain Python loops, ``.mean()`` or
``sum(...) / len(...)``, ``reshape``/``view``/``unsqueeze``/nested lists, manual updates
instead of ``optimizer.step()``, numpy, a 0-d tensor where a float is asked for, and so on:
every return type the contracts accept (see ``autograder/selfcheck/api.py``) appears here, and
the story cells must run with each (``tests/test_corpus.py``).

The last cases of 02 use ``nn.MSELoss``/``F.mse_loss`` where the notebook asks for the MSE by
hand: the grader judges values only, so they get full marks (nothing outside the student's
process can see how a number was computed; the notebook's instruction stays a teaching one).
"""

from __future__ import annotations

from textwrap import dedent

A1 = "01-linear-regression"
A2 = "02-gradient-descent"


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


CORRECT: list[tuple[str, str, str, str]] = [
    # --- 01-linear-regression ------------------------------------------------------------
    (A1, "to_column_tensors", "view", _src("""
        def to_column_tensors(hours, scores):
            x = torch.tensor(hours, dtype=torch.float32).view(-1, 1)
            y = torch.tensor(scores, dtype=torch.float32).view(-1, 1)
            return x, y
        """)),
    (A1, "to_column_tensors", "unsqueeze", _src("""
        def to_column_tensors(hours, scores):
            return (torch.tensor(hours, dtype=torch.float32).unsqueeze(1),
                    torch.tensor(scores, dtype=torch.float32).unsqueeze(-1))
        """)),
    (A1, "to_column_tensors", "nested lists", _src("""
        def to_column_tensors(hours, scores):
            x = torch.tensor([[h] for h in hours], dtype=torch.float32)
            y = torch.tensor([[float(s)] for s in scores])
            return x, y
        """)),
    (A1, "to_column_tensors", "FloatTensor and list return", _src("""
        def to_column_tensors(hours, scores):
            return [torch.FloatTensor(hours).reshape(len(hours), 1), torch.FloatTensor(scores)[:, None]]
        """)),
    (A1, "predict", "b plus x times m", _src("""
        def predict(x, m, b):
            y = b + x * m
            return y
        """)),
    (A1, "fit_least_squares", "numpy polyfit", _src("""
        def fit_least_squares(x, y):
            import numpy as np
            slope, intercept = np.polyfit(x.numpy().ravel(), y.numpy().ravel(), 1)
            return float(slope), float(intercept)
        """)),
    (A1, "fit_least_squares", "plain python loops", _src("""
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
    (A1, "fit_least_squares", "float32 tensors returned 0-d", _src("""
        def fit_least_squares(x, y):
            x = x.flatten()
            y = y.flatten()
            slope = ((x - x.mean()) * (y - y.mean())).mean() / ((x - x.mean()) ** 2).mean()
            return slope, y.mean() - slope * x.mean()
        """)),
    (A1, "fit_least_squares", "lstsq in float64", _src("""
        def fit_least_squares(x, y):
            X = torch.cat([x.reshape(-1, 1), torch.ones(x.numel(), 1)], dim=1).double()
            solution = torch.linalg.lstsq(X, y.reshape(-1, 1).double()).solution
            return solution[0, 0].item(), solution[1, 0].item()
        """)),
    (A1, "fit_least_squares", "np.polyfit's array", _src("""
        def fit_least_squares(x, y):
            import numpy as np
            return np.polyfit(x.numpy().ravel(), y.numpy().ravel(), 1)
        """)),
    (A1, "fit_least_squares", "one stacked (2,) tensor", _src("""
        def fit_least_squares(x, y):
            x = x.reshape(-1).double()
            y = y.reshape(-1).double()
            slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
            return torch.stack([slope, y.mean() - slope * x.mean()])
        """)),
    (A1, "fit_least_squares", "(1,)-shaped tensors", _src("""
        def fit_least_squares(x, y):
            X = torch.cat([x.reshape(-1, 1), torch.ones(x.numel(), 1)], dim=1).double()
            solution = torch.linalg.lstsq(X, y.reshape(-1, 1).double()).solution
            return solution[0], solution[1]
        """)),
    (A1, "plot_regression", "own axis labels, line over the sorted range", _src("""
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
    (A1, "plot_regression", "plt.plot with 'o'", _src("""
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
    (A1, "plot_regression", "tensors passed to matplotlib", _src("""
        def plot_regression(x, y, m, b):
            fig = plt.figure()
            ax = fig.add_subplot(1, 1, 1)
            ax.scatter(x, y, label="observations")
            ax.plot(x, m * x + b, "r-", label="regression line")
            ax.set(xlabel="hours of study", ylabel="exam SCORE")
            ax.legend(loc="upper left")
            return fig, ax
        """)),
    (A1, "train_model", "manual update under no_grad", _src("""
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
    (A1, "train_model", "F.mse_loss, zero_grad last", _src("""
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
    (A1, "train_model", "0-d tensor losses", _src("""
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

    (A1, "train_model", "returns a tuple", _src("""
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
    (A1, "train_model", "returns a tensor of losses", _src("""
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

    # --- 02-gradient-descent -------------------------------------------------------------
    (A2, "mse_loss", "plain python sum over len", _src("""
        def mse_loss(y_true, y_pred):
            t = y_true.reshape(-1).tolist()
            p = y_pred.reshape(-1).tolist()
            return sum((a - b) ** 2 for a, b in zip(t, p)) / len(t)
        """)),
    (A2, "mse_loss", "torch.mean of flattened, 0-d tensor", _src("""
        def mse_loss(y_true, y_pred):
            diff = y_true.flatten() - y_pred.flatten()
            return torch.mean(diff * diff)
        """)),
    (A2, "mse_loss", "view and pow, sum over numel", _src("""
        def mse_loss(y_true, y_pred):
            squared = (y_pred.view(-1) - y_true.view(-1)).pow(2)
            return float(squared.sum() / squared.numel())
        """)),
    (A2, "mse_loss", "loop with float()", _src("""
        def mse_loss(y_true, y_pred):
            total = 0.0
            n = y_true.numel()
            for t, p in zip(y_true.reshape(n), y_pred.reshape(n)):
                total += (float(t) - float(p)) ** 2
            return total / n
        """)),
    (A2, "mse_gradients", "plain python loops", _src("""
        def mse_gradients(x, y, m, b):
            xs = [float(v) for v in x.reshape(-1)]
            ys = [float(v) for v in y.reshape(-1)]
            n = len(xs)
            dm = sum(2 * (m * xi + b - yi) * xi for xi, yi in zip(xs, ys)) / n
            db = sum(2 * (m * xi + b - yi) for xi, yi in zip(xs, ys)) / n
            return dm, db
        """)),
    (A2, "mse_gradients", "2 * torch.mean, 0-d tensors", _src("""
        def mse_gradients(x, y, m, b):
            error = (m * x + b) - y
            return 2 * torch.mean(error * x), 2 * torch.mean(error)
        """)),
    (A2, "gradient_descent_step", "gradients inline, list return", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            r = m * x + b - y
            grad_m = float((2 * r * x).mean())
            grad_b = float((2 * r).mean())
            return [m - lr * grad_m, b - lr * grad_b]
        """)),
    (A2, "gradient_descent_step", "tuple unpacking update", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            grads = mse_gradients(x, y, m, b)
            m, b = m - lr * grads[0], b - lr * grads[1]
            return m, b
        """)),
    (A2, "gradient_descent", "inline loss, while loop", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            i = 0
            while i < steps:
                losses.append(((m * x + b - y) ** 2).mean().item())
                m, b = gradient_descent_step(x, y, m, b, lr)
                i += 1
            return m, b, losses
        """)),
    (A2, "gradient_descent", "own update with mse_gradients", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            for step in range(steps):
                losses.append(mse_loss(y, predict_line(x, m, b)))
                dm, db = mse_gradients(x, y, m, b)
                m -= lr * dm
                b -= lr * db
            return m, b, losses

        def predict_line(x, m, b):
            return m * x + b
        """)),
    (A2, "autograd_gradients", "backward() on a float64 loss", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(m, dtype=torch.float64, requires_grad=True)
            b_t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
            loss = torch.mean((m_t * x.double() + b_t - y.double()) ** 2)
            loss.backward()
            return float(m_t.grad), float(b_t.grad)
        """)),
    (A2, "autograd_gradients", "float64 and requires_grad_", _src("""
        def autograd_gradients(x, y, m, b):
            params = torch.tensor([m, b], dtype=torch.float64).requires_grad_()
            x64, y64 = x.double().reshape(-1), y.double().reshape(-1)
            loss = ((params[0] * x64 + params[1] - y64) ** 2).sum() / x64.numel()
            loss.backward()
            return params.grad[0], params.grad[1]
        """)),
    (A2, "mse_gradients", "one stacked (2,) tensor", _src("""
        def mse_gradients(x, y, m, b):
            residual = (m * x + b - y).reshape(-1)
            return torch.stack([(2 * residual * x.reshape(-1)).mean(), (2 * residual).mean()])
        """)),
    (A2, "gradient_descent_step", "tensors instead of floats", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            r = m * x + b - y
            return m - lr * (2 * r * x).mean(), b - lr * (2 * r).mean()
        """)),
    (A2, "gradient_descent", "tensors instead of floats", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            m, b = torch.tensor(m, dtype=x.dtype), torch.tensor(b, dtype=x.dtype)
            for _ in range(steps):
                r = m * x + b - y
                losses.append((r ** 2).mean())
                m, b = m - lr * (2 * r * x).mean(), b - lr * (2 * r).mean()
            return m, b, torch.stack(losses) if losses else torch.zeros(0)
        """)),
    # Not by hand, against the notebook's instruction: values only are graded (see above).
    (A2, "mse_loss", "nn.MSELoss", _src("""
        def mse_loss(y_true, y_pred):
            return torch.nn.MSELoss()(y_pred.reshape(-1), y_true.reshape(-1)).item()
        """)),
    # Issue 9 #6: imported under its own name, it bypassed the old call counter.
    (A2, "mse_loss", "F.mse_loss imported directly", _src("""
        from torch.nn.functional import mse_loss as library_mse
        def mse_loss(y_true, y_pred):
            return library_mse(y_pred.reshape(-1), y_true.reshape(-1)).item()
        """)),
]
