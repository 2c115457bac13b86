"""Regenerate samples/: a small class of submissions for the demo and the benchmark.

    python scripts/make_samples.py

For every assignment found: alice, the reference answers; bob, partly wrong (the folder's
``corpus.SAMPLE_MISTAKES``); carol, unanswered; dave, an infinite loop at the top level and
inside one function (``corpus.SAMPLE_LOOP``), which times out.
"""

from __future__ import annotations

from autograder.checks import ASSIGNMENTS, KIT_ROOT
from autograder.notebook.fill import fill, solution_answers, write


def main() -> None:
    for assignment in ASSIGNMENTS.values():
        folder = KIT_ROOT / "samples" / assignment.id
        reference = solution_answers(assignment)
        write(fill(assignment, reference), folder / "alice.ipynb")
        corpus = assignment.corpus_module()
        write(fill(assignment, {**reference, **corpus.SAMPLE_MISTAKES}), folder / "bob.ipynb")
        write(fill(assignment, {}), folder / "carol.ipynb")
        name = corpus.SAMPLE_LOOP
        looping = reference[name].split("### BEGIN SOLUTION")[0].rstrip() + "\n    while True:\n        pass\n"
        write(fill(assignment, {**reference, name: looping}, extra_cells=["while True:\n    pass\n"]),
              folder / "dave.ipynb")
        print(f"wrote {folder.relative_to(KIT_ROOT)}/{{alice,bob,carol,dave}}.ipynb")


if __name__ == "__main__":
    main()
