"""results.json in Gradescope's format, one per student (and the file Gradescope's runner writes).

Follows Gradescope's autograder specification: top-level ``score``, ``output``,
``output_format``, ``visibility``, ``stdout_visibility``, ``execution_time`` and ``tests``;
each test has ``name``, ``number``, ``score``, ``max_score``, ``status``, ``output``,
``output_format``, ``visibility`` (hidden checks ``after_published``) and short ``tags``.
Messages are Markdown; every piece of text that a student controls (an error message, a
returned value) is escaped so it can neither format nor link nor load anything.
"""

from __future__ import annotations

import re

from autograder.grading.result import Result
from autograder.report.context import Context
from autograder.report.feedback import plural, student_message
from autograder.report.outputs import Marks, dumps, marks, student_checks, write_atomic
from autograder.selfcheck.api import PASSED
from autograder.text import valid_text

# Markdown punctuation that could start emphasis, a link, an image, a heading, a list, a table
# or a code span; escaped with a backslash. HTML's <, > and & become entities first.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def md_text(text: str) -> str:
    """``text`` shown literally by a Markdown renderer: no formatting, no link, no image, no HTML."""
    text = valid_text(str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = [_MD_SPECIAL.sub(r"\\\1", line) for line in text.splitlines()]
    return "  \n".join(lines)  # a Markdown line break, not a new paragraph


def results_json(result: Result, mark: Marks | None = None, manual_tests: bool = True, template=None) -> dict:
    """The results.json of one submission. ``manual_tests``: include the hand-graded questions as
    tests (our own feedback); Gradescope grades written answers itself, so its runner leaves them out.
    """
    mark = mark or marks(result)
    tests = []
    numbers: dict[str, int] = {}
    questions = list(result.questions)
    # Hidden checks masked (name, points, the mistake's name): results.json is handed back.
    for check in student_checks(result):
        question = check.question
        numbers[question] = numbers.get(question, 0) + 1
        index = questions.index(question) + 1 if question in questions else 0
        passed = check.status == PASSED
        message = md_text(check.message)
        if not passed:
            message = f"**{md_text(check.status)}**: {message}"
        if check.mistake and not passed and not check.hidden:  # a hidden one names it already
            message += f"  \n*Looks like:* {md_text(check.mistake)}"
        tests.append({
            "name": f"{question}: {check.name.removeprefix('test_').replace('_', ' ')}",
            "number": f"{index}.{numbers[question]}",
            "score": check.points, "max_score": check.max_points,
            "status": "passed" if passed else "failed",  # Gradescope's own two words
            "output": message, "output_format": "md",
            "visibility": "after_published" if check.hidden else "visible",
            "tags": [question, "hidden" if check.hidden else "public"],
        })
    if manual_tests:
        for offset, (question, info) in enumerate(result.written.items(), start=len(questions) + 1):
            score = mark.manual.get(question)
            state = ("your answer changed after it was graded: it will be graded again" if question in mark.stale
                     else "graded by your instructor" if score is not None else "not graded yet")
            comment = mark.comments.get(question)
            items = "".join(f"  \n- {points:+g}: {md_text(label)}" + (f": {md_text(note)}" if note else "")
                            for label, points, note in mark.items.get(question, []))
            tests.append({
                "name": f"{question} (graded by hand)", "number": f"{offset}.1", "score": score or 0,
                "max_score": info.max_points, "status": "passed" if score == info.max_points else "failed",
                "output": md_text(state) + (f"  \n*Comment:* {md_text(comment)}" if comment else "") + items,
                "output_format": "md", "visibility": "visible", "tags": [question, "manual"],
            })
    automatic = f"Automatic score {result.auto_total:g} / {result.auto_max:g}."
    output = md_text(student_message(result, template) or automatic)
    written = sum(info.max_points for info in result.written.values())
    if written and not manual_tests:
        answers = plural(len(result.written), "written answer")
        output += f"  \n{answers[0].upper()}{answers[1:]} ({plural(written, 'point')}) graded by hand."
    if mark.penalty:
        output += f"  \n{plural(mark.days_late, 'day')} late: {plural(mark.penalty, 'point')} off."
    if result.isolation_note:
        # About the grader's machine, not the student's work: a test Gradescope never shows students
        # (visibility "hidden"), worth nothing, so the instructor still sees it.
        last = len(questions) + len(result.written) + 1
        tests.append({"name": "grader environment (instructors only)", "number": f"{last}.1",
                      "score": 0.0, "max_score": 0.0,
                      "status": "passed", "output": md_text(result.isolation_note), "output_format": "md",
                      "visibility": "hidden", "tags": ["grader"]})
    score = mark.total if manual_tests else result.auto_total - mark.penalty
    return {"score": max(0.0, score), "output": output, "output_format": "md", "visibility": "visible",
            "stdout_visibility": "hidden", "execution_time": round(float(result.seconds), 3),
            "tests": tests}


def write(context: Context) -> list[tuple[str, Exception]]:
    from autograder.grading.intake import student_folder

    failed = []
    for result in context.results:
        try:
            write_atomic(student_folder(context.out, result.student) / "results.json",
                         dumps(results_json(result, context.marks.get(result.student),
                                            template=context.template)))
        except (OSError, ValueError) as error:
            failed.append((result.student, error))
    return failed
