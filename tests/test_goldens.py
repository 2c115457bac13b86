"""The outputs of the sample class and of a slice of the corpus, under a fixed seed, equal their goldens.

For each assignment, ``samples/<id>/`` (alice: full marks, bob: the corpus's sample mistakes,
carol: blank, dave: a loop that times out) is graded by the real ``dlbasics grade`` with a seed
of the test suite's own (``DLBASICS_SEED`` in the command's environment). ``grades.csv``, every
student's ``results.json`` and ``summary.json`` are compared with
``tests/goldens/samples-<id>.json``, after masking what changes from run to run or machine to
machine: the submission time (the file's modification time), execution times, the paths of
the run's folders and the sandbox's notes on what this machine could not isolate. Any other
change to a grade, a message or a total shows as a diff; if it is intended (a check added, a
message reworded), rerun with ``--update-goldens`` and commit the reviewed file. Other tests take
totals from the assignment's checks, never from pasted numbers, so adding a check changes these
goldens and nothing else (``tests/test_authoring.py``).
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from conftest import run_dlbasics

from autograder.checks import ASSIGNMENTS, KIT_ROOT

SEED = "goldens: the test suite's fixed seed of the hidden inputs"
MASK = "<masked>"
# Execution times and the like: seconds measured, never decided.
TIMES = {"execution_time", "seconds", "graded_at"}


def masked(value, paths: list[str]):
    """``value`` with run-dependent fields replaced by MASK (recursively)."""
    if isinstance(value, dict):
        return {k: MASK if k in TIMES else masked(v, paths) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item, paths) for item in value]
    if isinstance(value, str):
        for path in paths:
            value = value.replace(path, "<" + "folder" + ">")
        # The isolation notes say what this machine's sandbox could not do (no bubblewrap, no
        # seccomp): a property of the machine, not of the grade.
        value = re.sub(r"(  \n)?isolation reduced: [^\n]*", "", value)
        # A time of day in a message (a submission time) is run-dependent too.
        return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?", "<time>", value)
    return value


def outputs_of(out, paths: list[str]) -> dict:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = [{**row, "submitted": MASK} for row in csv.DictReader(handle)]
    results = {folder.name: json.loads((folder / "results.json").read_text(encoding="utf-8"))
               for folder in sorted((out / "feedback").iterdir())}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # Mistakes of equal count come in the order the gradebook gave their results
    # (Counter.most_common keeps first-seen order among ties), which varies with --jobs; only
    # the counts and the set of tied names are the run's result.
    summary["top_mistakes"] = sorted(summary["top_mistakes"], key=lambda item: (-item[1], item[0]))
    return masked({"grades.csv": rows, "results.json": results, "summary.json": summary}, paths)


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_the_sample_class_grades_as_its_golden(assignment, tmp_path, golden):
    out = tmp_path / "out"
    samples = KIT_ROOT / "samples" / assignment.id
    run_dlbasics("grade", assignment.id, samples, "--out", out, "--quiet", env={"DLBASICS_SEED": SEED})
    golden.check(f"samples-{assignment.id}.json", outputs_of(out, [str(out), str(samples), str(KIT_ROOT)]))


def corpus_slice(assignment) -> dict[str, dict]:
    """One notebook per question: the reference answers with that question's first corpus mistake."""
    from corpus.mistakes import MISTAKES

    from autograder.notebook.fill import fill, solution_answers

    answers = solution_answers(assignment)
    chosen: dict[str, dict] = {}
    for assignment_id, question, case, source, _ in MISTAKES:
        if assignment_id == assignment.id and not any(name.startswith(f"{question}-") for name in chosen):
            chosen[f"{question}-{case}"] = fill(assignment, {**answers, question: source})
    return chosen


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.id)
def test_a_slice_of_the_corpus_grades_as_its_golden(assignment, tmp_path, golden):
    """A known mistake per question, beside the reference answers: each grade and message as stored."""
    from autograder.notebook.fill import write

    submissions = tmp_path / "submissions"
    notebooks = corpus_slice(assignment)
    assert notebooks, "the corpus has no mistakes for this assignment"
    for student, notebook in notebooks.items():
        write(notebook, submissions / f"{student}.ipynb")
    out = tmp_path / "out"
    run_dlbasics("grade", assignment.id, submissions, "--out", out, "--quiet", env={"DLBASICS_SEED": SEED})
    golden.check(f"corpus-{assignment.id}.json", outputs_of(out, [str(out), str(submissions), str(KIT_ROOT)]))
