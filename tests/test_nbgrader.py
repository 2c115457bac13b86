"""The notebooks work in a plain nbgrader course, graded by nbgrader's own commands.

For each assignment this builds a course directory the way ``nbgrader_config.py`` tells an
instructor to (``source/<a>/`` = ``solutions/<a>/`` + the ``selfcheck`` package), runs
``nbgrader generate_assignment`` and ``nbgrader autograde`` with this venv's executables on
a few submissions (the reference answers typed into nbgrader's released notebook, the
untouched released notebook, a correct answer that warns), and reads the scores from
nbgrader's gradebook. Then every notebook of the corpus (``tests/corpus``) is autograded
in copies of that course and graded with ``dlbasics grade``: for each notebook and question,
nbgrader's check cell passes exactly when dlbasics gives the question full marks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from conftest import grade_notebooks
from corpus.cases import notebooks_of

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.notebook.fill import solution_answers, write
from autograder.notebook.submission import load_notebook, nbgrader_meta

pytestmark = pytest.mark.slow

# Not resolved: the venv's bin/python is a symlink out of the venv, its bin/ is what we want.
VENV_BIN = Path(sys.executable).parent
NBGRADER = VENV_BIN / "nbgrader"
COURSE_ID = "dlbasics"
IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")


# The course's secret seed, for nbgrader's hidden blocks (read from the kernel's environment,
# autograder/checks/nbgrader_hidden.py) and for `dlbasics grade`, so both draw the same hidden inputs.
SEED = "the nbgrader test course's secret seed"


def nbgrader_env(course: Path) -> dict:
    # nbgrader runs `alembic` from PATH when it opens the gradebook; the kernel is the venv's
    # python3. User-level Jupyter/IPython config must not leak into the run.
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "JUPYTER_CONFIG_DIR": str(course / ".jupyter"), "IPYTHONDIR": str(course / ".ipython"),
            "JUPYTER_PLATFORM_DIRS": "1", "PYTHONDONTWRITEBYTECODE": "1", "DLBASICS_SEED": SEED}


def run_nbgrader(course: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run([str(NBGRADER), *args], cwd=course, env=nbgrader_env(course), capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}")
    return result


def run_nbgrader_shards(courses: list[Path], *args: str, timeout: float, env: dict | None = None) -> None:
    """The same nbgrader command in several course directories at once (one kernel each at a time)."""
    processes = [subprocess.Popen([str(NBGRADER), *args], cwd=course, env={**nbgrader_env(course), **(env or {})},
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for course in courses]
    failures = []
    for course, process in zip(courses, processes):
        output, _ = process.communicate(timeout=timeout)
        if process.returncode != 0:
            failures.append(f"{course}: nbgrader {' '.join(args)} exited {process.returncode}:\n{output[-5000:]}")
    assert not failures, "\n".join(failures)


def typed_answer(source: str) -> str:
    """A reference answer as a student would leave it: the solution markers dropped."""
    lines = source.splitlines(keepends=True)
    kept = [line for line in lines if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "".join(kept)


def reference_submission(assignment, released: dict, replaced: dict[str, str] | None = None) -> dict:
    """nbgrader's released notebook with every answer (code and written) replaced by the solution's.

    ``replaced`` answers (by grade id) are typed instead of the solution's.
    """
    answers = {grade_id: typed_answer(source) for grade_id, source in solution_answers(assignment).items()}
    answers.update(replaced or {})
    filled = set()
    for cell in released["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
            filled.add(grade_id)
    assert filled == set(answers), f"answer cells missing from the release: {sorted(set(answers) - filled)}"
    return released


# Correct answers that write a warning to stderr: nbgrader fails any such test cell unless the
# hidden tests silence warnings (they do), and the self-check records warnings instead of printing.
NOISY = {
    "01-linear-regression": ("train_model", """def train_model(model, x, y, lr, epochs):
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(x), y)
        losses.append(float(loss))  # torch warns: a tensor that requires grad made a float
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
"""),
    "02-gradient-descent": ("mse_loss", """import warnings
def mse_loss(y_true, y_pred):
    warnings.warn("a harmless warning")
    return ((y_pred.reshape(-1) - y_true.reshape(-1)) ** 2).mean().item()
"""),
}


def noisy_answer(assignment) -> tuple[str, str]:
    """(question, answer) of a correct answer that warns: NOISY's, or any assignment's first reference answer
    behind a wrapper that warns on every call."""
    if assignment.id in NOISY:
        return NOISY[assignment.id]
    answers = solution_answers(assignment)
    question = next(q for q in answers if not q.startswith("written"))
    return question, typed_answer(answers[question]) + f"""

import warnings as _warnings
_quiet_{question} = {question}


def {question}(*args, **kwargs):
    _warnings.warn("a harmless warning")
    return _quiet_{question}(*args, **kwargs)
"""


def noisy_submission(assignment, reference: dict) -> dict:
    question, source = noisy_answer(assignment)
    for cell in reference["cells"]:
        if nbgrader_meta(cell).get("grade_id") == question:
            cell["source"] = source
    return reference


def check_points(assignment) -> dict[str, float]:
    """The points of each ``check_*`` cell in the solution notebook."""
    points = {}
    for cell in load_notebook(assignment.solution)["cells"]:
        meta = nbgrader_meta(cell)
        if str(meta.get("grade_id", "")).startswith("check_"):
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return points


def cell_errors(notebook_path: Path) -> dict[str, str]:
    """The error each cell of an autograded notebook raised, by grade id (for failure messages)."""
    errors = {}
    for cell in json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors[grade_id] = f"{output.get('ename')}: {output.get('evalue')}"
    return errors


def read_gradebook(course: Path, assignment_id: str, students) -> dict:
    from nbgrader.api import Gradebook

    with mock.patch.dict(os.environ, {"PATH": nbgrader_env(course)["PATH"]}):
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
            assignment = gb.find_assignment(assignment_id)
            book = {"max_code_score": assignment.max_code_score, "max_written_score": assignment.max_written_score,
                    "students": {}}
            for student in students:
                submission = gb.find_submission(assignment_id, student)
                grades = {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        grades[grade.name] = {"cell_type": grade.cell_type, "auto_score": grade.auto_score,
                                              "max_score": grade.max_score,
                                              "needs_manual_grade": grade.needs_manual_grade}
                book["students"][student] = {"code_score": submission.code_score, "grades": grades}
    return book


@pytest.fixture(scope="module", params=list(ASSIGNMENTS))
def course(request, tmp_path_factory):
    """A course directory after `generate_assignment` and `autograde` of "ref" and "stub"."""
    assignment = ASSIGNMENTS[request.param]
    a = assignment.id
    selfcheck = assignment.release.parent / "selfcheck"
    if not (selfcheck / "__init__.py").exists():
        pytest.fail(f"{selfcheck} is missing: run `dlbasics build` first")

    root = tmp_path_factory.mktemp(f"nbgrader-{a}")
    shutil.copy(KIT_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(assignment.solution.parent, root / "source" / a, ignore=IGNORE)
    shutil.copytree(selfcheck, root / "source" / a / "selfcheck", ignore=IGNORE)

    run_nbgrader(root, "generate_assignment", a, "--force", timeout=300)
    release = root / "release" / a
    released = load_notebook(release / assignment.notebook)

    students = {"ref": reference_submission(assignment, json.loads(json.dumps(released))), "stub": released}
    students["noisy"] = noisy_submission(assignment, json.loads(json.dumps(students["ref"])))
    for student, notebook in students.items():
        folder = root / "submitted" / student / a
        write(notebook, folder / assignment.notebook)
        shutil.copytree(release / "selfcheck", folder / "selfcheck", ignore=IGNORE)

    run_nbgrader(root, "autograde", a, "--force", timeout=1800)
    book = read_gradebook(root, a, students)
    errors = {s: cell_errors(root / "autograded" / s / a / assignment.notebook) for s in students}
    return assignment, root, book, errors


def test_release_has_no_solutions_or_hidden_tests(course):
    assignment, root, _, _ = course
    release = root / "release" / assignment.id
    text = (release / assignment.notebook).read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert (release / "selfcheck" / "__init__.py").exists()


def test_max_automatic_score_is_the_sum_of_check_points(course):
    assignment, _, book, _ = course
    points = check_points(assignment)
    assert points and all(p > 0 for p in points.values())
    assert book["max_code_score"] == sum(points.values())
    autograded = {name: g["max_score"] for name, g in book["students"]["ref"]["grades"].items()
                  if g["cell_type"] == "code"}
    assert autograded == points


def test_reference_gets_every_automatic_point(course):
    assignment, _, book, errors = course
    ref = book["students"]["ref"]
    failed = {name: errors["ref"].get(name, "no error output")
              for name, g in ref["grades"].items() if g["cell_type"] == "code" and g["auto_score"] != g["max_score"]}
    assert not failed, f"{assignment.id}: reference answers fail nbgrader check cells: {failed}"
    assert ref["code_score"] == book["max_code_score"] > 0
    # The whole reference notebook (story cells too) runs without an error under nbgrader.
    assert errors["ref"] == {}


def test_written_answers_are_left_for_manual_grading(course):
    _, _, book, _ = course
    written = {name: g for name, g in book["students"]["ref"]["grades"].items() if g["cell_type"] == "markdown"}
    assert written and all(g["needs_manual_grade"] and g["auto_score"] is None for g in written.values())
    assert book["max_written_score"] == sum(g["max_score"] for g in written.values())


def test_stub_gets_zero_automatic_points(course):
    assignment, _, book, errors = course
    stub = book["students"]["stub"]
    passed = [name for name, g in stub["grades"].items() if g["cell_type"] == "code" and g["auto_score"] != 0]
    assert not passed, f"{assignment.id}: the untouched template earns points in {passed}"
    assert stub["code_score"] == 0
    # nbgrader scores an unchanged written answer ("YOUR ANSWER HERE") 0 without manual review.
    written = [g for g in stub["grades"].values() if g["cell_type"] == "markdown"]
    assert written and all(g["auto_score"] == 0 and not g["needs_manual_grade"] for g in written)
    # Every check fails because the student's function is still a stub, not for another reason.
    assert all("not implemented yet" in errors["stub"].get(name, "") for name in stub["grades"]
               if stub["grades"][name]["cell_type"] == "code"), errors["stub"]


def test_a_correct_answer_that_warns_keeps_full_marks(course):
    """nbgrader scores stderr output as failure; the check cells make sure a warning is not."""
    _, _, book, errors = course
    noisy = book["students"]["noisy"]
    assert noisy["code_score"] == book["max_code_score"], errors["noisy"]


# --- the whole corpus: nbgrader and dlbasics give every question the same verdict -----------

# Course copies autograded side by side: nbgrader runs one notebook (one kernel) at a time,
# and most of a notebook's time is the kernel importing torch.
SHARDS = max(1, int(os.environ.get("DLBASICS_NBGRADER_SHARDS", "2")))
# Which corpus notebooks nbgrader autogrades. nbgrader runs each one in a new kernel, story
# cells included (a few seconds to 15 s each): the whole corpus would take most of CI's time.
# By default ("sample"): the control and, for each question, its first correct variant and its
# first mistake: nbgrader's own pipeline (release, autograde, the check cells' hidden blocks,
# stderr, the gradebook) on both verdicts of every question. What those hidden blocks decide is
# checked on every corpus notebook without nbgrader, by calling the same function in a kernel
# (tests/test_corpus.py::test_nbgrader_hidden_tests_in_the_kernel_agree_with_the_grade).
# "all": every notebook, as before a release; anything else: a regular expression of student
# ids, to autograde part of the corpus while working on it.
CORPUS = os.environ.get("DLBASICS_NBGRADER_CORPUS", "sample")
EACH = 1  # correct variants and mistakes per question in the sample


def corpus_students(assignment_id: str) -> list[str]:
    notebooks = notebooks_of(assignment_id)
    if CORPUS == "all":
        return sorted(notebooks)
    if CORPUS != "sample":
        return sorted(student for student in notebooks if re.search(CORPUS, student))
    chosen, taken = [], {}
    for student, (question, label, _) in notebooks.items():
        if question is not None:
            kind = (question, label == "correct")
            taken[kind] = taken.get(kind, 0) + 1
            if taken[kind] > EACH:
                continue
        chosen.append(student)
    return sorted(chosen)


@pytest.fixture(scope="module")
def corpus_verdicts(course, tmp_path_factory):
    """(student -> question -> nbgrader full marks?, dlbasics grade run) over every corpus notebook."""
    assignment, root, _, _ = course
    a = assignment.id
    released = load_notebook(root / "release" / a / assignment.notebook)
    notebooks = notebooks_of(a)
    corpus = {student: reference_submission(assignment, json.loads(json.dumps(released)), notebooks[student][2])
              for student in corpus_students(a)}
    students = sorted(corpus)
    shards = []
    for index in range(SHARDS):
        shard = tmp_path_factory.mktemp(f"nbgrader-{a}-shard")
        for name in ("nbgrader_config.py", "gradebook.db"):
            shutil.copy(root / name, shard / name)
        for folder in ("source", "release"):
            shutil.copytree(root / folder, shard / folder, ignore=IGNORE)
        for student in students[index::SHARDS]:
            folder = shard / "submitted" / student / a
            write(corpus[student], folder / assignment.notebook)
            shutil.copytree(root / "release" / a / "selfcheck", folder / "selfcheck", ignore=IGNORE)
        shards.append(shard)
    # The story cells' figures are not graded: drawing them without rendering saves time.
    run_nbgrader_shards(shards, "autograde", a, "--force", timeout=3000, env={"MPLBACKEND": "Agg"})
    nbgrader = {}
    for index, shard in enumerate(shards):
        book = read_gradebook(shard, a, students[index::SHARDS])
        for student, info in book["students"].items():
            nbgrader[student] = {name.removeprefix("check_"): g["auto_score"] == g["max_score"]
                                 for name, g in info["grades"].items() if g["cell_type"] == "code"}
    dlbasics = grade_notebooks(a, corpus, tmp_path_factory.mktemp(f"dlbasics-{a}"), env={"DLBASICS_SEED": SEED})
    return nbgrader, dlbasics


# Autograding ~50 notebooks per assignment takes minutes (each kernel imports torch): the
# fixture runs inside this test's time budget.
@pytest.mark.timeout(2400)
def test_nbgrader_and_dlbasics_agree_on_every_question_of_the_corpus(corpus_verdicts):
    nbgrader, dlbasics = corpus_verdicts
    assert set(nbgrader) == set(dlbasics.results) and (len(nbgrader) > 8 or CORPUS not in ("sample", "all"))
    disagreements = []
    for student, cells in nbgrader.items():
        questions = dlbasics.results[student].questions
        assert set(cells) == set(questions), student
        for question, full in cells.items():
            ours = questions[question].points == questions[question].max_points
            if ours != full:
                failing = [f"{c.name}: {c.message}" for c in dlbasics.checks(student, question)
                           if c.status != "passed"]
                disagreements.append(f"{student} / {question}: nbgrader {'full' if full else 'not full'}, "
                                     f"dlbasics {questions[question].points}/{questions[question].max_points} "
                                     f"{failing}")
    assert not disagreements, "\n".join(disagreements)
    # The corpus exercises both verdicts on every question.
    for question in next(iter(nbgrader.values())) if CORPUS in ("sample", "all") else ():
        assert {cells[question] for cells in nbgrader.values()} == {True, False}, question
