"""A small graded course for the desk and hand-scoring tests: real notebooks, graded by `dlbasics grade`.

Seven roster students, six submissions of 01 whose written answers cover what the desk must
handle: a good answer, a blank one (the template's placeholder), two identical answers, a
near-identical one, two that differ in wording but use the same words of the model answer, and a
hostile one (script, event handlers, a huge formula, bidi overrides). ``zed`` submitted nothing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from conftest import run_dlbasics

from autograder.checks import ASSIGNMENTS
from autograder.notebook.fill import fill, solution_answers, write

ASSIGNMENT = "01-linear-regression"
QUESTION = "written_convergence"
GOOD = ("The slope gets far bigger gradients than the intercept because the hours are tens, so one learning rate "
        "keeps the intercept crawling. Standardise the input and the loss converges in a few steps.")
NEAR = GOOD.replace("far bigger", "much bigger").replace("a few steps", "few steps")
KEYWORDS_1 = "Intercept moves slowly; the slope overshoots. Fix: standardise."
KEYWORDS_2 = "Standardise! Otherwise the slope overshoots while the intercept moves only slowly."
BIDI = "\u202egnp.exe\u202c \u2066isolated\u2069 \u200f"
HOSTILE = ("# <script>alert('desk')</script>\n\n<img src=x onerror=alert(1)> <svg onload=alert(2)>\n\n"
           "[x](javascript:alert(3)) ![p](http://evil.example/p.png) \"><b onmouseover=alert(4)>b</b>\n\n"
           + BIDI + "\n\n$" + "\\frac{1}{" * 40 + "x" + "}" * 40 + "$ and $" + "x^" * 140 + "x$\n")
WRITTEN = {"ann": GOOD, "dan": GOOD, "eve": NEAR, "fay": KEYWORDS_1, "gus": KEYWORDS_2, "cat": HOSTILE}
ROSTER = ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "zed"]


@dataclass
class Course:
    root: Path
    out: Path  # COURSE/grades/01-linear-regression

    @property
    def gradebook(self) -> Path:
        return self.out / "gradebook.sqlite"

    def copy(self, target: Path) -> Course:
        """A copy to change: each test starts from the same graded class."""
        shutil.copytree(self.root, target)
        return Course(target, target / "grades" / ASSIGNMENT)


def graded_course(workdir: Path) -> Course:
    assignment = ASSIGNMENTS[ASSIGNMENT]
    root = workdir / "course"
    run_dlbasics("init", root)
    (root / "roster.csv").write_text("id,name,email,lms_id,section\n" + "".join(
        f"{s},{s.title()} Tester,{s}@example.org,,A\n" for s in ROSTER), encoding="utf-8")
    submissions = workdir / "submissions"
    answers = solution_answers(assignment)
    for student in ROSTER:
        if student == "zed":
            continue
        chosen = dict(answers)
        if student in WRITTEN:
            chosen[QUESTION] = WRITTEN[student]
        else:
            chosen.pop(QUESTION)  # ben: the template's placeholder, untouched
        write(fill(assignment, chosen), submissions / f"{student}.ipynb")
    run_dlbasics("grade", ASSIGNMENT, submissions, "--course", root, "--quiet", "--jobs", "2")
    return Course(root, root / "grades" / ASSIGNMENT)
