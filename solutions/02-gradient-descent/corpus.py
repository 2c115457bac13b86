"""The corpus of 02-gradient-descent: typical mistakes and correct variants (format: docs/authoring.md)."""

from __future__ import annotations

from textwrap import dedent

from autograder.checks.cases import HARD_CODED, UNNAMED

from . import reference as ref
from .public_checks import LINE, X_EXAMPLE, Y_PRED, Y_TRUE

# What a student who hard-codes answers would paste: the example's results, computed once.
EXAMPLE_MSE = ref.mse(Y_TRUE, Y_PRED)
EXAMPLE_GRADIENTS = ref.gradients(X_EXAMPLE, Y_TRUE, *LINE)


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


MISTAKES: list[tuple[str, str, str, str | None]] = [
    ("mse_loss", "sum instead of mean", _src("""
        def mse_loss(y_true, y_pred):
            return ((y_pred.reshape(-1) - y_true.reshape(-1)) ** 2).sum().item()
        """), "sum of squared errors"),
    ("mse_loss", "missing square (true - pred)", _src("""
        def mse_loss(y_true, y_pred):
            return (y_true.reshape(-1) - y_pred.reshape(-1)).mean().item()
        """), "square is missing"),
    ("mse_loss", "missing square (pred - true)", _src("""
        def mse_loss(y_true, y_pred):
            return (y_pred.reshape(-1) - y_true.reshape(-1)).mean().item()
        """), "square is missing"),
    ("mse_loss", "rmse", _src("""
        def mse_loss(y_true, y_pred):
            return torch.sqrt(((y_pred.reshape(-1) - y_true.reshape(-1)) ** 2).mean()).item()
        """), "root mean squared error"),
    ("mse_loss", "mean absolute error", _src("""
        def mse_loss(y_true, y_pred):
            return (y_pred.reshape(-1) - y_true.reshape(-1)).abs().mean().item()
        """), "mean absolute error"),
    ("mse_loss", "column against flat broadcasts", _src("""
        def mse_loss(y_true, y_pred):
            return ((y_pred - y_true) ** 2).mean().item()
        """), "broadcasts"),
    ("mse_loss", "square of the mean", _src("""
        def mse_loss(y_true, y_pred):
            return ((y_pred.reshape(-1) - y_true.reshape(-1)).mean() ** 2).item()
        """), "square of the mean error"),
    ("mse_loss", "half the mean squared error", _src("""
        def mse_loss(y_true, y_pred):
            return (((y_pred.reshape(-1) - y_true.reshape(-1)) ** 2).mean() / 2).item()
        """), "half the mean squared error"),
    ("mse_loss", "flat minus column broadcasts", _src("""
        def mse_loss(y_true, y_pred):
            return ((y_pred.reshape(-1) - y_true.reshape(-1, 1)) ** 2).mean().item()
        """), "broadcasts"),
    ("mse_loss", "return 0.0", _src("""
        def mse_loss(y_true, y_pred):
            return 0.0
        """), UNNAMED),
    ("mse_loss", "hard-coded example value", _src(f"""
        def mse_loss(y_true, y_pred):
            return {EXAMPLE_MSE!r}
        """), HARD_CODED),
    ("mse_gradients", "missing factor 2", _src("""
        def mse_gradients(x, y, m, b):
            residual = m * x + b - y
            return (residual * x).mean().item(), residual.mean().item()
        """), "factor 2 is missing"),
    ("mse_gradients", "wrong sign", _src("""
        def mse_gradients(x, y, m, b):
            error = y - (m * x + b)
            return (2 * error * x).mean().item(), (2 * error).mean().item()
        """), "sign is wrong"),
    ("mse_gradients", "summed over the points", _src("""
        def mse_gradients(x, y, m, b):
            residual = m * x + b - y
            return (2 * residual * x).sum().item(), (2 * residual).sum().item()
        """), "summed instead of averaged"),
    ("mse_gradients", "dm and db swapped", _src("""
        def mse_gradients(x, y, m, b):
            residual = m * x + b - y
            return (2 * residual).mean().item(), (2 * residual * x).mean().item()
        """), "are swapped"),
    ("mse_gradients", "hard-coded example gradients", _src(f"""
        def mse_gradients(x, y, m, b):
            return {EXAMPLE_GRADIENTS[0]!r}, {EXAMPLE_GRADIENTS[1]!r}
        """), HARD_CODED),
    ("gradient_descent_step", "sequential update", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dL_dm, _ = mse_gradients(x, y, m, b)
            m = m - lr * dL_dm
            _, dL_db = mse_gradients(x, y, m, b)
            b = b - lr * dL_db
            return m, b
        """), "the update is sequential"),
    ("gradient_descent_step", "step uphill", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dL_dm, dL_db = mse_gradients(x, y, m, b)
            return m + lr * dL_dm, b + lr * dL_db
        """), "goes uphill"),
    ("gradient_descent_step", "lr ignored", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dL_dm, dL_db = mse_gradients(x, y, m, b)
            return m - dL_dm, b - dL_db
        """), "learning rate is ignored"),
    ("gradient_descent_step", "db without factor 2", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            residual = m * x + b - y
            dL_dm = (2 * residual * x).mean().item()
            dL_db = residual.mean().item()
            return m - lr * dL_dm, b - lr * dL_db
        """), "factor 2 is missing from dl/db"),
    ("gradient_descent_step", "both gradients without factor 2", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            residual = m * x + b - y
            dL_dm = (residual * x).mean().item()
            dL_db = residual.mean().item()
            return m - lr * dL_dm, b - lr * dL_db
        """), "the factor 2 is missing (d/dm"),
    ("gradient_descent_step", "gradients summed over the points", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            residual = m * x + b - y
            dL_dm = (2 * residual * x).sum().item()
            dL_db = (2 * residual).sum().item()
            return m - lr * dL_dm, b - lr * dL_db
        """), "summed instead of averaged"),
    ("gradient_descent_step", "hard-coded lr 1e-4", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dL_dm, dL_db = mse_gradients(x, y, m, b)
            return m - 1e-4 * dL_dm, b - 1e-4 * dL_db
        """), "the lr argument is ignored"),
    ("gradient_descent_step", "hard-coded story lr 0.1", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            lr = 0.1  # the rate that worked in the story
            dL_dm, dL_db = mse_gradients(x, y, m, b)
            return m - lr * dL_dm, b - lr * dL_db
        """), "the lr argument is ignored"),
    ("gradient_descent", "loss recorded after the step", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            for _ in range(steps):
                m, b = gradient_descent_step(x, y, m, b, lr)
                losses.append(mse_loss(y, m * x + b))
            return m, b, losses
        """), "recorded after the update"),
    ("gradient_descent", "only one step kept", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            for _ in range(steps):
                losses.append(mse_loss(y, m * x + b))
                new_m, new_b = gradient_descent_step(x, y, m, b, lr)
            return new_m, new_b, losses
        """), "only one step"),
    ("autograd_gradients", "analytic, no autograd", _src("""
        def autograd_gradients(x, y, m, b):
            residual = m * x + b - y
            return (2 * residual * x).mean().item(), (2 * residual).mean().item()
        """), "not from loss.backward()"),
    ("autograd_gradients", "analytic gradients and a throwaway backward()", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(float(m), requires_grad=True)
            (m_t * 2).backward()  # autograd "was used"
            residual = m * x + b - y
            return (2 * residual * x).mean().item(), (2 * residual).mean().item()
        """), "not from loss.backward()"),
    ("autograd_gradients", "torch.autograd.grad instead of backward()", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(m, requires_grad=True)
            b_t = torch.tensor(b, requires_grad=True)
            loss = torch.mean((m_t * x + b_t - y) ** 2)
            dm, db = torch.autograd.grad(loss, [m_t, b_t])
            return float(dm), float(db)
        """), "not from loss.backward()"),
    ("autograd_gradients", "autograd on a detached copy of x", _src("""
        def autograd_gradients(x, y, m, b):
            x = x.detach().clone()
            m_t = torch.tensor(float(m), requires_grad=True)
            b_t = torch.tensor(float(b), requires_grad=True)
            loss = ((m_t * x + b_t - y) ** 2).mean()
            loss.backward()
            return m_t.grad.item(), b_t.grad.item()
        """), "not from loss.backward()"),
    ("autograd_gradients", "forged backward counter found through the frames", _src("""
        import sys
        def autograd_gradients(x, y, m, b):
            frame = sys._getframe()
            while frame is not None:
                for value in list(frame.f_locals.values()):
                    if isinstance(value, dict) and "backward" in value:
                        value["backward"] = 1
                frame = frame.f_back
            residual = m * x + b - y
            return (2 * residual * x).mean().item(), (2 * residual).mean().item()
        """), "not from loss.backward()"),
    ("autograd_gradients", "half the loss", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(float(m), requires_grad=True)
            b_t = torch.tensor(float(b), requires_grad=True)
            loss = ((m_t * x + b_t - y) ** 2).mean() / 2
            loss.backward()
            return m_t.grad.item(), b_t.grad.item()
        """), "the factor 2 is missing"),
    ("autograd_gradients", "summed loss", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(float(m), requires_grad=True)
            b_t = torch.tensor(float(b), requires_grad=True)
            loss = ((m_t * x + b_t - y) ** 2).sum()
            loss.backward()
            return m_t.grad.item(), b_t.grad.item()
        """), "summed instead of averaged"),
]

CORRECT: list[tuple[str, str, str]] = [
    ("mse_loss", "plain python sum over len", _src("""
        def mse_loss(y_true, y_pred):
            t = y_true.reshape(-1).tolist()
            p = y_pred.reshape(-1).tolist()
            return sum((a - b) ** 2 for a, b in zip(t, p)) / len(t)
        """)),
    ("mse_loss", "torch.mean of flattened, 0-d tensor", _src("""
        def mse_loss(y_true, y_pred):
            diff = y_true.flatten() - y_pred.flatten()
            return torch.mean(diff * diff)
        """)),
    ("mse_loss", "view and pow, sum over numel", _src("""
        def mse_loss(y_true, y_pred):
            squared = (y_pred.view(-1) - y_true.view(-1)).pow(2)
            return float(squared.sum() / squared.numel())
        """)),
    ("mse_loss", "loop with float()", _src("""
        def mse_loss(y_true, y_pred):
            total = 0.0
            n = y_true.numel()
            for t, p in zip(y_true.reshape(n), y_pred.reshape(n)):
                total += (float(t) - float(p)) ** 2
            return total / n
        """)),
    ("mse_gradients", "plain python loops", _src("""
        def mse_gradients(x, y, m, b):
            xs = [float(v) for v in x.reshape(-1)]
            ys = [float(v) for v in y.reshape(-1)]
            n = len(xs)
            dm = sum(2 * (m * xi + b - yi) * xi for xi, yi in zip(xs, ys)) / n
            db = sum(2 * (m * xi + b - yi) for xi, yi in zip(xs, ys)) / n
            return dm, db
        """)),
    ("mse_gradients", "2 * torch.mean, 0-d tensors", _src("""
        def mse_gradients(x, y, m, b):
            error = (m * x + b) - y
            return 2 * torch.mean(error * x), 2 * torch.mean(error)
        """)),
    ("gradient_descent_step", "gradients inline, list return", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            r = m * x + b - y
            grad_m = float((2 * r * x).mean())
            grad_b = float((2 * r).mean())
            return [m - lr * grad_m, b - lr * grad_b]
        """)),
    ("gradient_descent_step", "tuple unpacking update", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            grads = mse_gradients(x, y, m, b)
            m, b = m - lr * grads[0], b - lr * grads[1]
            return m, b
        """)),
    ("gradient_descent", "inline loss, while loop", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            i = 0
            while i < steps:
                losses.append(((m * x + b - y) ** 2).mean().item())
                m, b = gradient_descent_step(x, y, m, b, lr)
                i += 1
            return m, b, losses
        """)),
    ("gradient_descent", "own update with mse_gradients", _src("""
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
    ("autograd_gradients", "backward() on a float64 loss", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(m, dtype=torch.float64, requires_grad=True)
            b_t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
            loss = torch.mean((m_t * x.double() + b_t - y.double()) ** 2)
            loss.backward()
            return float(m_t.grad), float(b_t.grad)
        """)),
    ("autograd_gradients", "float64 and requires_grad_", _src("""
        def autograd_gradients(x, y, m, b):
            params = torch.tensor([m, b], dtype=torch.float64).requires_grad_()
            x64, y64 = x.double().reshape(-1), y.double().reshape(-1)
            loss = ((params[0] * x64 + params[1] - y64) ** 2).sum() / x64.numel()
            loss.backward()
            return params.grad[0], params.grad[1]
        """)),
    ("mse_gradients", "one stacked (2,) tensor", _src("""
        def mse_gradients(x, y, m, b):
            residual = (m * x + b - y).reshape(-1)
            return torch.stack([(2 * residual * x.reshape(-1)).mean(), (2 * residual).mean()])
        """)),
    ("gradient_descent_step", "tensors instead of floats", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            r = m * x + b - y
            return m - lr * (2 * r * x).mean(), b - lr * (2 * r).mean()
        """)),
    ("gradient_descent", "tensors instead of floats", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            m, b = torch.tensor(m, dtype=x.dtype), torch.tensor(b, dtype=x.dtype)
            for _ in range(steps):
                r = m * x + b - y
                losses.append((r ** 2).mean())
                m, b = m - lr * (2 * r * x).mean(), b - lr * (2 * r).mean()
            return m, b, torch.stack(losses) if losses else torch.zeros(0)
        """)),
    ("mse_loss", "nn.MSELoss", _src("""
        def mse_loss(y_true, y_pred):
            return torch.nn.MSELoss()(y_pred.reshape(-1), y_true.reshape(-1)).item()
        """)),
    ("mse_loss", "F.mse_loss imported directly", _src("""
        from torch.nn.functional import mse_loss as library_mse
        def mse_loss(y_true, y_pred):
            return library_mse(y_pred.reshape(-1), y_true.reshape(-1)).item()
        """)),
]

SAMPLE_MISTAKES = {
    "mse_loss": _src("""
        def mse_loss(y_true, y_pred):
            return ((y_pred.reshape(-1) - y_true.reshape(-1)) ** 2).sum().item()
        """),
    "gradient_descent_step": _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dm, _ = mse_gradients(x, y, m, b)
            m = m - lr * dm
            _, db = mse_gradients(x, y, m, b)
            return m, b - lr * db
        """),
}
SAMPLE_LOOP = "gradient_descent"
