"""Every line the sandboxed child sends is checked at the boundary, and what is kept is bounded.

The child runs the student's code, and that code can replace ``json.dumps`` in the child (the
function that writes every reply) and so send anything: a list where a dict is read, a value
whose data does not have its claimed shape, a 100 000-deep list, megabytes of text. Each such
submission sits in an otherwise fully answered notebook (so "earns nothing" is not trivially
true), graded through the real ``dlbasics grade`` beside honest neighbours: its row is
``crashed`` with "the submission's process sent a malformed reply", the neighbours keep their
grades, and ``dlbasics grade`` exits 0 (a grader error would make it exit 1). A flood of
messages is cut to a few KB each, and the stored row and results.json stay under the bound.

Breakage each test was watched failing under:
* Session.request: ``reply = replies.call_reply(reply, len(args))`` -> ``pass``: forge-args-missing
  and forge-value-not-dict become ``grader error``, ``dlbasics grade`` exits 1 (the fixture fails).
* Session.__init__: ``self.cells = replies.cells_report(reply, cells)`` -> ``reply.get("cells")``:
  forge-cells-dict is graded instead of crashed.
* _LineReader: ``except (ValueError, RecursionError)`` -> ``except ValueError``: the deep row is a
  grader error, ``dlbasics grade`` exits 1.
* ``cut`` in result.py and in replies.py returning its text uncut: the flood row is over the bound,
  Result.bounded refuses it, the row is a grader error and ``dlbasics grade`` exits 1.
* Result.bounded returning at once: the bounded-result test sees 1 020 767 bytes.
* protocol._plain: ``base.detach(value)`` -> ``value.detach()``: the lying tensor keeps predict's points.
* syscalls.install returning at once: the machine's Shmem rises by 1 280 MiB (memfd + SysV).
* worker.run_job without ``remove_owned``: the reduced-mode neighbour finds /var/tmp/REDUCED-LEAK-...
  (tests/test_reduced_isolation.py).
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import grade_notebooks

from autograder.checks import ASSIGNMENTS
from autograder.grading.grade import load_template
from autograder.grading.intake import student_folder
from autograder.grading.result import MAX_MESSAGE, MAX_RESULT_BYTES
from autograder.sandbox.pool import MALFORMED

ASSIGNMENT = "01-linear-regression"
FULL = sum(load_template(ASSIGNMENTS[ASSIGNMENT]).points.values())

# Replaces the child's json.dumps from a cell: every later line the child writes goes through
# FORGE(message), which returns the text to send instead (or None: send the honest line).
PATCH = """\
import json
_honest_dumps = json.dumps
def _forging_dumps(message, *args, **kwargs):
    forged = FORGE(message)
    return _honest_dumps(message, *args, **kwargs) if forged is None else forged
json.dumps = _forging_dumps
"""

# Each forgery: what the student's json.dumps sends for the messages it touches. Call replies
# are the dicts with an "ok" key; the cell reports are sent once, after the last cell.
FORGERIES = {
    # A list where the grader reads a dict (the error of issue 18).
    "list-reply": 'lambda m: _honest_dumps(["not", "a", "reply"]) if "ok" in m else None',
    # A well-formed reply whose value is a list, not an encoded value.
    "value-not-dict": 'lambda m: _honest_dumps({**m, "value": [1, 2]}) if m.get("ok") else None',
    # A tensor whose data does not have the shape it claims (a check indexes data by shape).
    "shape-lie": ('lambda m: _honest_dumps({**m, "value": {"t": "tensor", "type": "Tensor", "dtype": "float32", '
                  '"shape": [3, 1], "data": [[1.0]], "requires_grad": False}}) if m.get("ok") else None'),
    # Fewer arguments back than were sent (checks read args[0]).
    "args-missing": 'lambda m: _honest_dumps({**m, "args": []}) if m.get("ok") else None',
    # A number a check cannot turn into a float.
    "huge-int": ('lambda m: _honest_dumps({**m, "value": {"t": "int", "type": "int", "v": 10 ** 300}}) '
                 'if m.get("ok") else None'),
    # 100 000 levels of nesting: json's recursion limit, not a grader error.
    "deep": 'lambda m: "[" * 100_000 + "]" * 100_000 if "ok" in m else None',
    # A returned string far beyond what the encoder ever sends.
    "huge-string": ('lambda m: _honest_dumps({**m, "value": {"t": "str", "type": "str", "v": "x" * 4_000_000}}) '
                    'if m.get("ok") else None'),
    # A line beyond the 8 MB the grader reads.
    "huge-line": ('lambda m: _honest_dumps({"ok": False, "kind": "error", "message": "z" * 9_000_000}) '
                  'if "ok" in m else None'),
    # An unknown kind of failure.
    "bad-kind": 'lambda m: _honest_dumps({"ok": False, "kind": "graded", "message": "x"}) if "ok" in m else None',
    # The cell reports: a dict where the list belongs.
    "cells-dict": 'lambda m: _honest_dumps({"cells": {"label": "predict"}}) if "cells" in m else None',
    # A cell report with a list as its status.
    "cells-status": ('lambda m: _honest_dumps({"cells": [{**c, "status": ["ok"]} for c in m["cells"]]}) '
                     'if "cells" in m else None'),
    # The progress report after each cell.
    "cell-done": 'lambda m: _honest_dumps({"cell_done": "all of them"}) if "cell_done" in m else None',
}

# Not malformed, only large: every failing call answers with 4 MB of text (the old grader kept
# it all: a 28 MB gradebook row and results.json).
FLOOD = ('lambda m: _honest_dumps({"ok": False, "kind": "error", "message": "`predict` raised ValueError: "'
         ' + "w" * 4_000_000}) if "ok" in m else None')


def _forger(solution_notebook, forge: str) -> dict:
    return solution_notebook(ASSIGNMENT, extra_cells=[PATCH.replace("FORGE(message)", f"({forge})(message)")])


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    from autograder.notebook.fill import fill, solution_answers

    assignment = ASSIGNMENTS[ASSIGNMENT]

    def answered(extra=()):
        return fill(assignment, solution_answers(assignment), extra_cells=list(extra))

    notebooks = {"a-honest": answered(), "z-honest": answered(), "blank": fill(assignment, {})}
    for name, forge in FORGERIES.items():
        notebooks[f"forge-{name}"] = answered([PATCH.replace("FORGE(message)", f"({forge})(message)")])
    notebooks["flood"] = answered([PATCH.replace("FORGE(message)", f"({FLOOD})(message)")])
    # The grade command's own exit status is checked by grade_notebooks (it must be 0).
    return grade_notebooks(ASSIGNMENT, notebooks, tmp_path_factory.mktemp("forged"), "--jobs", "2", timeout=900)


def test_the_forging_cell_works_when_it_forges_nothing(solution_notebook, tmp_path):
    """The patch itself is harmless: with a forgery that changes nothing, full marks."""
    run = grade_notebooks(ASSIGNMENT, {"noop": _forger(solution_notebook, "lambda m: None")}, tmp_path)
    assert run.results["noop"].auto_total == FULL, run.results["noop"].checks


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_replies_are_the_submissions_crash_not_a_grader_error(forged, name):
    result = forged.results[f"forge-{name}"]
    assert result.status == "crashed", (result.status, result.message)
    assert MALFORMED in result.message, result.message
    assert result.auto_total == 0 and float(forged.rows[f"forge-{name}"]["total"]) == 0
    assert forged.rows[f"forge-{name}"]["status"] == "crashed"


def test_honest_neighbours_of_forgers_keep_their_grades(forged):
    for student in ("a-honest", "z-honest"):
        assert forged.results[student].status == "graded"
        assert forged.results[student].auto_total == FULL, forged.results[student].checks
    assert forged.results["blank"].auto_total == 0
    assert "grader error" not in forged.process.stdout + forged.process.stderr


def test_a_flood_of_messages_is_cut_and_the_stored_row_is_bounded(forged):
    result = forged.results["flood"]
    assert result.status != "grader error" and result.auto_total == 0, result.status
    cut = [c for c in result.checks if "(cut: " in c.message]
    assert cut, "no check message says it was cut"
    assert all(len(c.message) <= MAX_MESSAGE + 1_000 for c in result.checks)
    db = sqlite3.connect(forged.out / "gradebook.sqlite")
    (row,) = db.execute("SELECT result FROM grades WHERE student = 'flood'").fetchone()
    db.close()
    assert len(row.encode()) <= MAX_RESULT_BYTES, len(row)
    results_json = student_folder(forged.out, "flood") / "results.json"
    assert results_json.stat().st_size <= MAX_RESULT_BYTES, results_json.stat().st_size
    assert (forged.out / "grades.csv").stat().st_size < 64 * 1024


def test_the_forged_rows_are_not_reported_as_grader_errors_on_a_rerun(forged):
    """The old grader exited 1 on every later run once a forged row was a grader error."""
    from conftest import run_dlbasics

    process = run_dlbasics("grade", ASSIGNMENT, forged.out.parent / "submissions", "--out", forged.out, "--quiet")
    assert process.returncode == 0


# A tensor subclass that claims one thing and holds another. __module__ puts it where the
# encoder looks for torch's own types (the old encoder then trusted its detach()).
LYING = """\
import torch

class Lying(torch.Tensor):
    __module__ = "torch.lying"

    def detach(self):
        return self._claim

    def tolist(self):
        return self._claim.tolist()

    @property
    def dtype(self):
        return self._claim.dtype

    @property
    def shape(self):
        return self._claim.shape

_honest_predict = predict

def predict(x, m, b):
    right = _honest_predict(x, m, b)
    if not isinstance(right, torch.Tensor):
        return right
    HELD = CLAIMED = None
    value = HELD.as_subclass(Lying)
    value._claim = CLAIMED
    return value
"""


def test_a_lying_tensor_is_graded_on_its_data(solution_notebook, tmp_path):
    # "wrong": holds zeros, claims the right answer; "right": holds the answer, claims zeros.
    wrong = LYING.replace("HELD = CLAIMED = None\n", "HELD, CLAIMED = torch.zeros_like(right), right.detach()\n")
    right = LYING.replace("HELD = CLAIMED = None\n", "HELD, CLAIMED = right.detach(), torch.zeros_like(right)\n")
    run = grade_notebooks(ASSIGNMENT, {"lying-wrong": solution_notebook(ASSIGNMENT, extra_cells=[wrong]),
                                       "lying-right": solution_notebook(ASSIGNMENT, extra_cells=[right])}, tmp_path)
    held_wrong = run.results["lying-wrong"]
    assert held_wrong.status == "graded", held_wrong.message
    # Only predict's check on plain numbers (no tensor: nothing to lie about) keeps its point.
    lost = [c for c in held_wrong.checks_of("predict") if c.points < c.max_points]
    assert lost and all(c.status == "failed" for c in lost), held_wrong.checks_of("predict")
    assert {c.name for c in held_wrong.checks_of("predict") if c.points} <= {"test_predict_on_numbers"}
    assert run.results["lying-right"].auto_total == FULL, run.results["lying-right"].checks


def test_the_reply_schema_takes_every_honest_value():
    """What the encoder writes for the course's kinds of values fits the schema as is."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from autograder.sandbox import replies
    from autograder.selfcheck.protocol import encode

    x = torch.tensor([[1.0], [2.0]], requires_grad=True)
    (x * x).sum().backward()
    fig, ax = plt.subplots()
    ax.scatter([1, 2], [3, 4], label="data")
    ax.plot([1, 2], [float("nan"), 4], label="line")
    ax.legend()
    values = [None, True, 3, 2**60, 1.5, float("nan"), "text", [1, (2.0, "x")], x, torch.tensor(2.0),
              torch.zeros(0, 3), torch.nn.Linear(1, 1), np.arange(6.0).reshape(2, 3), np.float32(1.5),
              torch.Generator(), object(), ax, fig, torch.ones(3, dtype=torch.complex64)]
    for value in values:
        encoded = json.loads(json.dumps(encode(value, render=True)))
        assert replies.value(encoded, "value") == encoded
    plt.close("all")


def test_the_reply_schema_refuses_what_checks_could_not_read():
    from autograder.sandbox import replies
    from autograder.sandbox.replies import MalformedReply

    bad = [
        [1], {"t": "tensor"}, {"t": "float", "type": "float", "v": "1.0"}, {"t": "float", "type": "float", "v": True},
        {"t": "tensor", "type": "Tensor", "dtype": "float32", "shape": [2], "data": [1.0, [2.0]],
         "requires_grad": False},
        {"t": "tensor", "type": "Tensor", "dtype": "float32", "shape": [1], "data": [1.0], "requires_grad": False,
         "grad": [1.0, 2.0]},
        {"t": "list", "type": "list", "items": [{"t": "none", "type": "NoneType", "extra": 1}]},
        {"t": "axes", "type": "Axes", "title": "", "xlabel": "", "ylabel": "", "legend": None, "yscale": "linear",
         "lines": [{"label": "", "marker_only": False, "x": [1.0], "y": ["1"]}], "scatters": []},
    ]
    deep = {"t": "none", "type": "NoneType"}
    for _ in range(200):
        deep = {"t": "list", "type": "list", "items": [deep]}
    for value in [*bad, deep]:
        with pytest.raises(MalformedReply):
            replies.value(value, "value")
    with pytest.raises(MalformedReply):
        replies.call_reply({"ok": True, "value": {"t": "none", "type": "NoneType"}, "args": [], "warnings": []}, 1)
    long = replies.call_reply({"ok": False, "kind": "error", "message": "m" * 10_000}, 0)
    assert len(long["message"]) < 4_100 and long["message"].endswith("(cut: 6000 characters more)")


# Memory outside the address space: memfd files (16 MB each, the file-size limit) and SysV
# shared memory, kept while the checks run. The old grader let one submission hold 1 GB.
HOLD = """\
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
report = {"memfd_held": 0, "shm_held": 0}
_keep = []
for i in range(64):
    try:
        fd = os.memfd_create(f"hold-{i}")
        os.write(fd, b"\\1" * 2**24)
        _keep.append(fd)
        report["memfd_held"] += 2**24
    except OSError as error:
        report["memfd_errno"] = error.errno
        break
for i in range(8):
    segment = libc.shmget(0, 2**26, 0o1000 | 0o600)
    if segment < 0:
        report["shmget_errno"] = ctypes.get_errno()
        break
    address = libc.shmat(segment, None, 0)
    ctypes.memset(address, 1, 2**26)
    report["shm_held"] += 2**26
report["msgget"] = libc.msgget(0, 0o1000 | 0o600), ctypes.get_errno()
report["semget"] = libc.semget(0, 1, 0o1000 | 0o600), ctypes.get_errno()
raise RuntimeError("OBS " + json.dumps(report))
"""


@pytest.mark.parametrize("sandbox", ["auto", "rlimits"])
def test_memfd_and_sysv_memory_are_refused_in_the_child(solution_notebook, tmp_path, sandbox, monkeypatch):
    import re

    from test_isolation import ShmemPeak

    monkeypatch.setenv("DLBASICS_SANDBOX", sandbox)
    notebooks = {"holder": solution_notebook(ASSIGNMENT, extra_cells=[HOLD]), "honest": solution_notebook(ASSIGNMENT)}
    with ShmemPeak() as shmem:
        run = grade_notebooks(ASSIGNMENT, notebooks, tmp_path, "--jobs", "1")
    holder = run.results["holder"]
    # memfd pages and SysV segments are Shmem: none of the 1.5 GB tried reached the machine.
    assert shmem.peak - shmem.start < 256 * 2**20, f"Shmem rose by {(shmem.peak - shmem.start) / 2**20:.0f} MiB"
    reports = [json.loads(m.group(1)) for c in holder.cells for m in [re.search(r"OBS (\{.*\})", c.message)] if m]
    assert reports, f"the holding cell did not report: {holder.status} {holder.message} {holder.cells}"
    seen = reports[0]
    assert seen["memfd_held"] == 0 and seen["memfd_errno"] == 1, seen  # EPERM
    assert seen["shm_held"] == 0 and seen["shmget_errno"] == 1, seen
    assert seen["msgget"] == [-1, 1] and seen["semget"] == [-1, 1], seen
    # The filter takes nothing from an honest submission (torch, matplotlib and the checks run).
    assert holder.auto_total == FULL and run.results["honest"].auto_total == FULL, holder.checks
    assert "system-call filter" not in holder.isolation_note


def test_a_result_is_bounded_whatever_it_holds():
    """Result.from_json (every way in: the sandbox's report, the gradebook, a Dask reply) cuts each
    message and keeps the whole under MAX_RESULT_BYTES, saying what it dropped."""
    from autograder.grading.result import BadResult, Result

    base = {"assignment": ASSIGNMENT, "student": "s", "file": "s.ipynb", "status": "graded",
            "message": "m" * 100_000,
            "notes": ["n" * 50_000] * 3 + ["a cell of 2000000 characters was not run"] * 2_000,
            "checks": [{"name": f"test_{i}", "question": "predict", "points": 0, "max_points": 1,
                        "status": "failed", "message": "c" * 4_000_000, "hidden": False} for i in range(3)],
            # 2 000 added cells that each raise with a 3 000-character message, most of them ok.
            "cells": [{"label": f"added-{i}", "status": "error" if i % 10 == 0 else "ok",
                       "message": "e" * 3_000 if i % 10 == 0 else ""} for i in range(2_000)],
            "plots": {"plot_regression": "A" * 140_000, "other": "B" * 140_000}}
    result = Result.from_json(base)
    assert result.size() <= MAX_RESULT_BYTES, result.size()
    assert result.message.endswith(f"(cut: {100_000 - MAX_MESSAGE} characters more)")
    assert all(len(c.message) <= MAX_MESSAGE + 40 for c in result.checks)
    assert any("too large" in note for note in result.notes)
    # The failing cells are still there (their labels say what broke), in order.
    assert [c.label for c in result.cells if c.status == "failed"][:3] == ["added-0", "added-10", "added-20"]
    # What is no student text (a forged student id of 1 MB from another machine) is refused whole.
    with pytest.raises(BadResult):
        Result.from_json({**base, "student": "x" * 1_000_000})
    # An honest result passes unchanged.
    small = {**base, "message": "", "notes": [], "checks": [], "cells": [], "plots": {}}
    assert Result.from_json(small).to_json()["message"] == ""
