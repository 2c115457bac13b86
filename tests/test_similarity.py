"""similarity.html: a disguised copy is found, independent work and template code are not, and the page is inert.

The class is built from the assignment's own independent implementations (the reference answer,
the correct variants and the mistakes of ``solutions/<id>/corpus.py``) and disguised with the
benchmark's corpus builder (``bench/similarity_corpus.py``), the way bench/similarity.py
measures precision and recall.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
from conftest import KIT_ROOT
from test_report_safety import EVIL_HTML, HTML_ID, audit

from autograder.checks import ASSIGNMENTS
from autograder.grading.grade import load_template
from autograder.grading.intake import digest
from autograder.grading.result import Result
from autograder.notebook.fill import fill
from autograder.notebook.fill import write as write_notebook
from autograder.report import similarity
from autograder.report.context import Context
from autograder.selfcheck.status import Status

sys.path.insert(0, str(KIT_ROOT / "bench"))
from similarity_corpus import DISGUISES, _stubs, disguise, variants  # noqa: E402

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]


@pytest.fixture(scope="module")
def template():
    return load_template(ASSIGNMENT)


@pytest.fixture(scope="module")
def independent():
    """Eight students, student i writing the i-th independent implementation of every question
    (a question with fewer implementations repeats them: honest students sharing the obvious code)."""
    pool = variants(ASSIGNMENT)
    return {f"s{i}": {q: options[i % len(options)][1] for q, options in pool.items()} for i in range(8)}


def cells_of(template, answers: dict[str, str], extra=()) -> list[tuple[str, str]]:
    """A student's code as the writer reads it: the notebook filled, then rebuilt against the template."""
    return similarity.notebook_cells(template, fill(ASSIGNMENT, answers, extra_cells=list(extra)))


def flagged(template, students: dict[str, list[tuple[str, str]]], **options) -> set[frozenset]:
    codes = [similarity.fingerprint(s, cells) for s, cells in sorted(students.items())]
    template_hashes = options.pop("template_hashes", similarity.template_hashes(similarity.template_code(template)))
    return {frozenset((p.a, p.b)) for p in similarity.compare(codes, template_hashes, **options)}


def disguised_copy(answers, chosen=DISGUISES, seed=3):
    keep = set(_stubs(ASSIGNMENT))
    return disguise(answers, random.Random(seed), keep, _stubs(ASSIGNMENT), tuple(chosen))


def test_a_disguised_copy_is_found_and_independent_work_is_not(template, independent):
    answers, extra = disguised_copy(independent["s3"])
    # The disguise really changed the code: renamed, reordered, moved to a cell at the end, recommented.
    assert answers != independent["s3"] and extra
    assert any(answers[q] == _stubs(ASSIGNMENT)[q] for q in answers)  # one answer moved to an added cell
    students = {s: cells_of(template, a) for s, a in independent.items()}
    students["copier"] = cells_of(template, answers, extra)
    assert flagged(template, students) == {frozenset(("s3", "copier"))}


def test_renaming_alone_is_seen_through_only_because_of_the_normalisation(template, independent, monkeypatch):
    """The control: without the normalisation of names a renamed copy is missed (so the test above
    depends on it). Breaking ``tokens`` (names kept as typed) makes the test above fail too."""
    answers, extra = disguised_copy(independent["s5"], chosen=("rename",))
    students = {s: cells_of(template, a) for s, a in independent.items()}
    students["renamer"] = cells_of(template, answers, extra)
    assert frozenset(("s5", "renamer")) in flagged(template, students)
    normalise = similarity.tokens

    def raw_names(source):
        import io
        import tokenize

        names = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.NAME]
        out = normalise(source)
        iterator = iter(names)
        for token in out:
            if token.text == "V":
                token.text = next(iterator, "V")
        return out

    monkeypatch.setattr(similarity, "tokens", raw_names)
    assert frozenset(("s5", "renamer")) not in flagged(template, students)


def test_two_independent_solutions_are_not_flagged(template):
    pool = variants(ASSIGNMENT)
    # Two students with a different implementation of every question that has more than one.
    first = {q: options[0][1] for q, options in pool.items()}
    second = {q: options[-1][1] for q, options in pool.items()}
    students = {"first": cells_of(template, first), "second": cells_of(template, second)}
    assert flagged(template, students) == set()


def test_template_code_alone_never_flags(template, independent):
    """Two students who answered nothing and pasted the template's own story cells into cells of
    their own share a lot of code, all of it the template's: no evidence. (Without the template's
    fingerprints, ``template_hashes=set()``, this pair is flagged: the exclusion is what holds.)"""
    from autograder.notebook.submission import _source, nbgrader_meta

    story = [_source(c) for c in similarity_template_cells() if c.get("cell_type") == "code"
             and str(nbgrader_meta(c).get("grade_id")).startswith("story_")]
    assert len(story) >= 3
    students = {s: cells_of(template, a) for s, a in independent.items()}
    students["blank1"] = cells_of(template, {}, story)
    students["blank2"] = cells_of(template, {}, story[::-1])
    assert flagged(template, students) == set()
    assert frozenset(("blank1", "blank2")) in flagged(template, students, template_hashes=set())


def similarity_template_cells():
    from autograder.notebook.submission import load_notebook

    return load_notebook(ASSIGNMENT.release)["cells"]


def test_the_most_common_solution_is_ignored(template, independent):
    """Six of ten students write the reference answers (the obvious code): shared by more than
    CLASS_SHARE of the class, it is no evidence against any two of them."""
    reference = {q: options[0][1] for q, options in variants(ASSIGNMENT).items()}
    students = {s: cells_of(template, a) for s, a in list(independent.items())[:4]}
    for number in range(6):
        students[f"ref{number}"] = cells_of(template, reference)
    assert flagged(template, students) == set()
    # Without the class-share exclusion every pair of them would be flagged.
    assert len(flagged(template, students, share=1.0)) >= 15


def test_hostile_code_is_bounded_and_never_stops_the_comparison(template, independent):
    huge = "x = 1\n" * 2_000_000  # a 12 MB cell
    broken = ['"""never closed', "def f(:\n  return", "(" * 50_000, "%%bash\n!rm -rf /\n%matplotlib inline",
              "\x00\x01\ud800 ünïcode = '\u202e'", "\t\n  \t\n"]
    cells = [("answer", huge), *[(f"added #{i}", source) for i, source in enumerate(broken)]]
    code = similarity.fingerprint("hostile", cells)
    assert sum(len(source) for _, source in code.cells) <= similarity.MAX_STUDENT_CHARS
    assert max(len(source) for _, source in code.cells) <= similarity.MAX_CELL_CHARS
    assert any("cut at" in note for note in code.notes)
    students = {s: cells_of(template, a) for s, a in independent.items()}
    codes = [similarity.fingerprint(s, c) for s, c in students.items()] + [code]
    similarity.compare(codes, similarity.template_hashes(similarity.template_code(template)))


def test_the_page_shows_the_pair_side_by_side_and_is_inert(template, independent, tmp_path):
    evil = "\n".join(f"# {attack}" for attack in EVIL_HTML)
    answers = {q: source + "\n" + evil + "\nlabel = '</pre><script>alert(1)</script>'\n"
               for q, source in independent["s2"].items()}
    students = {s: cells_of(template, a) for s, a in independent.items() if s != "s2"}
    students[HTML_ID] = cells_of(template, answers)
    students["=cmd|' /C calc'!A0"] = cells_of(template, disguised_copy(answers, ("comments", "whitespace"))[0])
    codes, pairs = similarity.analyse(students, similarity.template_code(template))
    assert {frozenset((p.a, p.b)) for p in pairs} == {frozenset((HTML_ID, "=cmd|' /C calc'!A0"))}
    page = similarity.render(ASSIGNMENT.id, codes, pairs, [("<b>gone</b>", "<script>x</script>")])
    parsed = audit(page, "similarity.html")
    text = "".join(parsed.text)
    for attack in EVIL_HTML:
        assert attack in text
    assert "</pre><script>alert(1)</script>" in text and "<script>x</script>" in text
    # Matching lines are marked on both sides; the pair's heading names both students.
    assert page.count('class="m"') >= 2 * 5 and f"{HTML_ID} and =cmd" in text


def test_the_writer_compares_only_the_bytes_graded(template, independent, tmp_path):
    """Read again from each graded file: a file that changed since grading, a link, a missing
    file are listed as not compared, never followed or guessed; the copy is still found."""
    folder = tmp_path / "submissions"
    answers, extra = disguised_copy(independent["s1"])
    notebooks = {**{s: fill(ASSIGNMENT, a) for s, a in independent.items()},
                 "copier": fill(ASSIGNMENT, answers, extra_cells=extra)}
    results = []
    for student, notebook in notebooks.items():
        path = write_notebook(notebook, folder / f"{student}.ipynb")
        results.append(Result(ASSIGNMENT.id, student, str(path), Status.GRADED, hash=digest(path.read_bytes())))
    changed = results[0]
    Path(changed.file).write_text(Path(changed.file).read_text() + " ")
    secret = tmp_path / "secret.ipynb"
    write_notebook(notebooks["s1"], secret)
    link = folder / "linked.ipynb"
    link.symlink_to(secret)
    results += [Result(ASSIGNMENT.id, "linked", str(link), Status.GRADED, hash=digest(secret.read_bytes())),
                Result(ASSIGNMENT.id, "gone", str(folder / "gone.ipynb"), Status.GRADED, hash="0" * 64),
                Result(ASSIGNMENT.id, "nobody", "-", Status.NO_SUBMISSION)]
    out = tmp_path / "out"
    context = Context(ASSIGNMENT, template, results, {}, out)
    assert similarity.write(context) == []
    data = json.loads((out / "similarity.json").read_text())
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [("copier", "s1")]
    why = {entry["student"]: entry["why"] for entry in data["not_compared"]}
    assert set(why) == {changed.student, "linked", "gone"}
    assert "changed since it was graded" in why[changed.student]
    assert "symbolic link" in why["linked"] and "cannot open" in why["gone"]
    audit((out / "similarity.html").read_text(encoding="utf-8"), "similarity.html")


def test_fingerprints_do_not_depend_on_the_process():
    # blake2b, not hash(): two runs (and PYTHONHASHSEED) give the same fingerprints.
    import subprocess

    source = "def f(a, b):\n    total = a + b * 2\n    return [total for _ in range(3)], 'text'\n" * 3
    program = ("from autograder.report import similarity as s; "
               f"print(sorted(s.fingerprint('x', [('c', {source!r})]).where))")
    runs = {subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=KIT_ROOT,
                           env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"}, check=True).stdout
            for seed in (1, 2)}
    assert len(runs) == 1 and runs != {"[]\n"}


def test_a_file_that_breaks_the_reader_is_listed_not_fatal(template, independent, tmp_path, monkeypatch):
    """Whatever one file makes the reading or the tokenizer raise, the page is written for the others."""
    folder = tmp_path / "submissions"
    results = []
    for student in ("s0", "s1", "odd"):
        path = write_notebook(fill(ASSIGNMENT, independent.get(student, {})), folder / f"{student}.ipynb")
        results.append(Result(ASSIGNMENT.id, student, str(path), Status.GRADED, hash=digest(path.read_bytes())))
    results.append(Result(ASSIGNMENT.id, "broken", str(folder / "broken.ipynb"), Status.UNREADABLE,
                          "the file is not UTF-8 text", hash="1" * 64))
    cells_of_notebook = similarity.notebook_cells

    def fragile(template, notebook):
        fragile.calls += 1
        if fragile.calls == 3:  # the third file read, "odd"
            raise TypeError("an odd shape")
        return cells_of_notebook(template, notebook)

    fragile.calls = 0
    monkeypatch.setattr(similarity, "notebook_cells", fragile)
    out = tmp_path / "out"
    assert similarity.write(Context(ASSIGNMENT, template, results, {}, out)) == []
    data = json.loads((out / "similarity.json").read_text())
    why = {entry["student"]: entry["why"] for entry in data["not_compared"]}
    assert data["compared"] == 2 and "TypeError" in why["odd"] and why["broken"].startswith("unreadable")


@pytest.mark.slow
def test_benchmark_smoke_run(tmp_path):
    """bench/similarity.py runs end to end on a small class (a smoke check, not a timed test)."""
    import subprocess

    report = tmp_path / "similarity.json"
    result = subprocess.run([sys.executable, "bench/similarity.py", "--smoke", "--json", str(report)],
                            cwd=KIT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    runs = json.loads(report.read_text())
    assert len(runs) == 1 and runs[0]["n"] == 20 and runs[0]["true_pairs"] > 0
    assert "precision" in result.stdout and "| threshold |" in result.stdout


def test_dlbasics_grade_writes_the_pair_of_a_real_run(independent, tmp_path):
    """Through `dlbasics grade` (the files and hashes as intake records them) and `dlbasics report`."""
    from conftest import grade_notebooks, run_dlbasics

    answers, extra = disguised_copy(independent["s4"])
    notebooks = {s: fill(ASSIGNMENT, a) for s, a in list(independent.items())[:5]}
    notebooks["copier"] = fill(ASSIGNMENT, answers, extra_cells=extra)
    graded = grade_notebooks(ASSIGNMENT.id, notebooks, tmp_path, "--jobs", "2", timeout=900)
    data = json.loads((graded.out / "similarity.json").read_text())
    assert data["compared"] == 6 and data["not_compared"] == []
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [("copier", "s4")]
    audit((graded.out / "similarity.html").read_text(encoding="utf-8"), "similarity.html")
    (graded.out / "similarity.json").unlink()
    run_dlbasics("report", ASSIGNMENT.id, "--out", graded.out)
    assert json.loads((graded.out / "similarity.json").read_text()) == data
