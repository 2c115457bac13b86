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
from types import SimpleNamespace
from unittest import mock

import pytest
from conftest import grade_notebooks, run_dlbasics
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


def seed_course(course: Path) -> Path:
    """The dlbasics course (secret.toml) of an nbgrader course folder: beside it, never inside (nbgrader hands
    out from there)."""
    return course.parent / f"{course.name}-dlbasics"


def nbgrader_env(course: Path) -> dict:
    # nbgrader runs `alembic` from PATH when it opens the gradebook; the kernel is the venv's
    # python3. User-level Jupyter/IPython config must not leak into the run. DLBASICS_COURSE: the
    # course whose secret seed the hidden blocks use, as nbgrader_config.py tells instructors to set it.
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "DLBASICS_COURSE": str(seed_course(course)),
            "JUPYTER_CONFIG_DIR": str(course / ".jupyter"), "IPYTHONDIR": str(course / ".ipython"),
            "JUPYTER_PLATFORM_DIRS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


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
    """The points of each ``check_*`` cell, as the checks declare them (the build writes them into
    nbgrader's source; the solution notebook holds none)."""
    from autograder.notebook.build import check_points as declared

    return {f"check_{question}": float(points) for question, points in declared(assignment).items()}


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
    # As nbgrader_config.py tells an instructor: the config, the source from `dlbasics nbgrader-source`,
    # the course's seed for the hidden inputs (DLBASICS_COURSE: a course folder with its secret.toml).
    shutil.copy(KIT_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    run_dlbasics("nbgrader-source", a, root)
    run_dlbasics("init", seed_course(root))

    generated = run_nbgrader(root, "generate_assignment", a, "--force", timeout=300)
    release = root / "release" / a
    released = load_notebook(release / assignment.notebook)

    students = {"ref": reference_submission(assignment, json.loads(json.dumps(released))), "stub": released}
    students["noisy"] = noisy_submission(assignment, json.loads(json.dumps(students["ref"])))
    # The reference answers with the first check cell's visible part replaced: nbgrader must say so and
    # grade with the course's cell (its checksum warning is kept for a changed cell).
    students["tampered"] = json.loads(json.dumps(students["ref"]))
    tampered = next(cell for cell in students["tampered"]["cells"]
                    if str(nbgrader_meta(cell).get("grade_id", "")).startswith("check_"))
    tampered["source"] = "pass  # the student's own check\n"
    for student, notebook in students.items():
        folder = root / "submitted" / student / a
        write(notebook, folder / assignment.notebook)
        shutil.copytree(release / "selfcheck", folder / "selfcheck", ignore=IGNORE)

    autograded = run_nbgrader(root, "autograde", a, "--force", timeout=1800)
    fed_back = run_nbgrader(root, "generate_feedback", a, "--force", timeout=600)
    book = read_gradebook(root, a, students)
    errors = {s: cell_errors(root / "autograded" / s / a / assignment.notebook) for s in students}
    logs = {"generate_assignment": generated, "autograde": autograded, "generate_feedback": fed_back}
    return SimpleNamespace(assignment=assignment, root=root, book=book, errors=errors, students=students, logs=logs)


def test_release_has_no_solutions_or_hidden_tests(course):
    assignment, root = course.assignment, course.root
    release = root / "release" / assignment.id
    text = (release / assignment.notebook).read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert (release / "selfcheck" / "__init__.py").exists()


def test_max_automatic_score_is_the_sum_of_check_points(course):
    assignment, book = course.assignment, course.book
    points = check_points(assignment)
    assert points and all(p > 0 for p in points.values())
    assert book["max_code_score"] == sum(points.values())
    autograded = {name: g["max_score"] for name, g in book["students"]["ref"]["grades"].items()
                  if g["cell_type"] == "code"}
    assert autograded == points


def test_reference_gets_every_automatic_point(course):
    assignment, book, errors = course.assignment, course.book, course.errors
    ref = book["students"]["ref"]
    failed = {name: errors["ref"].get(name, "no error output")
              for name, g in ref["grades"].items() if g["cell_type"] == "code" and g["auto_score"] != g["max_score"]}
    assert not failed, f"{assignment.id}: reference answers fail nbgrader check cells: {failed}"
    assert ref["code_score"] == book["max_code_score"] > 0
    # The whole reference notebook (story cells too) runs without an error under nbgrader.
    assert errors["ref"] == {}


def test_written_answers_are_left_for_manual_grading(course):
    book = course.book
    written = {name: g for name, g in book["students"]["ref"]["grades"].items() if g["cell_type"] == "markdown"}
    assert written and all(g["needs_manual_grade"] and g["auto_score"] is None for g in written.values())
    assert book["max_written_score"] == sum(g["max_score"] for g in written.values())


def test_stub_gets_zero_automatic_points(course):
    assignment, book, errors = course.assignment, course.book, course.errors
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
    book, errors = course.book, course.errors
    noisy = book["students"]["noisy"]
    assert noisy["code_score"] == book["max_code_score"], errors["noisy"]


def escaped(line: str) -> str:
    """``line`` as it is written inside a JSON string (a notebook file)."""
    return json.dumps(line)[1:-1]


def source_of(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def received_files(course) -> dict[str, dict[str, Path]]:
    """Every file in what students receive or what is made from their work: folder -> relative path -> file."""
    a, root = course.assignment.id, course.root
    folders = {"release": root / "release" / a}
    for kind in ("autograded", "feedback"):
        for student in course.students:
            folders[f"{kind}/{student}"] = root / kind / student / a
    return {name: {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}
            for name, folder in folders.items()}


def test_nothing_of_the_grader_reaches_release_autograded_or_feedback(course):
    """Only the notebook (or its feedback page) and the public selfcheck/: no corpus, reference or checks,
    no expected value beyond the public JSON, no solution in what students fetch."""
    from autograder.platforms.nbgrader import source_files

    assignment, root = course.assignment, course.root
    public = {name: content for name, content in source_files(assignment).items() if name.startswith("selfcheck/")}
    assert any(name.endswith(".json") for name in public) and any(name.endswith(".py") for name in public)
    # Exactly what nbgrader-source wrote: the notebook and the public package.
    assert {p.relative_to(root / "source" / assignment.id).as_posix()
            for p in (root / "source" / assignment.id).rglob("*") if p.is_file()} == {assignment.notebook, *public}
    solution = "".join(source_of(cell) for cell in load_notebook(assignment.solution)["cells"])
    # Lines of the answers that the student's notebook (as the kit builds it) does not have elsewhere.
    student = assignment.release.read_text(encoding="utf-8")
    regions = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", solution, re.S)
    answers = [line.strip() for region in regions for line in region.splitlines()
               if len(line.strip()) > 25 and escaped(line.strip()) not in student]
    assert len(answers) > 5
    received = received_files(course)
    assert set(received) == {"release", *(f"{k}/{s}" for k in ("autograded", "feedback") for s in course.students)}
    for folder, files in received.items():
        assert files, f"{folder} is empty"
        for name, path in files.items():
            if name.endswith((".py", ".json")) or name.startswith("selfcheck/"):
                # The public package, byte for byte (compiled caches aside): nothing of the grader's.
                assert name in public and path.read_bytes() == public[name], f"{folder}/{name} is not public"
            else:
                assert name in (assignment.notebook, assignment.notebook.replace(".ipynb", ".html")), \
                    f"{folder}/{name}: not the notebook"
                text = path.read_text(encoding="utf-8")
                assert "BEGIN SOLUTION" not in text and "rubric" not in text, f"{folder}/{name}"
                if folder == "release" or folder.endswith("/stub"):  # no answer typed: none may be there
                    leaked = [line for line in answers if line in text or escaped(line) in text]
                    assert not leaked, f"{folder}/{name} holds the solution's lines {leaked[:3]}"
    hidden = (root / "release" / assignment.id / assignment.notebook).read_text(encoding="utf-8")
    assert "assert_question" not in hidden and "HIDDEN TESTS" not in hidden


def test_every_hidden_block_names_its_assignment(course):
    source = load_notebook(course.root / "source" / course.assignment.id / course.assignment.notebook)
    blocks = [source_of(cell) for cell in source["cells"] if "BEGIN HIDDEN TESTS" in source_of(cell)]
    assert blocks and len(blocks) == len(check_points(course.assignment))
    for block in blocks:
        assert re.search(rf'assert_question\("\w+", assignment="{re.escape(course.assignment.id)}"\)', block), block


def test_no_checksum_warning_for_untouched_check_cells_and_one_for_a_changed_one(course):
    """nbgrader's own OverwriteCells warns on every cell with hidden tests (nbgrader issue #1961); the
    course's config (nbgrader_config.py) warns only on a cell the student changed, which it still
    overwrites: the tampered submission keeps full marks from the course's own check cell."""
    log = course.logs["autograde"].stdout + course.logs["autograde"].stderr
    warned = re.findall(r"\[(?:\w+ \| )?WARNING\].*?Attribute '(\w+)' for cell (\S+) has changed", log)
    changed = next(name for name in check_points(course.assignment))
    assert warned == [("checksum", changed)], log[-5000:]
    assert course.book["students"]["tampered"]["code_score"] == course.book["max_code_score"]


def test_a_copied_assignment_folder_leaves_the_hidden_blocks_verdicts_unchanged(course, tmp_path):
    """A copy of the assignment's folder in the kit (same question ids): the hidden blocks as written into
    source/ still run this assignment's checks, and give the verdicts they give without the copy."""
    from autograder.checks import ASSIGNMENTS, Assignment, nbgrader_hidden
    from autograder.notebook.fill import solution_answers

    assignment = course.assignment
    source = load_notebook(course.root / "source" / assignment.id / assignment.notebook)
    blocks = {nbgrader_meta(cell)["grade_id"]: re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                                                           source_of(cell), re.S)[1]
              for cell in source["cells"] if "BEGIN HIDDEN TESTS" in source_of(cell)}
    # The reference answers run on the notebook's own setup cell (its self-check import aside), and one
    # answer is wrong (returns None), so both verdicts are exercised.
    setup = next(source_of(cell) for cell in load_notebook(assignment.solution)["cells"] if cell["cell_type"] == "code")
    namespace: dict = {}
    exec(setup.replace("from selfcheck import check, done", "check = done = None"), namespace)
    answers = {q: a for q, a in solution_answers(assignment).items() if not q.startswith("written")}
    for question, answer in answers.items():
        exec(compile(typed_answer(answer), question, "exec"), namespace)
    namespace[next(iter(answers))] = lambda *args, **kwargs: None

    def verdicts() -> dict[str, str]:
        found = {}
        for grade_id, block in blocks.items():
            try:
                code = block.replace('assert_question("', 'assert_question(namespace=__ns__, question="')
                exec(code, {"__ns__": namespace})
                found[grade_id] = "passed"
            except AssertionError:
                found[grade_id] = "failed"
        return found

    # The seed as autograde has it (nbgrader_config.py): the course's. The call limit is raised: this
    # compares verdicts, not speed, and a loaded machine can take over 5 s for training's first call.
    with mock.patch.dict(os.environ, {"DLBASICS_COURSE": str(seed_course(course.root))}), \
            mock.patch.object(nbgrader_hidden, "CALL_SECONDS", 120.0):
        alone = verdicts()
        # The wrong answer's question fails (others that call it may too), the rest pass.
        assert alone[f"check_{next(iter(answers))}"] == "failed" and "passed" in alone.values(), alone
        copy = tmp_path / f"{assignment.id}-copy"
        shutil.copytree(assignment.folder, copy, ignore=IGNORE)
        copied = Assignment(copy.name, copy, assignment.notebook)
        try:
            with mock.patch.dict(ASSIGNMENTS, {copy.name: copied}):
                assert len([a for a in ASSIGNMENTS.values() if a.notebook == assignment.notebook]) == 2
                assert verdicts() == alone
                question = next(iter(answers))
                with pytest.raises(KeyError, match="several assignments"):  # what an unnamed hidden block would do
                    nbgrader_hidden.checks_of(question)
        finally:
            # The copy's modules go with it: left in autograder.selfcheck.public, its checks answered for
            # the same questions in every later in-process self-check (test_corpus's story cells were then
            # skipped: "finish `standardize`", when run after this test).
            for name in [name for name in sys.modules if copied.module in name.split(".")]:
                del sys.modules[name]


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
    assignment, root = course.assignment, course.root
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
        shutil.copytree(seed_course(root), seed_course(shard))  # the same seed
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
    from autograder.course import load

    # dlbasics grades with the same course seed and the same students (nbgrader's student folders),
    # so both draw each student's own hidden inputs.
    seed = load(seed_course(root)).seed
    dlbasics = grade_notebooks(a, corpus, tmp_path_factory.mktemp(f"dlbasics-{a}"), env={"DLBASICS_SEED": seed})
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
