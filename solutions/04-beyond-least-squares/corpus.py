"""The corpus of 04-beyond-least-squares: typical mistakes and correct variants (format: docs/authoring.md)."""

from __future__ import annotations

from textwrap import dedent

from autograder.checks.cases import HARD_CODED, UNNAMED

from . import checks

# What a student who hard-codes answers would paste: the course examples' results, computed once.
PUBLIC = checks.public_expected()


def _src(text: str) -> str:
    return dedent(text).strip() + "\n"


def _huber(body: str) -> str:
    return _src("""
        def huber_loss(pred, target, delta):
            r = (pred - target).abs()
            return {body}
        """.replace("{body}", body))


def _gradient(body: str) -> str:
    return _src(f"""
        def numerical_gradient(x, y, w, b, delta, eps):
            def loss(w_, b_):
                return float(huber_loss(w_ * x + b_, y, delta))
            {body}
        """)


# The reference fit_line with one part changed: most slips are one line.
def _fit(*, l1="(pred - y).abs().mean()", huber="huber_loss(pred, y, delta)", zero="optimizer.zero_grad()",
         loop="range(steps)", optimizer="torch.optim.SGD([w, b], lr=lr)") -> str:
    return _src(f"""
        def fit_line(x, y, loss, lr, steps, delta=1.0):
            w = torch.zeros((), requires_grad=True)
            b = torch.zeros((), requires_grad=True)
            optimizer = {optimizer}
            for _ in {loop}:
                pred = w * x + b
                if loss == "mse":
                    value = ((pred - y) ** 2).mean()
                elif loss == "l1":
                    value = {l1}
                else:
                    value = {huber}
                {zero}
                value.backward()
                optimizer.step()
            return w.item(), b.item()
        """)


# A fit by hand-written gradients: the sign of the absolute value's derivative is the usual slip.
def _fit_by_hand(sign: str) -> str:
    return _src(f"""
        def fit_line(x, y, loss, lr, steps, delta=1.0):
            w, b = 0.0, 0.0
            for _ in range(steps):
                r = w * x + b - y
                if loss == "mse":
                    g = 2 * r
                elif loss == "l1":
                    g = {sign}torch.sign(r)
                else:
                    g = torch.where(r.abs() <= delta, r, {sign}delta * torch.sign(r))
                w, b = w - lr * (g * x).mean().item(), b - lr * g.mean().item()
            return w, b
        """)


def _validation(*, split="perm[:n_val], perm[n_val:]", perm="torch.randperm(len(x), generator=generator)",
                fit="x[train]), y[train]", measure="x[val]), y[val]", zero="optimizer.zero_grad()",
                record="losses.append(loss_fn(model({measure}).item())", order="after",
                optimizer="torch.optim.SGD(model.parameters(), lr=lr)") -> str:
    record = record.replace("{measure}", measure)
    before, after = (record, "pass") if order == "before" else ("pass", record)
    return _src(f"""
        def validation_curve(model, x, y, n_val, lr, epochs, generator):
            perm = {perm}
            val, train = {split}
            optimizer = {optimizer}
            loss_fn = torch.nn.MSELoss()
            losses = []
            for _ in range(epochs):
                with torch.no_grad():
                    {before}
                {zero}
                loss = loss_fn(model({fit})
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    {after}
            return losses
        """)


def _plane(body: str) -> str:
    return _src(f"""
        def least_squares_2d(X, y):
            X, y = X.double(), y.double().reshape(-1, 1)
            ones = torch.ones(len(X), 1, dtype=torch.float64)
            {body}
        """)


MISTAKES: list[tuple[str, str, str, str | None]] = [
    ("huber_loss", "quadratic part without 1/2",
     _huber("torch.where(r <= delta, r ** 2, delta * (r - 0.5 * delta)).mean()"), "lacks its 1/2"),
    ("huber_loss", "linear part without the shift",
     _huber("torch.where(r <= delta, 0.5 * r ** 2, delta * r).mean()"), "lacks its shift"),
    ("huber_loss", "linear part without delta",
     _huber("torch.where(r <= delta, 0.5 * r ** 2, r - 0.5 * delta).mean()"), "not multiplied by delta"),
    ("huber_loss", "smooth L1 instead", _src("""
        def huber_loss(pred, target, delta):
            return torch.nn.functional.smooth_l1_loss(pred, target, beta=delta)
        """), "smooth l1"),
    ("huber_loss", "r squared compared with delta",
     _huber("torch.where(r ** 2 <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)).mean()"), "compared with delta"),
    ("huber_loss", "half the squared error", _huber("(0.5 * r ** 2).mean()"), "half the squared error"),
    ("huber_loss", "absolute error", _huber("r.mean()"), "absolute error (l1)"),
    ("huber_loss", "sum instead of mean",
     _huber("torch.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)).sum()"), "sum over the points"),
    ("huber_loss", "returns a Python float",
     _huber("torch.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)).mean().item()"),
     "not differentiable"),
    ("huber_loss", "linear part with delta squared",
     _huber("torch.where(r <= delta, 0.5 * r ** 2, delta ** 2 * (r - 0.5 * delta)).mean()"), UNNAMED),
    ("huber_loss", "hard-coded course values", _src(f"""
        def huber_loss(pred, target, delta):
            value = {PUBLIC["huber_small"]["value"]!r} if delta > 1 else {PUBLIC["huber_course"]["value"]!r}
            return torch.tensor(value) + 0 * pred.sum()
        """), HARD_CODED),
    ("numerical_gradient", "forward difference", _gradient("""l0 = loss(w, b)
            return (loss(w + eps, b) - l0) / eps, (loss(w, b + eps) - l0) / eps"""), "forward difference"),
    ("numerical_gradient", "backward difference", _gradient("""l0 = loss(w, b)
            return (l0 - loss(w - eps, b)) / eps, (l0 - loss(w, b - eps)) / eps"""), "backward difference"),
    ("numerical_gradient", "divided by eps", _gradient(
        """return (loss(w + eps, b) - loss(w - eps, b)) / eps, (loss(w, b + eps) - loss(w, b - eps)) / eps"""),
     "instead of 2 * eps"),
    ("numerical_gradient", "both parameters moved at once", _gradient(
        """g = (loss(w + eps, b + eps) - loss(w - eps, b - eps)) / (2 * eps)
            return g, g"""), "moved at once"),
    ("numerical_gradient", "w not restored", _src("""
        def numerical_gradient(x, y, w, b, delta, eps):
            params = [w, b]
            grads = []
            for i in range(2):
                params[i] += eps
                up = float(huber_loss(params[0] * x + params[1], y, delta))
                params[i] -= 2 * eps
                down = float(huber_loss(params[0] * x + params[1], y, delta))
                grads.append((up - down) / (2 * eps))
            return grads
        """), "not put back"),
    ("numerical_gradient", "swapped", _gradient(
        """grad_b = (loss(w, b + eps) - loss(w, b - eps)) / (2 * eps)
            return grad_b, (loss(w + eps, b) - loss(w - eps, b)) / (2 * eps)"""),
     "swapped"),
    ("numerical_gradient", "delta not passed on", _src("""
        def numerical_gradient(x, y, w, b, delta, eps):
            def loss(w_, b_):
                return float(huber_loss(w_ * x + b_, y, 1.0))
            grad_w = (loss(w + eps, b) - loss(w - eps, b)) / (2 * eps)
            return grad_w, (loss(w, b + eps) - loss(w, b - eps)) / (2 * eps)
        """), "delta is not passed on"),
    ("numerical_gradient", "eps ignored", _gradient(
        """h = 1e-3
            return (loss(w + h, b) - loss(w - h, b)) / (2 * h), (loss(w, b + h) - loss(w, b - h)) / (2 * h)"""),
     UNNAMED),
    ("numerical_gradient", "hard-coded course gradients", _src(f"""
        def numerical_gradient(x, y, w, b, delta, eps):
            return {tuple(PUBLIC["grad_course"]["value"])!r} if w > 0 else {tuple(PUBLIC["grad_small"]["value"])!r}
        """), HARD_CODED),
    ("fit_line", "loss ignored", _fit(l1="((pred - y) ** 2).mean()", huber="((pred - y) ** 2).mean()"),
     "loss argument is ignored"),
    ("fit_line", "L1 gradient sign wrong", _fit_by_hand("-"), "sign of the absolute value's gradient"),
    ("fit_line", "delta not passed on", _fit(huber="huber_loss(pred, y, 1.0)"), "delta is not passed on"),
    ("fit_line", "L1 for Huber", _fit(huber="(pred - y).abs().mean()"), "l1 loss is used where the huber"),
    ("fit_line", "missing zero_grad", _fit(zero="pass"), "gradients accumulate"),
    ("fit_line", "SGD with weight decay", _fit(optimizer="torch.optim.SGD([w, b], lr=lr, weight_decay=0.01)"),
     "weight decay: this is what sgd(..., weight_decay=0.01) does"),
    ("fit_line", "SGD with momentum", _fit(optimizer="torch.optim.SGD([w, b], lr=lr, momentum=0.9)"),
     "sgd with momentum=0.9"),
    ("fit_line", "Adam", _fit(optimizer="torch.optim.Adam([w, b], lr=lr)"), "torch.optim.adam"),
    ("fit_line", "one step too few", _fit(loop="range(steps - 1)"), "one update too few"),
    ("fit_line", "one step too many", _fit(loop="range(steps + 1)"), "one update too many"),
    ("fit_line", "hard-coded story lr", _fit(optimizer="torch.optim.SGD([w, b], lr=0.03)"),
     "the lr argument is ignored"),
    ("fit_line", "L1 as the root of the MSE", _fit(l1="((pred - y) ** 2).mean().sqrt()"), UNNAMED),
    ("fit_line", "hard-coded course lines", _src(f"""
        def fit_line(x, y, loss, lr, steps, delta=1.0):
            return {tuple(PUBLIC["fit_l1"]["value"])!r} if loss == "l1" else {tuple(PUBLIC["fit_huber"]["value"])!r}
        """), HARD_CODED),
    ("validation_curve", "not shuffled", _validation(perm="torch.arange(len(x))"), "not shuffled"),
    ("validation_curve", "validation on the training rows", _validation(measure="x[train]), y[train]"),
     "measured on the training rows"),
    ("validation_curve", "measured before the step", _validation(order="before"), "before the epoch's step"),
    ("validation_curve", "train and validation swapped", _validation(split="perm[n_val:], perm[:n_val]"),
     "swapped"),
    ("validation_curve", "trained on every row", _validation(fit="x), y"), "leak into training"),
    ("validation_curve", "missing zero_grad", _validation(zero="pass"), "zero_grad() is missing"),
    ("validation_curve", "SGD with momentum",
     _validation(optimizer="torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)"), "sgd with momentum=0.9"),
    ("validation_curve", "Adam", _validation(optimizer="torch.optim.Adam(model.parameters(), lr=lr)"),
     "torch.optim.adam"),
    ("validation_curve", "hard-coded story lr", _validation(optimizer="torch.optim.SGD(model.parameters(), lr=0.01)"),
     "the lr argument is ignored"),
    ("validation_curve", "losses with gradients", _validation(
        record="losses.append(loss_fn(model({measure}))", order="after").replace(
        "with torch.no_grad():\n            losses.append", "if True:\n            losses.append"),
     "still requires grad"),
    ("validation_curve", "generator not used", _validation(perm="torch.randperm(len(x))"), UNNAMED),
    ("validation_curve", "trains a copy", _src("""
        import copy
        def validation_curve(model, x, y, n_val, lr, epochs, generator):
            model = copy.deepcopy(model)
            perm = torch.randperm(len(x), generator=generator)
            val, train = perm[:n_val], perm[n_val:]
            optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = torch.nn.functional.mse_loss(model(x[train]), y[train])
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    losses.append(torch.nn.functional.mse_loss(model(x[val]), y[val]).item())
            return losses
        """), "not trained"),
    ("least_squares_2d", "no column of ones", _plane("""w1, w2 = torch.linalg.lstsq(X, y).solution.reshape(-1).tolist()
            return w1, w2, 0.0"""), "through the origin"),
    ("least_squares_2d", "bias first", _plane("""A = torch.cat([ones, X], dim=1)
            return tuple(torch.linalg.lstsq(A, y).solution.reshape(-1).tolist())"""), "bias comes first"),
    ("least_squares_2d", "weights swapped", _plane("""A = torch.cat([X, ones], dim=1)
            w1, w2, b = torch.linalg.lstsq(A, y).solution.reshape(-1).tolist()
            return w2, w1, b"""), "weights are swapped"),
    ("least_squares_2d", "each feature on its own", _src("""
        def least_squares_2d(X, y):
            X, y = X.double(), y.double().reshape(-1)
            weights = []
            for j in range(2):
                x = X[:, j]
                weights.append((((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()).item())
            b = (y.mean() - weights[0] * X[:, 0].mean() - weights[1] * X[:, 1].mean()).item()
            return weights[0], weights[1], b
        """), "on its own"),
    ("least_squares_2d", "y not a column: broadcast to (N, N)", _src("""
        def least_squares_2d(X, y):
            X, y = X.double(), y.double().reshape(-1)
            A = torch.cat([X, torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
            residual_free = torch.linalg.solve(A.T @ A, A.T @ y.mean().expand(len(X)))
            return tuple(residual_free.tolist())
        """), UNNAMED),
    ("least_squares_2d", "hard-coded course plane", _src(f"""
        def least_squares_2d(X, y):
            if X.shape[0] == 8:
                return {tuple(PUBLIC["plane_course"]["value"])!r}
            return {tuple(PUBLIC["plane_small"]["value"])!r}
        """), HARD_CODED),
]

CORRECT: list[tuple[str, str, str]] = [
    ("huber_loss", "two masks, float64 inside", _src("""
        def huber_loss(pred, target, delta):
            r = (pred - target).double()
            small = r.abs() <= delta
            penalty = small * 0.5 * r ** 2 + (~small) * delta * (r.abs() - delta / 2)
            return penalty.mean().to(pred.dtype)
        """)),
    ("huber_loss", "clamp form", _src("""
        def huber_loss(pred, target, delta):
            r = (pred - target).abs()
            q = r.clamp(max=delta)
            return (0.5 * q ** 2 + delta * (r - q)).mean()
        """)),
    ("numerical_gradient", "loop over a parameter list, tensors", _src("""
        def numerical_gradient(x, y, w, b, delta, eps):
            point = torch.tensor([w, b], dtype=torch.float64)
            grads = torch.zeros(2, dtype=torch.float64)
            for i in range(2):
                step = torch.zeros(2, dtype=torch.float64)
                step[i] = eps
                up, down = point + step, point - step
                grads[i] = (huber_loss(up[0].item() * x + up[1].item(), y, delta)
                            - huber_loss(down[0].item() * x + down[1].item(), y, delta)) / (2 * eps)
            return grads
        """)),
    ("numerical_gradient", "float64 data", _src("""
        def numerical_gradient(x, y, w, b, delta, eps):
            x, y = x.double(), y.double()
            f = lambda w_, b_: huber_loss(w_ * x + b_, y, delta).item()
            return [(f(w + eps, b) - f(w - eps, b)) / (2 * eps), (f(w, b + eps) - f(w, b - eps)) / (2 * eps)]
        """)),
    ("fit_line", "hand-written gradients", _fit_by_hand("")),
    ("fit_line", "torch losses, parameters as a tensor", _src("""
        def fit_line(x, y, loss, lr, steps, delta=1.0):
            p = torch.zeros(2, requires_grad=True)
            losses = {"mse": torch.nn.MSELoss(), "l1": torch.nn.L1Loss(),
                      "huber": lambda a, t: huber_loss(a, t, delta)}
            for _ in range(steps):
                value = losses[loss](p[0] * x + p[1], y)
                value.backward()
                with torch.no_grad():
                    p -= lr * p.grad
                    p.grad.zero_()
            return p.detach()
        """)),
    ("validation_curve", "boolean mask, F.mse_loss, a tensor of losses", _src("""
        def validation_curve(model, x, y, n_val, lr, epochs, generator):
            perm = torch.randperm(x.shape[0], generator=generator)
            is_val = torch.zeros(x.shape[0], dtype=torch.bool)
            is_val[perm[:n_val]] = True
            opt = torch.optim.SGD(model.parameters(), lr)
            out = []
            for _ in range(epochs):
                opt.zero_grad()
                torch.nn.functional.mse_loss(model(x[~is_val]), y[~is_val]).backward()
                opt.step()
                with torch.no_grad():
                    out.append(torch.nn.functional.mse_loss(model(x[is_val]), y[is_val]))
            return torch.stack(out)
        """)),
    ("least_squares_2d", "normal equations with solve", _plane("""A = torch.cat([X, ones], dim=1)
            return tuple(torch.linalg.solve(A.T @ A, A.T @ y).reshape(-1).tolist())""")),
    ("least_squares_2d", "float32 lstsq", _src("""
        def least_squares_2d(X, y):
            A = torch.cat([X, torch.ones(X.shape[0], 1)], dim=1)
            return torch.linalg.lstsq(A, y.reshape(-1, 1)).solution.reshape(-1)
        """)),
]

SAMPLE_MISTAKES = {
    "huber_loss": _huber("torch.where(r <= delta, 0.5 * r ** 2, delta * r).mean()"),
    "fit_line": _fit(zero="pass"),
}
SAMPLE_LOOP = "least_squares_2d"
