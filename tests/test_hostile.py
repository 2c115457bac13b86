"""Hostile submissions: nothing escapes, nothing hangs, nothing is lost.

Every case is a blank (stub) notebook plus hostile code, graded in one batch beside honest
submissions through the real `dlbasics grade` command. A hostile case earns nothing, the
honest ones keep full marks, no file outside the output folder changes, the batch ends.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import grade_notebooks

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.grading.grade import load_template

ASSIGNMENT = "01-linear-regression"
FULL = sum(load_template(ASSIGNMENTS[ASSIGNMENT]).points.values())
SECRET_TARGETS = ["solutions/01-linear-regression/linear_regression.ipynb", "solutions/01-linear-regression/checks.py",
                  "solutions/01-linear-regression/reference.py"]

# Code placed at the top level of a stub notebook (cell after setup).
TOP_LEVEL = {
    "monkeypatch-builtins": "import builtins, math, torch, numpy\nbuiltins.abs = lambda x: 0\n"
                            "builtins.isinstance = lambda *a: True\nbuiltins.float = lambda *a: 7.0\n"
                            "builtins.type = lambda *a: float\n"
                            "math.isfinite = lambda x: True\ntorch.allclose = lambda *a, **k: True\n"
                            "numpy.allclose = lambda *a, **k: True\n",
    "frame-walk": "import sys, gc, inspect\nframes = [f for f in gc.get_objects() if inspect.isframe(f)]\n"
                  "f = sys._getframe()\nwhile f: f.f_globals.setdefault('EXPECTED', {{}}); f = f.f_back\n",
    "ignore-signals": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                      "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass\n",
    "read-secrets": "import pathlib\nleak = [p.read_text() for p in map(pathlib.Path, {targets!r}) if p.exists()]\n"
                    "assert not leak, 'read a secret'\n",
    "write-everywhere": "import pathlib\nfor p in {paths!r}:\n    try: pathlib.Path(p).write_text('pwned')\n"
                        "    except Exception: pass\n",
    "network": "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\ns.sendall(b'leak')\n",
    "sys-exit": "import sys\nsys.exit(0)\n",
    "os-exit": "import os\nos._exit(0)\n",
    "kill-parent": "import os\nos.kill(os.getppid(), 9)\n",
    "keyboard-interrupt": "raise KeyboardInterrupt\n",
    "segfault": "import ctypes\nctypes.string_at(0)\n",
    "infinite-loop": "while True:\n    pass\n",
    "memory-bomb": "x = bytearray(8 * 1024 ** 3)\n",
    "fork-storm": "import os, time\nfor _ in range(500):\n    try:\n        if os.fork() == 0:\n"
                  "            time.sleep(2); os._exit(0)\n    except OSError: break\n",
    "print-100mb": "import sys\nfor _ in range(100):\n    print('x' * 1_000_000)\n",
    "write-1gb": "with open('big.bin', 'wb') as f:\n    for _ in range(1024):\n        f.write(b'0' * 2**20)\n",
    "sleep": "import time\ntime.sleep(600)\n",
    "forged-results": "import json, pathlib\nfor p in {paths!r}:\n"
                      "    try: pathlib.Path(p).parent.mkdir(parents=True, exist_ok=True); "
                      "pathlib.Path(p).write_text(json.dumps({{'score': 100}}))\n    except Exception: pass\n",
    "plant-modules": "import pathlib, site, sys\nfor d in set(sys.path + [site.getusersitepackages(), '.']):\n"
                     "    for n in ('sitecustomize.py', 'torch.py', 'conftest.py', 'evil.pth'):\n"
                     "        try: (pathlib.Path(d or '.') / n).write_text('raise SystemExit')\n"
                     "        except Exception: pass\n",
}

# Whole answers that lie to the grader instead of computing.
LYING = {
    "lying-float": ("predict", "class Liar(float):\n    def __eq__(self, o): return True\n"
                    "    def __sub__(self, o): return 0.0\n    def __abs__(self): return 0.0\n"
                    "    def __lt__(self, o): return True\n    def __float__(self): return 7.0\n"
                    "def predict(x, m, b):\n    return Liar(12345.0)\n"),
    "raises-systemexit": ("predict", "def predict(x, m, b):\n    raise SystemExit(0)\n"),
    "raises-keyboardinterrupt": ("train_model", "def train_model(model, x, y, lr, epochs):\n"
                                                "    raise KeyboardInterrupt\n"),
    "loop-in-function": ("train_model", "def train_model(model, x, y, lr, epochs):\n    while True:\n        pass\n"),
}


def _fingerprint(*roots: Path) -> dict[str, str]:
    """Hashes of every file a submission could want to change: the kit and the submissions."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for root in roots for p in root.rglob("*")
            if p.is_file() and not {".venv", "__pycache__", ".git"} & set(p.parts)}


KIT_PARTS = [KIT_ROOT / part for part in ("autograder", "solutions", "assignments", "samples")]


@pytest.fixture(scope="module")
def listener():
    """A TCP listener on 127.0.0.1 that records whether anything connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                hits.append(connection.recv(100))
                connection.close()
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory, listener):
    from autograder.checks import ASSIGNMENTS
    from autograder.notebook.fill import fill, solution_answers

    assignment = ASSIGNMENTS[ASSIGNMENT]
    work = tmp_path_factory.mktemp("hostile")
    out = work / "out"
    victims = [str(KIT_ROOT / t) for t in SECRET_TARGETS] + [str(work / "submissions" / "honest-1.ipynb"),
                                                             str(out / "grades.csv"), str(out / "gradebook.sqlite")]
    forged = [str(out / "feedback" / "honest-1" / "results.json"),
              str(out / "feedback" / "forged-results" / "results.json")]
    port, hits = listener
    before: dict[str, str] = {}
    notebooks = {"honest-1": fill(assignment, solution_answers(assignment)),
                 "honest-2": fill(assignment, solution_answers(assignment))}
    for name, code in TOP_LEVEL.items():
        source = code.format(targets=[str(KIT_ROOT / t) for t in SECRET_TARGETS], paths=victims if name !=
                             "forged-results" else forged, port=port)
        notebook = fill(assignment, {})
        notebook["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                     "id": f"hostile-{name}", "source": source})
        notebooks[name] = notebook
    for name, (question, source) in LYING.items():
        notebooks[name] = fill(assignment, {question: source})
    started = time.monotonic()
    run = grade_notebooks(ASSIGNMENT, notebooks, work, "--jobs", "2", timeout=900,
                          before_grading=lambda: before.update(_fingerprint(*KIT_PARTS, work / "submissions")))
    return run, time.monotonic() - started, before, _fingerprint(*KIT_PARTS, work / "submissions"), hits, notebooks


def test_every_submission_has_a_row_and_honest_ones_keep_full_marks(batch):
    run, _, _, _, _, notebooks = batch
    assert set(run.rows) == set(notebooks)
    for honest in ("honest-1", "honest-2"):
        assert float(run.rows[honest]["automatic"]) == FULL


@pytest.mark.parametrize("name", [*TOP_LEVEL, *LYING])
def test_hostile_submission_earns_nothing_and_says_why(batch, name):
    run, *_ = batch
    result = run.results[name]
    assert result.auto_total == 0, [c for c in result.checks if c.points]
    assert float(run.rows[name]["total"]) == 0
    statuses = {q.status for q in result.questions.values()} | {result.status}
    assert statuses - {"graded"}, "no meaningful status"


def test_nothing_outside_the_output_folder_changed(batch):
    run, _, before, after, hits, _ = batch
    assert before == after
    assert hits == [], "a submission reached the network"
    assert float(run.rows["honest-1"]["automatic"]) == FULL
    forged = run.gradescope("honest-1")
    assert forged["score"] == FULL


def test_each_case_ends_within_its_own_limit_plus_a_few_seconds(batch):
    from autograder.sandbox.pool import Limits

    run, *_ = batch
    limits = Limits()
    # The longest a single case may legitimately take: one cell or call limit, the 2 s grace
    # for a child that blocks its timer, and a few seconds of slack for a loaded machine.
    bound = max(limits.cell_seconds, limits.call_seconds) + 2 + 5
    slow = {name: r.seconds for name, r in run.results.items() if r.seconds > bound}
    assert not slow, f"cases over {bound} s: {slow}"


def test_the_batch_finished_in_bounded_time(batch):
    _, seconds, *_ = batch
    # 22 submissions on 2 workers; each resource case is bounded by its own limits (5 s per
    # cell, 5 s per call, the shared budgets of added cells and of calls); far below the sum of what they asked for.
    assert seconds < 300
