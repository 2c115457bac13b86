"""Nothing computed from a hidden input reaches a student, in any file handed back.

A class is graded for real (sandboxed workers, the gradebook, every writer) with ``--release``
beside an honest student: one submission raises with its inputs in every graded function, one
returns values made of its inputs, so that the grader's own messages quote them ("item 0 is
-1.918"). The hidden inputs of that run are recorded where the grader sends them to the sandbox
(``HiddenInputs.request``, the one road of a hidden check's arguments), then every file under
``feedback/`` (and the results.json Gradescope's runner would write) is searched for them.
The instructor-only ``hidden-checks.json`` beside ``feedback/`` must hold them: the search can see them.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from autograder.checks import ASSIGNMENTS
from autograder.notebook.fill import fill, solution_answers, write

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]
FUNCTIONS = ["to_column_tensors", "predict", "fit_least_squares", "plot_regression", "train_model"]

RAISES = {name: (f"def {name}(*args, **kwargs):\n"
                 "    plain = [getattr(a, 'tolist', lambda: repr(a))() for a in args]\n"
                 "    raise ValueError('LEAK ' + repr(plain) + repr(kwargs))\n") for name in FUNCTIONS}
ECHOES = {
    "to_column_tensors": ("import torch\n\ndef to_column_tensors(hours, scores):\n"
                          "    return torch.tensor(scores).reshape(-1, 1), torch.tensor(hours).reshape(-1, 1)\n"),
    "predict": "def predict(x, m, b):\n    return x + 0.0\n",
    "fit_least_squares": ("def fit_least_squares(x, y):\n"
                          "    return float(x.flatten()[0]), float(y.flatten()[0])\n"),
}


def numbers(value) -> list[float]:
    """Every number in a JSON-like argument (tensors are sent as nested lists in dicts)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in numbers(v)]
    return []


_NUMBER = re.compile(r"(?<![\w.])-?\d+\.(\d+)(?:e[-+]?\d+)?")


def leaked(text: str, secret: set[float]) -> list[str]:
    """Decimal numbers in ``text`` that show a hidden value at the precision written (at least
    3 decimals and 4 significant digits: "1.918" for 1.91799998, not "0.5" or "18")."""
    # Markdown (results.json) writes "1\\.918", JSON doubles that backslash, HTML may use entities.
    text = html.unescape(text.replace("\\", ""))
    # Measured durations are the machine's numbers: an execution time of 0.326 s is no hidden input.
    text = re.sub(r'"(execution_time|seconds|grading_seconds|sandbox_start_seconds)": [0-9.e-]+', "", text)
    found = []
    for match in _NUMBER.finditer(text):
        decimals = len(match[1])
        shown = float(match[0])
        if decimals < 3 or abs(shown) < 0.1 or "e" in match[0].lower():
            continue
        if any(round(value, decimals) == shown for value in secret):
            found.append(match[0])
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from conftest import run_dlbasics

    from autograder.grading import grade
    from autograder.grading.gradebook import Gradebook

    work = tmp_path_factory.mktemp("handed-back")
    submissions = work / "submissions"
    submissions.mkdir()
    answers = solution_answers(ASSIGNMENT)
    notebooks = {"honest": answers, "raises": {**answers, **RAISES}, "echoes": {**answers, **ECHOES}}
    for student, filled in notebooks.items():
        write(fill(ASSIGNMENT, filled), submissions / f"{student}.ipynb")
    sent: list = []
    original = grade.HiddenInputs.request

    def recording(self, name, *args, **kwargs):
        sent.append((name, args, kwargs))
        return original(self, name, *args, **kwargs)

    patch = pytest.MonkeyPatch()
    patch.setattr(grade.HiddenInputs, "request", recording)
    try:
        out = work / "out"
        run = run_dlbasics("grade", ASSIGNMENT.id, submissions, "--out", out, "--jobs", "1", "--release", "--quiet",
                           env={"DLBASICS_SEED": "the handed-back test's secret seed"})  # in this process
    finally:
        patch.undo()
    secret = {n for _, args, kwargs in sent for n in numbers([list(args), kwargs])}
    gradebook = Gradebook(out / "gradebook.sqlite", create=False)
    results = {r.student: r for r in gradebook.results(ASSIGNMENT.id)}
    gradebook.close()
    return out, run, secret, results


def test_the_run_sent_hidden_inputs_and_the_grader_saw_them(graded):
    out, run, secret, results = graded
    assert run.returncode == 0 and len(secret) > 50, (run.stderr, len(secret))
    # The search can see them where they are printed as the pages print numbers (a control: a hidden
    # check's message quotes no value of the student's any more, not even in the instructor's file).
    shown = " ".join(f"{value:.3f}" for value in sorted(secret)[:5])
    assert len(leaked(shown, secret)) == 5
    hidden_failed = [c for c in results["echoes"].checks if c.hidden and c.points < c.max_points]
    assert hidden_failed, "the echoing student must lose hidden points (its values are its inputs)"
    assert results["honest"].auto_total == results["honest"].auto_max


def test_no_hidden_value_in_any_handed_back_file(graded):
    from autograder.report.gradescope import results_json

    out, _, secret, results = graded
    files = sorted(p for p in (out / "feedback").rglob("*") if p.is_file())
    assert {p.name for p in files} == {"feedback.html", "results.json"} and len(files) == 6
    found = {str(p.relative_to(out)): leaked(p.read_text(encoding="utf-8"), secret) for p in files}
    # Gradescope's runner writes its results.json with the same function (written answers left out).
    for student, result in results.items():
        found[f"gradescope {student}"] = leaked(json.dumps(results_json(result, manual_tests=False)), secret)
    assert not any(found.values()), {k: v[:5] for k, v in found.items() if v}


def test_hidden_checks_show_name_points_and_the_mistake_only(graded):
    out, _, _, results = graded
    from autograder.grading.intake import student_folder

    page = (student_folder(out, "echoes") / "feedback.html").read_text(encoding="utf-8")
    data = json.loads((student_folder(out, "echoes") / "results.json").read_text(encoding="utf-8"))
    hidden = [t for t in data["tests"] if "hidden" in t["tags"]]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    assert any("failed on the hidden inputs" in t["output"] for t in hidden)
    named = [c.mistake for c in results["echoes"].checks if c.hidden and c.mistake]
    for mistake in named:  # the mistake's name is kept
        assert f"the result looks like: {mistake}" in page
    assert "LEAK" not in page and "(hidden)" in page
    assert not (out / "feedback" / "hidden-checks.json").exists()


def test_the_class_files_are_owner_only(graded):
    out = graded[0]
    for path in [out, *out.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (str(path.relative_to(out)), oct(mode))


def test_a_rerun_rewrites_nothing_that_did_not_change(graded):
    from autograder.grading.grade import load_template
    from autograder.grading.gradebook import Gradebook
    from autograder.report import write_outputs

    out = graded[0]
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.rglob("*") if p.is_file()
              and p.suffix != ".sqlite" and "sqlite" not in p.name}
    gradebook = Gradebook(out / "gradebook.sqlite", create=False)
    try:
        _, failed = write_outputs(ASSIGNMENT, load_template(ASSIGNMENT), gradebook, out, released=True,
                                  seed="the handed-back test's secret seed")
    finally:
        gradebook.close()
    assert not failed
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in before}
    changed = [str(p.relative_to(out)) for p in before if before[p] != after[p]]
    assert not changed, changed

