"""Regenerate samples/: a small class of submissions for the demo and the benchmark.

    python scripts/make_samples.py

alice: the reference answers. bob: partly wrong (named mistakes). carol: unanswered.
dave: an infinite loop at the top level and inside one function (times out).
"""

from __future__ import annotations

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.notebook.fill import fill, solution_answers, write

WRONG = {
    "01-linear-regression": {
        "fit_least_squares": '''def fit_least_squares(x, y):
    x, y = x.reshape(-1), y.reshape(-1)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    return float(y.mean() - slope * x.mean()), float(slope)  # swapped by mistake
''',
        "train_model": '''def train_model(model, x, y, lr, epochs):
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(x), y)
        loss.backward()  # zero_grad() forgotten
        optimizer.step()
        losses.append(loss.item())
    return losses
''',
    },
    "02-gradient-descent": {
        "mse_loss": '''def mse_loss(y_true, y_pred):
    return ((y_pred.reshape(-1) - y_true.reshape(-1)) ** 2).sum().item()
''',
        "gradient_descent_step": '''def gradient_descent_step(x, y, m, b, lr):
    dm, _ = mse_gradients(x, y, m, b)
    m = m - lr * dm
    _, db = mse_gradients(x, y, m, b)
    return m, b - lr * db
''',
    },
}

LOOPING = {"01-linear-regression": "predict", "02-gradient-descent": "gradient_descent"}


def main() -> None:
    for assignment in ASSIGNMENTS.values():
        folder = KIT_ROOT / "samples" / assignment.id
        reference = solution_answers(assignment)
        write(fill(assignment, reference), folder / "alice.ipynb")
        write(fill(assignment, {**reference, **WRONG[assignment.id]}), folder / "bob.ipynb")
        write(fill(assignment, {}), folder / "carol.ipynb")
        name = LOOPING[assignment.id]
        looping = reference[name].split("### BEGIN SOLUTION")[0].rstrip() + "\n    while True:\n        pass\n"
        write(fill(assignment, {**reference, name: looping}, extra_cells=["while True:\n    pass\n"]),
              folder / "dave.ipynb")
        print(f"wrote {folder.relative_to(KIT_ROOT)}/{{alice,bob,carol,dave}}.ipynb")


if __name__ == "__main__":
    main()
