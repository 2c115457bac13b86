"""Formulas in written answers cost the grader bounded time and memory, and are drawn once.

The hostile formulas were found by trying mathtext on this machine, drawn in a process of their own
without limits (matplotlib 3.x, 110 dpi): ``SUBSTACK_BOMB`` (102 characters) had not finished after
100 s and held 5.0 GB; ``FRACTION_BOMB`` (169 characters) took 19 s and 535 MB. A formula of the
course draws in about 50 ms.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KIT_ROOT

from autograder.report import formulas, review
from autograder.report.safe import TOO_LARGE_NOTE

SUBSTACK_BOMB = r"\hspace{200000}\substack{" + "x\\\\" * 40 + "x}"
FRACTION_BOMB = r"\left(" + r"\frac{1}{" * 14 + "x" + "}" * 14 + r"\hspace{200000}\right)"
HONEST = r"\frac{\partial L}{\partial m}"
ANSWERS = [
    ["alice", f"The gradient is $${HONEST}$$ and it shrinks."],
    # Markdown eats one backslash of each pair (a backslash escapes punctuation): TeX's \\ is typed \\\\.
    ["mallory", f"Look: ${SUBSTACK_BOMB.replace(chr(92) * 2, chr(92) * 4)}$ and $${FRACTION_BOMB}$$ and $x^2$."],
]

# Renders the review page in a process of its own, so that its peak memory (and its children's:
# the formula drawers) is measured for this page alone, as the grader's would be.
RENDER = """
import json, resource, sys
from pathlib import Path
from autograder.report import review
from autograder.report.formulas import Formulas
answers = [tuple(a) for a in json.loads(sys.stdin.read())]
drawer = Formulas(Path(sys.argv[1]))
page = review.render("01-linear-regression", "written_convergence", answers, 2, formulas=drawer)
print(json.dumps({"page": page, "drawn": drawer.drawn,
                  "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

# What the grader may spend on one page of hostile formulas, its own process and any child: the
# issue's budget. Unbounded, SUBSTACK_BOMB alone takes 5 GB.
MAX_PEAK_KB = 2 * 1024 * 1024


def render_page(cache: Path, answers=ANSWERS) -> dict:
    process = subprocess.run([sys.executable, "-c", RENDER, str(cache)], input=json.dumps(answers), text=True,
                             capture_output=True, cwd=KIT_ROOT, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout)


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    cache = tmp_path_factory.mktemp("formulas") / "formula-cache"
    return cache, render_page(cache)


def test_hostile_formulas_are_shown_as_text_within_the_memory_budget(first):
    _, rendered = first
    page = rendered["page"]
    assert rendered["self_kb"] < MAX_PEAK_KB, rendered["self_kb"]
    assert rendered["children_kb"] < MAX_PEAK_KB, rendered["children_kb"]
    # The honest formulas are images; each bomb is its TeX as typed, with the note.
    assert f'alt="{HONEST}"' in page and 'alt="x^2"' in page
    assert page.count(TOO_LARGE_NOTE) == 2, page
    assert "\\hspace{200000}\\substack{" in page and 'alt="\\hspace' not in page
    assert rendered["drawn"] == 4


def test_a_rerun_draws_nothing_and_writes_the_same_page(first):
    cache, rendered = first
    again = render_page(cache)
    assert again["drawn"] == 0 and again["page"] == rendered["page"]
    # The outcome of each formula is cached by its content and the renderer: one file each.
    assert len([p for p in cache.iterdir() if p.suffix in (".png", ".large", ".text")]) == 4
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in cache.rglob("*")}
    assert all(mode == ("0o700" if (cache / name).is_dir() else "0o600") for name, mode in modes.items()
               if (cache / name).exists()), modes


def test_the_cache_key_holds_the_formula_and_the_renderer():
    from importlib.metadata import version

    renderer = formulas.renderer()
    assert version("matplotlib") in renderer and f"dpi {formulas.DPI}" in renderer
    assert formulas.key("x", renderer) != formulas.key("y", renderer)
    assert formulas.key("x", renderer) != formulas.key("x", renderer + "!")


def test_a_child_that_dies_costs_only_the_formula_it_was_drawing(tmp_path, monkeypatch):
    # A crash inside matplotlib's C code cannot be caught by the child: simulated by a child that
    # ends itself when it reaches one formula. The parent marks that one too large and starts a
    # new child for the rest.
    monkeypatch.setattr(formulas, "_CHILD", formulas._CHILD.replace(
        "    buffer = io.BytesIO()\n", "    buffer = io.BytesIO()\n    if tex == 'die':\n        os._exit(3)\n", 1))
    drawn = formulas.Formulas(tmp_path / "cache").draw(["a+b", "die", "c+d"])
    assert drawn["a+b"].outcome == formulas.PNG and drawn["c+d"].outcome == formulas.PNG
    assert drawn["die"].outcome == formulas.TOO_LARGE


def test_a_child_that_cannot_start_blames_no_formula(tmp_path, monkeypatch):
    monkeypatch.setattr(formulas, "_CHILD", "raise SystemExit(1)")
    drawn = formulas.Formulas(tmp_path / "cache").draw(["a+b"])
    assert drawn["a+b"].outcome == formulas.NOT_DRAWN
    assert not list((tmp_path / "cache").glob("*.large"))  # tried again next run


def test_review_pages_of_a_run_share_the_cache_under_the_output_folder(tmp_path):
    page = review.render("01-linear-regression", "q", [("a", "$y = m x + b$")], 2,
                         formulas=formulas.Formulas(tmp_path / "formula-cache"))
    assert 'alt="y = m x + b"' in page
    assert len(list((tmp_path / "formula-cache").glob("*.png"))) == 1


def test_the_review_pages_of_a_class_draw_their_formulas_in_one_child_started_before_any_page(tmp_path, monkeypatch):
    # Each written question's page once started a child of its own (Python and matplotlib again); the
    # review writer now starts one child for every page's formulas before the other writers write
    # (report.write_all), and its pages then find them all in the cache (issue 21).
    from types import SimpleNamespace

    from autograder.checks import get_assignment
    from autograder.grading.grade import load_template
    from autograder.grading.result import WrittenAnswer
    from autograder.report.context import Context

    assignment = get_assignment("03-making-training-converge")  # two written questions
    template = load_template(assignment)
    questions = list(template.written)
    assert len(questions) >= 2
    results = [SimpleNamespace(student=f"s{i}", status="graded", written={
        question: WrittenAnswer(2, f"See ${letter} + {n}$", untouched=False) for n, question in enumerate(questions)})
        for i, letter in enumerate("abc")]
    context = Context(assignment, template, results, {}, tmp_path / "out", seed="a seed for the pseudonyms")
    started = []
    real = formulas.Formulas._run_child

    def counted(self, todo, keys, deadline):
        started.append(sorted(todo))
        return real(self, todo, keys, deadline)

    monkeypatch.setattr(formulas.Formulas, "_run_child", counted)
    review.start(context)
    assert review.write(context) == []
    assert len(started) == 1, started
    # Every student's formula of every page, with the model answers' and rubrics'.
    assert {f"{letter} + {n}" for letter in "abc" for n in range(len(questions))} <= set(started[0])
    for n, question in enumerate(questions):
        page = (tmp_path / "out" / "review" / f"{question}.html").read_text(encoding="utf-8")
        assert f'alt="a + {n}"' in page and f'alt="c + {n}"' in page
