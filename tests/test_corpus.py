"""The grader on a corpus of typical mistakes and of correct answers written differently.

Every case is one student notebook: the reference answers with one answer cell replaced.
All cases of an assignment (mistakes and correct variants) are graded in one ``dlbasics
grade`` run (module-scoped, one per assignment), next to an untouched reference notebook as
a control; the assertions are parametrized per case. The same notebooks also run in this
process, as in a student's kernel, where the public checks give the self-check's verdicts.

* A mistake loses points on its question, its self-check already fails (unless it is an
  answer hard-coded for the public inputs), some failing check of that question names the
  mistake (``expected`` in ``tests/corpus/mistakes.py``), and every question whose reference
  answer does not call the mistaken function keeps full marks. Questions that do call it
  are graded on the student's own function (a student's ``gradient_descent`` really does
  use their ``gradient_descent_step``); when they fail through it, their feedback names it.
  A hard-coded answer loses every hidden check of its question.
* A correct variant gets every automatic point of the notebook, and the story cells run
  with it.
* For every notebook and question: a green self-check means full marks in grading (except
  for a hard-coded answer), and each public check gives the same verdict in the kernel as in
  the grader's sandbox.
"""

from __future__ import annotations

import ast
import re

import pytest
from conftest import grade_notebooks
from corpus.cases import CONTROL, notebooks_of, student_of
from corpus.correct_variants import CORRECT
from corpus.mistakes import HARD_CODED, MISTAKES, UNNAMED
from inkernel import namespace_of, selfcheck_package, story_cells

import autograder.selfcheck as selfcheck
from autograder.checks import ASSIGNMENTS
from autograder.checks.nbgrader_hidden import question_results
from autograder.context import GradingContext
from autograder.notebook.fill import fill, solution_answers
from autograder.selfcheck import LocalStudent
from autograder.selfcheck.api import PASSED, run_check

# Mistakes the feedback does not name although a variant for them exists: (assignment,
# question, case) -> reason. Empty: every mistake in the corpus is named.
NOT_NAMED: dict[tuple[str, str, str], str] = {}

# Names a case's feedback must not give: the misnaming of issue 10 (Adam was told "the
# parameters never change").
WRONG_NAMES = {
    (A, "train_model", case): "never change" for A, case in [
        ("01-linear-regression", "Adam"), ("01-linear-regression", "SGD with momentum"),
        ("01-linear-regression", "per-sample SGD"), ("01-linear-regression", "mini-batches of two")]
}


def case_id(assignment_id: str, question: str, name: str) -> str:
    return f"{assignment_id[:2]}-{question}-{re.sub(r'[^A-Za-z0-9]+', '_', name).strip('_')}"


def _callers() -> dict[str, dict[str, set[str]]]:
    """Per assignment: question -> the other questions whose reference answer calls it (transitively)."""
    result = {}
    for assignment in ASSIGNMENTS.values():
        answers = solution_answers(assignment)
        questions = [q for q in answers if not q.startswith("written")]
        direct = {q: {other for other in questions if other != q and re.search(rf"\b{q}\s*\(", answers[other])}
                  for q in questions}
        closure = {}
        for q in questions:
            seen, todo = set(), list(direct[q])
            while todo:
                caller = todo.pop()
                if caller not in seen:
                    seen.add(caller)
                    todo.extend(direct[caller])
            closure[q] = seen
        result[assignment.id] = closure
    return result


CALLERS = _callers()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """``graded(assignment_id)``: the one run grading every case of that assignment (cached).

    Mistakes and correct variants share the run: starting the sandbox workers costs more
    than grading a few dozen notebooks.
    """
    runs = {}

    def get(assignment_id: str):
        if assignment_id not in runs:
            assignment = ASSIGNMENTS[assignment_id]
            reference = solution_answers(assignment)
            notebooks = {student: fill(assignment, {**reference, **answers})
                         for student, (_, _, answers) in notebooks_of(assignment_id).items()}
            runs[assignment_id] = grade_notebooks(assignment_id, notebooks, tmp_path_factory.mktemp(assignment_id))
        return runs[assignment_id]

    return get


def result_of(graded, assignment_id: str, student: str) -> dict:
    result = graded(assignment_id).results[student]
    assert result.status == "graded", f"{student}: {result.status} {result.message}"
    return result


def describe_checks(result, question: str | None = None) -> str:
    return "\n".join(f"  {c.name} [{c.question}] {c.points}/{c.max_points} {c.status}: "
                     f"{c.message} (mistake: {c.mistake})"
                     for c in result.checks if question is None or c.question == question)


def short_of_full(result, questions) -> dict[str, str]:
    return {q: f"{result.questions[q].points}/{result.questions[q].max_points}"
            for q in questions if result.questions[q].points != result.questions[q].max_points}


MISTAKE_PARAMS = [pytest.param(*case, id=case_id(*case[:3])) for case in MISTAKES]
CORRECT_PARAMS = [pytest.param(*case, id=case_id(*case[:3])) for case in CORRECT]


# --- the corpus itself ----------------------------------------------------------------

@pytest.mark.parametrize("kind,cases", [("mistakes", MISTAKES), ("correct", CORRECT)])
def test_corpus_cases_are_well_formed(kind, cases):
    seen = set()
    for case in cases:
        assignment_id, question, name, source = case[:4]
        reference = solution_answers(ASSIGNMENTS[assignment_id])
        assert question in reference and not question.startswith("written"), case[:3]
        assert (assignment_id, student_of(kind, question, name)) not in seen, f"duplicate case {case[:3]}"
        seen.add((assignment_id, student_of(kind, question, name)))
        tree = ast.parse(source)
        assert any(isinstance(node, ast.FunctionDef) and node.name == question for node in tree.body), case[:3]
        assert source.strip() != reference[question].strip(), case[:3]
        if kind == "mistakes":
            expected = case[4]
            assert expected in (HARD_CODED, UNNAMED) or expected == expected.lower(), case[:3]
    assert {case[0] for case in cases} == set(ASSIGNMENTS)


def test_corpus_covers_every_question():
    for assignment_id, assignment in ASSIGNMENTS.items():
        questions = {q for q in solution_answers(assignment) if not q.startswith("written")}
        assert questions <= {c[1] for c in MISTAKES if c[0] == assignment_id}, assignment_id
        assert questions <= {c[1] for c in CORRECT if c[0] == assignment_id}, assignment_id
    assert len(CORRECT) >= 12
    cases = {case[:3] for case in MISTAKES}
    assert set(NOT_NAMED) <= cases, "an xfail names a case that does not exist"
    assert set(WRONG_NAMES) <= cases


@pytest.mark.parametrize("assignment_id", list(ASSIGNMENTS))
def test_control_reference_gets_full_marks(graded, assignment_id):
    result = result_of(graded, assignment_id, CONTROL)
    assert result.auto_total == result.auto_max, describe_checks(result)


# --- mistakes ---------------------------------------------------------------------------

@pytest.mark.parametrize("assignment_id,question,name,source,expected", MISTAKE_PARAMS)
def test_mistake_loses_points_on_its_question(graded, assignment_id, question, name, source, expected):
    result = result_of(graded, assignment_id, student_of("mistakes", question, name))
    mark = result.questions[question]
    assert mark.points < mark.max_points, describe_checks(result, question)


def _named_params():
    params = []
    for param in MISTAKE_PARAMS:
        if param.values[4]:
            reason = NOT_NAMED.get(tuple(param.values[:3]))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            params.append(pytest.param(*param.values, id=param.id, marks=marks))
    return params


@pytest.mark.parametrize("assignment_id,question,name,source,expected", _named_params())
def test_mistake_is_named_in_the_feedback(graded, assignment_id, question, name, source, expected):
    result = result_of(graded, assignment_id, student_of("mistakes", question, name))
    named = [c for c in result.checks if c.question == question and c.status != "passed"
             and expected in (c.mistake or "").lower()]
    assert named, f"no failing check of {question} names {expected!r}:\n{describe_checks(result, question)}"
    assert all(c.points == 0 for c in named)
    wrong = WRONG_NAMES.get((assignment_id, question, name))
    assert not wrong or not any(wrong in (c.mistake or "") for c in result.checks), \
        describe_checks(result, question)


@pytest.mark.parametrize("assignment_id,question,name,source,expected",
                         [p for p in MISTAKE_PARAMS if p.values[4] is HARD_CODED])
def test_hard_coded_answer_loses_every_hidden_check(graded, assignment_id, question, name, source, expected):
    result = result_of(graded, assignment_id, student_of("mistakes", question, name))
    checks = [c for c in result.checks if c.question == question]
    hidden = [c for c in checks if c.hidden]
    assert hidden and len(hidden) < len(checks)
    assert all(c.points == 0 and c.status != "passed" for c in hidden), describe_checks(result, question)


@pytest.mark.parametrize("assignment_id,question,name,source,expected", MISTAKE_PARAMS)
def test_mistake_leaves_independent_questions_full_marks(graded, assignment_id, question, name, source, expected):
    result = result_of(graded, assignment_id, student_of("mistakes", question, name))
    others = set(result.questions) - {question} - CALLERS[assignment_id][question]
    short = short_of_full(result, sorted(others))
    assert not short, f"other questions lost points: {short}\n{describe_checks(result)}"


def _dependent_params():
    return [param for param in MISTAKE_PARAMS if CALLERS[param.values[0]][param.values[1]]]


@pytest.mark.parametrize("assignment_id,question,name,source,expected", _dependent_params())
def test_calling_questions_name_the_failing_function_they_use(graded, assignment_id, question, name, source,
                                                              expected):
    """The grader calls the student's own helpers: a caller that fails through one says so."""
    result = result_of(graded, assignment_id, student_of("mistakes", question, name))
    for caller in sorted(CALLERS[assignment_id][question]):
        if result.questions[caller].points < result.questions[caller].max_points:
            failing = [c for c in result.checks if c.question == caller and c.status != "passed"]
            # It names the function it calls: the broken one, or one in between that fails through it.
            chain = {question} | CALLERS[assignment_id][question]
            assert any(f"`{name}`" in (c.mistake or "") for c in failing for name in chain - {caller}), \
                describe_checks(result, caller)


# Cases that must score nothing on their question: every point of train_model needs the
# full-batch SGD trajectory, every point of mse_loss the right value (issue 10: a loop that
# never trains, Adam, momentum and per-sample SGD got 2 of 5; `return 0.0` got a point).
ZERO_POINTS = [("01-linear-regression", "train_model", name) for name in (
    "never trains (no backward, no step)", "step before backward", "zero_grad between backward and step", "Adam",
    "SGD with momentum", "per-sample SGD", "mini-batches of two", "sum instead of mean", "missing zero_grad",
    "hard-coded lr")] + [("02-gradient-descent", "mse_loss", "return 0.0")]


@pytest.mark.parametrize("assignment_id,question,name", ZERO_POINTS, ids=lambda v: str(v)[:40])
def test_wrong_values_score_nothing_on_their_question(graded, assignment_id, question, name):
    assert (assignment_id, question, name) in {case[:3] for case in MISTAKES}
    result = result_of(graded, assignment_id, student_of("mistakes", question, name))
    assert result.questions[question].points == 0, describe_checks(result, question)


# --- correct variants -----------------------------------------------------------------

@pytest.mark.parametrize("assignment_id,question,name,source", CORRECT_PARAMS)
def test_correct_variant_gets_full_marks(graded, assignment_id, question, name, source):
    result = result_of(graded, assignment_id, student_of("correct", question, name))
    assert all(cell.status == "ok" for cell in result.cells), result.cells
    assert result.questions[question].status == "passed", describe_checks(result, question)
    assert result.auto_total == result.auto_max, describe_checks(result)


# --- the self-check (public checks in the student's kernel) against the grade ---------------

@pytest.fixture(scope="module")
def kernel():
    """``kernel(assignment_id)``: student id -> {public check name: status}, run in this process (cached)."""
    runs = {}

    def get(assignment_id: str):
        if assignment_id not in runs:
            assignment = ASSIGNMENTS[assignment_id]
            public = [fn for fn in assignment.checks() if not fn.hidden]
            runs[assignment_id] = {}
            for student, (_, _, answers) in notebooks_of(assignment_id).items():
                local = LocalStudent(namespace_of(assignment, answers))
                runs[assignment_id][student] = {fn.__name__: run_check(fn, local) for fn in public}
        return runs[assignment_id]

    return get


NOTEBOOK_PARAMS = [pytest.param(a, student, *info, id=f"{a[:2]}-{student}")
                   for a in ASSIGNMENTS for student, info in notebooks_of(a).items()]


@pytest.mark.parametrize("assignment_id,student,question,label,answers", NOTEBOOK_PARAMS)
def test_a_green_self_check_means_full_marks(graded, kernel, assignment_id, student, question, label, answers):
    """Every question whose public checks all pass in the kernel gets full marks from `dlbasics grade`.

    The only exception: an answer hard-coded for the public inputs loses its hidden checks.
    """
    result = result_of(graded, assignment_id, student)
    verdicts = kernel(assignment_id)[student]
    for q, mark in result.questions.items():
        green = all(r.status == PASSED for r in verdicts.values() if r.question == q)
        if green and not (q == question and label is HARD_CODED):
            assert mark.points == mark.max_points, \
                f"{q}: the self-check is green but the grade is {mark.points}/{mark.max_points}\n" \
                + describe_checks(result, q)


@pytest.mark.parametrize("assignment_id,student,question,label,answers", NOTEBOOK_PARAMS)
def test_self_check_and_grader_agree_on_every_public_check(graded, kernel, assignment_id, student, question, label,
                                                           answers):
    result = result_of(graded, assignment_id, student)
    graded_public = {c.name: c for c in result.checks if not c.hidden}
    for name, local in kernel(assignment_id)[student].items():
        sandbox = graded_public[name]
        assert (local.status == PASSED) == (sandbox.status == PASSED), \
            f"{name}: kernel {local.status} ({local.message}) vs grader {sandbox.status} ({sandbox.message})"
        assert local.mistake == sandbox.mistake or sandbox.status != "failed" \
            or "fails its own checks" in (sandbox.mistake or ""), (name, local.mistake, sandbox.mistake)


@pytest.mark.parametrize("assignment_id,question,name,source,expected",
                         [p for p in MISTAKE_PARAMS if p.values[4] is not HARD_CODED])
def test_mistake_is_visible_in_the_self_check(kernel, assignment_id, question, name, source, expected):
    verdicts = kernel(assignment_id)[student_of("mistakes", question, name)]
    failing = [r for r in verdicts.values() if r.question == question and r.status != PASSED]
    assert failing, f"every public check of {question} passes: the student cannot see this mistake"
    if expected:
        assert any(expected in (r.mistake or "").lower() for r in failing), \
            [(r.name, r.message, r.mistake) for r in failing]


@pytest.mark.parametrize("assignment_id", list(ASSIGNMENTS))
def test_story_cells_run_with_every_accepted_answer(assignment_id, monkeypatch, capsys):
    """Story cells run (not skipped, no error) for the reference and each correct variant."""
    import matplotlib.pyplot as plt

    assignment = ASSIGNMENTS[assignment_id]
    variants = {"reference": {}} | {case[2]: {case[1]: case[3]} for case in CORRECT if case[0] == assignment_id}
    for name, answers in variants.items():
        namespace = namespace_of(assignment, answers)
        monkeypatch.setattr(selfcheck, "_user_namespace", lambda namespace=namespace: namespace)
        for grade_id, source in story_cells(assignment):
            with selfcheck_package():
                try:
                    exec(compile(source, f"<story {grade_id}>", "exec"), namespace)
                except Exception as error:
                    pytest.fail(f"{name}: story cell {grade_id} fails: {type(error).__name__}: {error}")
                finally:
                    plt.close("all")
            assert "skipped" not in capsys.readouterr().out, f"{name}: story cell {grade_id} was skipped"


def _grader_seed(graded, assignment_id: str) -> str:
    """The seed the corpus run drew its hidden inputs from (DLBASICS_SEED, or the run's own file)."""
    import os

    path = graded(assignment_id).out / "secret-seed.txt"
    return os.environ.get("DLBASICS_SEED") or path.read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("assignment_id,student,question,label,answers", NOTEBOOK_PARAMS)
def test_nbgrader_hidden_tests_in_the_kernel_agree_with_the_grade(graded, assignment_id, student, question, label,
                                                                   answers):
    """What each check cell's hidden block (``assert_question``) decides in the student's kernel, for
    every corpus notebook and question: pass exactly when `dlbasics grade` gives full marks.

    nbgrader itself autogrades a sample of the corpus (tests/test_nbgrader.py); this covers every
    notebook with the very function its hidden tests call, with the same seed as the grade.
    """
    result = result_of(graded, assignment_id, student)
    namespace = namespace_of(ASSIGNMENTS[assignment_id], answers)
    context = GradingContext(_grader_seed(graded, assignment_id))
    with selfcheck_package():
        for q, mark in result.questions.items():
            checks = question_results(q, namespace, assignment_id, context=context, student=student)
            passes = all(r.status == PASSED for r in checks)
            assert passes == (mark.points == mark.max_points), (
                f"{q}: the hidden tests in the kernel {'pass' if passes else 'fail'}, the grade is "
                f"{mark.points}/{mark.max_points}\n" + "\n".join(f"  {r.name} {r.status}: {r.message}" for r in checks))
