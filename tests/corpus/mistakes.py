"""Typical wrong answers, each with the verdict and the mistake the grader's feedback should name.

``MISTAKES`` holds ``(assignment id, question id, case name, answer cell source, expected)``.
Every case loses points on its question, and its self-check (the public checks, run in the
student's kernel) already fails, except a hard-coded answer. ``expected`` is

* a lowercase substring of the ``mistake`` of at least one failing check of that question
  (the names come from the variants in ``autograder/checks/reference.py`` and the
  ``mistake`` arguments of the check modules);
* ``UNNAMED`` (``""``) for a wrong answer that no known slip explains: it loses points, and
  the feedback says what is wrong without naming a cause;
* ``HARD_CODED`` (``None``) for an answer hard-coded for the public inputs: it passes the
  public checks (the self-check is green) but loses every hidden check of its question.

Each source is a complete answer cell, as a student would type it; the other answers of
the notebook stay the reference ones (see ``tests/test_corpus.py``).
"""

from __future__ import annotations

from textwrap import dedent

from autograder.checks import reference as ref
from autograder.selfcheck.public.gradient_descent import LINE, X_EXAMPLE, Y_PRED, Y_TRUE
from autograder.selfcheck.public.linear_regression import EXPECTED, HOURS, SCORES

EXPECTED_TRAIN = EXPECTED["train"]

A1 = "01-linear-regression"
A2 = "02-gradient-descent"
HARD_CODED = None
UNNAMED = ""

# What a student who hard-codes answers would paste: the course data's results, computed once.
COURSE_FIT = ref.least_squares(HOURS, SCORES)
EXAMPLE_MSE = ref.mse(Y_TRUE, Y_PRED)
EXAMPLE_GRADIENTS = ref.gradients(X_EXAMPLE, Y_TRUE, *LINE)
COURSE_LOSSES = EXPECTED_TRAIN["losses"]


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


MISTAKES: list[tuple[str, str, str, str, str | None]] = [
    # --- 01-linear-regression ------------------------------------------------------------
    (A1, "to_column_tensors", "x and y swapped", _src("""
        def to_column_tensors(hours, scores):
            x = torch.tensor(hours, dtype=torch.float32).reshape(-1, 1)
            y = torch.tensor(scores, dtype=torch.float32).reshape(-1, 1)
            return y, x
        """), "x and y are swapped"),
    (A1, "to_column_tensors", "flat tensors, not columns", _src("""
        def to_column_tensors(hours, scores):
            return torch.tensor(hours, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32)
        """), "not a column"),
    (A1, "to_column_tensors", "integer dtype kept", _src("""
        def to_column_tensors(hours, scores):
            return torch.tensor(hours).reshape(-1, 1), torch.tensor(scores).reshape(-1, 1)
        """), "wrong dtype"),
    (A1, "to_column_tensors", "hard-coded course data", _src(f"""
        def to_column_tensors(hours, scores):
            x = torch.tensor({[[float(h)] for h in HOURS]})
            y = torch.tensor({[[float(s)] for s in SCORES]})
            return x, y
        """), HARD_CODED),
    (A1, "predict", "m and b swapped", _src("""
        def predict(x, m, b):
            return b * x + m
        """), "m and b are swapped"),
    (A1, "fit_least_squares", "slope and intercept swapped", _src("""
        def fit_least_squares(x, y):
            x = x.reshape(-1).double()
            y = y.reshape(-1).double()
            dx = x - x.mean()
            slope = (dx * (y - y.mean())).sum() / (dx ** 2).sum()
            intercept = y.mean() - slope * x.mean()
            return intercept.item(), slope.item()
        """), "slope and intercept are swapped"),
    (A1, "fit_least_squares", "hard-coded course constants", _src(f"""
        def fit_least_squares(x, y):
            # computed once on the course data
            return {COURSE_FIT[0]!r}, {COURSE_FIT[1]!r}
        """), HARD_CODED),
    (A1, "plot_regression", "no legend", _src("""
        def plot_regression(x, y, m, b):
            xs = x.reshape(-1).tolist()
            fig, ax = plt.subplots()
            ax.scatter(xs, y.reshape(-1).tolist())
            ax.plot(sorted(xs), [m * v + b for v in sorted(xs)], color="red")
            ax.set_xlabel("Study hours")
            ax.set_ylabel("Exam score")
            return fig, ax
        """), "no legend"),
    (A1, "plot_regression", "line of the course model, not m and b", _src("""
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
    (A1, "plot_regression", "no line drawn", _src("""
        def plot_regression(x, y, m, b):
            fig, ax = plt.subplots()
            ax.scatter(x.reshape(-1).tolist(), y.reshape(-1).tolist(), label="data")
            ax.scatter(x.reshape(-1).tolist(), (m * x + b).reshape(-1).tolist(), label="model")
            ax.set_xlabel("Study hours")
            ax.set_ylabel("Exam score")
            ax.legend()
            return fig, ax
        """), "no line"),
    (A1, "plot_regression", "no axis labels", _src("""
        def plot_regression(x, y, m, b):
            xs = x.reshape(-1).tolist()
            fig, ax = plt.subplots()
            ax.scatter(xs, y.reshape(-1).tolist(), label="data")
            ax.plot(sorted(xs), [m * v + b for v in sorted(xs)], color="red", label="model")
            ax.legend()
            return fig, ax
        """), "axis labels"),
    (A1, "train_model", "missing zero_grad", _src("""
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
    (A1, "train_model", "step before backward", _src("""
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
    (A1, "train_model", "zero_grad between backward and step", _src("""
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
    (A1, "train_model", "loss recorded after the update", _src("""
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
    (A1, "train_model", "sum instead of mean", _src("""
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
    (A1, "train_model", "hard-coded lr", _src("""
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
    (A1, "train_model", "new model created", _src("""
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
    (A1, "train_model", "trains a copy", _src("""
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
    (A1, "train_model", "hard-coded course losses and weights", _src(f"""
        def train_model(model, x, y, lr, epochs):
            with torch.no_grad():
                model.weight.fill_({EXPECTED_TRAIN["params"][0]!r})
                model.bias.fill_({EXPECTED_TRAIN["params"][1]!r})
            return {COURSE_LOSSES!r}
        """), HARD_CODED),
    (A1, "train_model", "never trains (no backward, no step)", _src("""
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
    (A1, "train_model", "Adam", _src("""
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
    (A1, "train_model", "SGD with momentum", _src("""
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
    (A1, "train_model", "per-sample SGD", _src("""
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
    (A1, "train_model", "mini-batches of two", _src("""
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
    (A1, "train_model", "losses keep their graph", _src("""
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
    (A1, "plot_regression", "line emptied after drawing", _src("""
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
    (A1, "plot_regression", "line over part of the data", _src("""
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
    (A1, "plot_regression", "same label on both axes", _src("""
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

    # --- 02-gradient-descent -------------------------------------------------------------
    (A2, "mse_loss", "sum instead of mean", _src("""
        def mse_loss(y_true, y_pred):
            return ((y_pred.reshape(-1) - y_true.reshape(-1)) ** 2).sum().item()
        """), "sum of squared errors"),
    (A2, "mse_loss", "missing square (true - pred)", _src("""
        def mse_loss(y_true, y_pred):
            return (y_true.reshape(-1) - y_pred.reshape(-1)).mean().item()
        """), "square is missing"),
    (A2, "mse_loss", "missing square (pred - true)", _src("""
        def mse_loss(y_true, y_pred):
            return (y_pred.reshape(-1) - y_true.reshape(-1)).mean().item()
        """), "square is missing"),
    (A2, "mse_loss", "rmse", _src("""
        def mse_loss(y_true, y_pred):
            return torch.sqrt(((y_pred.reshape(-1) - y_true.reshape(-1)) ** 2).mean()).item()
        """), "root mean squared error"),
    (A2, "mse_loss", "mean absolute error", _src("""
        def mse_loss(y_true, y_pred):
            return (y_pred.reshape(-1) - y_true.reshape(-1)).abs().mean().item()
        """), "mean absolute error"),
    (A2, "mse_loss", "column against flat broadcasts", _src("""
        def mse_loss(y_true, y_pred):
            return ((y_pred - y_true) ** 2).mean().item()
        """), "broadcasts"),
    (A2, "mse_loss", "return 0.0", _src("""
        def mse_loss(y_true, y_pred):
            return 0.0
        """), UNNAMED),
    (A2, "mse_loss", "hard-coded example value", _src(f"""
        def mse_loss(y_true, y_pred):
            return {EXAMPLE_MSE!r}
        """), HARD_CODED),
    (A2, "mse_gradients", "missing factor 2", _src("""
        def mse_gradients(x, y, m, b):
            residual = m * x + b - y
            return (residual * x).mean().item(), residual.mean().item()
        """), "factor 2 is missing"),
    (A2, "mse_gradients", "wrong sign", _src("""
        def mse_gradients(x, y, m, b):
            error = y - (m * x + b)
            return (2 * error * x).mean().item(), (2 * error).mean().item()
        """), "sign is wrong"),
    (A2, "mse_gradients", "summed over the points", _src("""
        def mse_gradients(x, y, m, b):
            residual = m * x + b - y
            return (2 * residual * x).sum().item(), (2 * residual).sum().item()
        """), "summed instead of averaged"),
    (A2, "mse_gradients", "dm and db swapped", _src("""
        def mse_gradients(x, y, m, b):
            residual = m * x + b - y
            return (2 * residual).mean().item(), (2 * residual * x).mean().item()
        """), "are swapped"),
    (A2, "mse_gradients", "hard-coded example gradients", _src(f"""
        def mse_gradients(x, y, m, b):
            return {EXAMPLE_GRADIENTS[0]!r}, {EXAMPLE_GRADIENTS[1]!r}
        """), HARD_CODED),
    (A2, "gradient_descent_step", "sequential update", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dL_dm, _ = mse_gradients(x, y, m, b)
            m = m - lr * dL_dm
            _, dL_db = mse_gradients(x, y, m, b)
            b = b - lr * dL_db
            return m, b
        """), "the update is sequential"),
    (A2, "gradient_descent_step", "step uphill", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dL_dm, dL_db = mse_gradients(x, y, m, b)
            return m + lr * dL_dm, b + lr * dL_db
        """), "goes uphill"),
    (A2, "gradient_descent_step", "lr ignored", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dL_dm, dL_db = mse_gradients(x, y, m, b)
            return m - dL_dm, b - dL_db
        """), "learning rate is ignored"),
    (A2, "gradient_descent_step", "db without factor 2", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            residual = m * x + b - y
            dL_dm = (2 * residual * x).mean().item()
            dL_db = residual.mean().item()
            return m - lr * dL_dm, b - lr * dL_db
        """), "factor 2 is missing from dl/db"),
    (A2, "gradient_descent_step", "hard-coded lr 1e-4", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            dL_dm, dL_db = mse_gradients(x, y, m, b)
            return m - 1e-4 * dL_dm, b - 1e-4 * dL_db
        """), "the lr argument is ignored"),
    (A2, "gradient_descent_step", "hard-coded story lr 0.1", _src("""
        def gradient_descent_step(x, y, m, b, lr):
            lr = 0.1  # the rate that worked in the story
            dL_dm, dL_db = mse_gradients(x, y, m, b)
            return m - lr * dL_dm, b - lr * dL_db
        """), "the lr argument is ignored"),
    (A2, "gradient_descent", "loss recorded after the step", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            for _ in range(steps):
                m, b = gradient_descent_step(x, y, m, b, lr)
                losses.append(mse_loss(y, m * x + b))
            return m, b, losses
        """), "recorded after its step"),
    (A2, "gradient_descent", "only one step kept", _src("""
        def gradient_descent(x, y, m, b, lr, steps):
            losses = []
            for _ in range(steps):
                losses.append(mse_loss(y, m * x + b))
                new_m, new_b = gradient_descent_step(x, y, m, b, lr)
            return new_m, new_b, losses
        """), "only one step"),
    (A2, "autograd_gradients", "analytic, no autograd", _src("""
        def autograd_gradients(x, y, m, b):
            residual = m * x + b - y
            return (2 * residual * x).mean().item(), (2 * residual).mean().item()
        """), "not from loss.backward()"),
    (A2, "autograd_gradients", "analytic gradients and a throwaway backward()", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(float(m), requires_grad=True)
            (m_t * 2).backward()  # autograd "was used"
            residual = m * x + b - y
            return (2 * residual * x).mean().item(), (2 * residual).mean().item()
        """), "not from loss.backward()"),
    (A2, "autograd_gradients", "torch.autograd.grad instead of backward()", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(m, requires_grad=True)
            b_t = torch.tensor(b, requires_grad=True)
            loss = torch.mean((m_t * x + b_t - y) ** 2)
            dm, db = torch.autograd.grad(loss, [m_t, b_t])
            return float(dm), float(db)
        """), "not from loss.backward()"),
    (A2, "autograd_gradients", "autograd on a detached copy of x", _src("""
        def autograd_gradients(x, y, m, b):
            x = x.detach().clone()
            m_t = torch.tensor(float(m), requires_grad=True)
            b_t = torch.tensor(float(b), requires_grad=True)
            loss = ((m_t * x + b_t - y) ** 2).mean()
            loss.backward()
            return m_t.grad.item(), b_t.grad.item()
        """), "not from loss.backward()"),
    # Issue 9 #6: analytic gradients that forge the call counter the old check kept in the
    # process running them, found through the stack frames. Nothing is counted any more.
    (A2, "autograd_gradients", "forged backward counter found through the frames", _src("""
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
    (A2, "autograd_gradients", "summed loss", _src("""
        def autograd_gradients(x, y, m, b):
            m_t = torch.tensor(float(m), requires_grad=True)
            b_t = torch.tensor(float(b), requires_grad=True)
            loss = ((m_t * x + b_t - y) ** 2).sum()
            loss.backward()
            return m_t.grad.item(), b_t.grad.item()
        """), "summed instead of averaged"),
]
