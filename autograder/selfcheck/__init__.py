"""Self-check for students: ``check("predict")`` runs the public checks in your own kernel.

This package is what students receive next to their notebook. It holds the check API and
the *public* checks only, with expected values on the course's own example data; no
reference solution, no hidden check. The grader runs the same public checks, plus hidden
ones on random inputs, on your submission in an isolated process.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import pkgutil
import sys

from . import api
from .calling import invoke
from .display import figures_not_shown, notes_of, show

# One call may take this long in your kernel before it is interrupted: generous for the
# course's tiny data (every reference call takes milliseconds), short enough not to hang.
CALL_SECONDS = 10.0


class LocalStudent(api.Student):
    """Calls functions defined in the running notebook (or any namespace).

    Each call starts from the random seeds the grader's sandbox uses (random, NumPy and torch
    seeded with 0), so an answer that draws random numbers gets the same verdict here as in
    grading; the kernel's own random state is restored afterwards.
    """

    def __init__(self, namespace: dict | None = None, seconds: float = CALL_SECONDS):
        self.namespace = namespace if namespace is not None else _user_namespace()
        self.seconds = seconds

    def request(self, name, args, kwargs, render):
        pyplot = sys.modules.get("matplotlib.pyplot")
        figures_before = set(pyplot.get_fignums()) if pyplot else set()
        with _seeded(), figures_not_shown() as displayed:
            reply = invoke(self.namespace, name, args, kwargs, render=render, seconds=self.seconds)
        if reply.get("ok") and displayed and "shown" not in reply:
            reply["shown"] = displayed[0]  # display() is seen only here, in IPython (plt.show() by invoke)
        pyplot = sys.modules.get("matplotlib.pyplot")
        for number in set(pyplot.get_fignums()) - figures_before if pyplot else ():
            pyplot.close(number)  # a check's figure must not show up under the student's cell
        # Round-trip through JSON so the checks see exactly what the grader would see.
        return json.loads(json.dumps(reply))


@contextlib.contextmanager
def _seeded():
    """Seed random, NumPy and torch with 0 (as the grader does before every call), then restore them."""
    import random

    numpy = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    saved = (random.getstate(), numpy.random.get_state() if numpy else None,
             torch.random.get_rng_state() if torch else None)
    random.seed(0)
    if numpy:
        numpy.random.seed(0)
    if torch:
        torch.manual_seed(0)
    try:
        yield
    finally:
        random.setstate(saved[0])
        if numpy:
            numpy.random.set_state(saved[1])
        if torch:
            torch.random.set_rng_state(saved[2])


def _user_namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    except ImportError:
        pass
    return vars(sys.modules["__main__"])


def public_checks() -> dict[str, list]:
    """Public checks by question id, from every assignment module in ``public/``.

    A student's copy holds its assignment's module as a file; in the kit, the grader loads
    each assignment's ``public_checks.py`` into this package.
    """
    by_question: dict[str, list] = {}
    package = importlib.import_module(f"{__name__}.public")
    names = {info.name for info in pkgutil.iter_modules(package.__path__)}
    names |= {name.rsplit(".", 1)[1] for name in list(sys.modules) if name.startswith(f"{package.__name__}.")}
    for name in sorted(names):
        module = importlib.import_module(f"{package.__name__}.{name}")
        for fn in api.collect(vars(module)):
            by_question.setdefault(fn.question, []).append(fn)
    return by_question


def _run(question: str, namespace: dict | None) -> list[api.CheckResult]:
    checks = public_checks()
    if question not in checks:
        known = ", ".join(sorted(checks))
        raise KeyError(f"no self-check called {question!r}; the questions are: {known}")
    student = LocalStudent(namespace)
    return [api.run_check(fn, student) for fn in checks[question]]


def check(question: str, namespace: dict | None = None) -> None:
    """Run the public checks of ``question`` on your function and show the verdicts.

    Returns nothing, so the cell shows only the verdicts; use ``done(question)`` for a bool.
    """
    show(question, _run(question, namespace))


def done(*questions: str, namespace: dict | None = None) -> bool:
    """True when every named function passes its public checks; otherwise say what to finish."""
    missing, checked = [], []
    for question in questions:
        results = _run(question, namespace)
        if not all(r.status == api.PASSED for r in results):
            missing.append(question)
        checked += results
    if missing:
        print(f"(skipped: {_needs(missing)}, then run this cell again.)")
    for note in notes_of(checked):  # e.g. the figure below is closed or empty because the function showed it itself
        print(f"({api.NOTE}{note})")
    return not missing


def _needs(missing: list[str]) -> str:
    """'this cell needs `a`: finish it until its check passes', in the plural for several."""
    names = [f"`{q}`" for q in missing]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if len(names) == 1:
        return f"this cell needs {listed}: finish it until its check passes"
    return f"this cell needs {listed}: finish them until their checks pass"


def _warm_up() -> None:
    """Pay torch's first-use costs (optimizer, autograd) before the student's first check.

    Runs in a background thread of the student's kernel, touching no random number
    generator, so the notebook's seeded results are unchanged.
    """
    try:
        import torch

        weight = torch.zeros(1, requires_grad=True)
        optimizer = torch.optim.SGD([weight], lr=0.1)
        loss = torch.nn.functional.mse_loss(weight * 2.0, torch.ones(1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    except Exception:
        pass


# Only as the students' own `selfcheck` package: never in the grader, whose worker forks.
if __name__ == "selfcheck" and "torch" in sys.modules:
    import threading

    threading.Thread(target=_warm_up, name="selfcheck-warm-up", daemon=True).start()

__all__ = ["check", "done", "LocalStudent", "public_checks"]
