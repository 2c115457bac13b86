"""A class of notebooks for measuring similarity: independent work, and copies in disguise.

``build_class(assignment, n, copies, rng)`` returns ``(notebooks, copied_pairs)``:

* **Independent students**: for each code question, one answer drawn from the assignment's own
  independent implementations: the reference answer, every correct variant and every mistake of
  ``solutions/<id>/corpus.py`` (each written separately, by hand, to be graded right or wrong), or
  the stub left unanswered (1 in 10). Two independent students share a whole answer when they drew
  the same variant, as honest students who write the obvious code do.
* **Copies**: a student's answers copied from one independent student, disguised by a random
  choice of: identifiers renamed (parameters, local variables, helpers, consistently), top-level
  statements of a cell reordered, one answer moved to a cell added at the end, comments removed
  or added, extra exploratory cells added, whitespace and indentation changed. A *partial* copy
  takes only half of the questions (the rest drawn independently).

``copied_pairs`` holds every pair that shares copied code (the source with each of its copies,
and the copies of one source with one another): the ground truth for precision and recall.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import random
import re
import tokenize

from autograder.notebook.fill import fill, solution_answers

# Disguises a copier applies; each copy gets a random non-empty subset (listed on the copy).
DISGUISES = ("rename", "reorder", "move", "comments", "extra", "whitespace")

EXTRA_CELLS = [
    "print(x.shape, y.shape)",
    "# quick look\nfor i in range(3):\n    print(i, x[i], y[i])",
    "import matplotlib.pyplot as plt\nplt.figure()\nplt.title('try')\nplt.show()",
    "test_value = 3.0\nprint('value', test_value * 2)",
    "# scratch\nresult_check = [v * 2 for v in range(5)]\nprint(result_check)",
    "print('done')",
]
COMMENTS = ["# compute it", "# step", "# TODO check this", "# as in the lecture", "# shape (n, 1)",
            "# helper", "# return the result", "# note: float32"]
NEW_NAMES = ["val", "tmp", "arr", "res", "out", "data", "inp", "tgt", "coef", "acc", "total", "cur", "prev",
             "item", "buf", "aux", "elem", "part", "piece", "thing"]


def _strip_markers(source: str) -> str:
    return "".join(line for line in source.splitlines(keepends=True)
                   if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def variants(assignment) -> dict[str, list[tuple[str, str]]]:
    """Per code question: ``[(name, source)]`` of its independent implementations."""
    corpus = assignment.corpus_module()
    reference = solution_answers(assignment)
    from autograder.grading.grade import load_template

    template = load_template(assignment)
    out = {q: [("reference", _strip_markers(reference[q]))] for q in template.answers}
    for question, name, source, *_ in [*corpus.CORRECT, *corpus.MISTAKES]:
        if question in out:
            out[question].append((name, source))
    return out


def _stubs(assignment) -> dict[str, str]:
    from autograder.grading.grade import load_template

    return dict(load_template(assignment).answers)


# --- disguises ----------------------------------------------------------------------------------------


def rename(source: str, rng: random.Random, keep: set[str]) -> str:
    """Parameters, local variables and helper functions renamed consistently (keywords, builtins,
    attributes, keyword-argument names and ``keep`` untouched)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    fstrings = " ".join(re.findall(r"\bf(['\"]).*?\1", source))  # names inside f-strings stay (kept simple)
    names = {n for n in names if n not in keep and n not in dir(builtins) and not keyword.iskeyword(n)
             and not re.search(rf"\b{re.escape(n)}\b", fstrings)}
    existing = set(re.findall(r"\w+", source))
    pool = [n for n in NEW_NAMES if n not in existing]
    rng.shuffle(pool)
    mapping = {}
    for number, name in enumerate(sorted(names)):
        mapping[name] = pool[number] if number < len(pool) else f"v{number}"
    lines = source.split("\n")
    edits = []
    depth, previous = 0, None
    toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for i, tok in enumerate(toks):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        if tok.type == tokenize.NAME and tok.string in mapping and previous != ".":
            following = next((t for t in toks[i + 1:] if t.type != tokenize.NL), None)
            is_keyword_argument = depth > 0 and following is not None and following.string == "=" \
                and (previous in ("(", ",") or previous is None)
            if not is_keyword_argument:
                edits.append((tok.start[0] - 1, tok.start[1], tok.end[1], mapping[tok.string]))
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            previous = tok.string
    for row, start, end, new in sorted(edits, reverse=True):
        lines[row] = lines[row][:start] + new + lines[row][end:]
    return "\n".join(lines)


def reorder(source: str, rng: random.Random) -> str:
    """The cell's top-level statements (imports, helpers, the function) in another order."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source
    if len(body) < 2:
        return source
    lines = source.split("\n")
    chunks = []
    for number, node in enumerate(body):
        first = min([node.lineno, *[d.lineno for d in getattr(node, "decorator_list", [])]]) - 1
        last = body[number + 1].lineno - 1 if number + 1 < len(body) else len(lines)
        chunks.append("\n".join(lines[first:last]).rstrip("\n"))
    head = "\n".join(lines[:body[0].lineno - 1])
    rng.shuffle(chunks)
    return (head + "\n" if head else "") + "\n\n".join(chunks) + "\n"


def comments(source: str, rng: random.Random) -> str:
    """Every comment removed, then a few new ones added (each copier does one or both)."""
    kept = []
    for line in source.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("#") and rng.random() < 0.8:
            continue
        kept.append(line)
    out = []
    for line in kept:
        if line.strip() and rng.random() < 0.25:
            indent = line[:len(line) - len(line.lstrip())]
            out.append(indent + rng.choice(COMMENTS))
        out.append(line)
    return "\n".join(out)


def whitespace(source: str, rng: random.Random) -> str:
    """Indentation of 2 spaces (or a tab) instead of 4, blank lines added, trailing spaces."""
    unit = rng.choice(["  ", "\t", "   "])
    out = []
    for line in source.split("\n"):
        stripped = line.lstrip(" ")
        level = (len(line) - len(stripped)) // 4
        out.append(unit * level + stripped + (" " if rng.random() < 0.2 else ""))
        if stripped and rng.random() < 0.15:
            out.append("")
    return "\n".join(out)


def disguise(answers: dict[str, str], rng: random.Random, keep: set[str], stubs: dict[str, str],
             chosen: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """``answers`` disguised with the ``chosen`` disguises: (answers, extra cells)."""
    out = {}
    for question, source in answers.items():
        if source == stubs.get(question):
            out[question] = source
            continue
        if "rename" in chosen:
            source = rename(source, rng, keep)
        if "reorder" in chosen:
            source = reorder(source, rng)
        if "comments" in chosen:
            source = comments(source, rng)
        if "whitespace" in chosen:
            source = whitespace(source, rng)
        out[question] = source
    extra = []
    if "move" in chosen:
        answered = [q for q in out if out[q] != stubs.get(q)]
        if answered:
            moved = rng.choice(answered)
            extra.append(out[moved])
            out[moved] = stubs[moved]
    if "extra" in chosen:
        extra += rng.sample(EXTRA_CELLS, rng.randint(1, 3))
    rng.shuffle(extra)
    return out, extra


# --- the class ----------------------------------------------------------------------------------------


def build_class(assignment, n: int = 200, copies: int = 30, seed: int = 0, partial_share: float = 0.3,
                unanswered: float = 0.1):
    """``n`` notebooks: ``n - copies`` independent students and ``copies`` disguised copies.

    Returns ``(notebooks {student: notebook}, copied_pairs {frozenset}, info {student: description})``.
    """
    rng = random.Random(seed)
    pool = variants(assignment)
    stubs = _stubs(assignment)
    keep = set(stubs)  # the graded functions' names: a copier cannot rename them

    def independent() -> dict[str, str]:
        return {q: (stubs[q] if rng.random() < unanswered else rng.choice(options)[1])
                for q, options in pool.items()}

    students: dict[str, tuple[dict[str, str], list[str]]] = {}
    info: dict[str, str] = {}
    originals = [f"s{number:03d}" for number in range(n - copies)]
    for student in originals:
        students[student] = (independent(), [])
        info[student] = "independent"
    # Most sources are copied once, some twice (three students sharing one solution).
    sources = []
    while len(sources) < copies:
        source = rng.choice(originals)
        sources += [source] * (2 if rng.random() < 0.2 else 1)
    sources = sources[:copies]
    copied_from: dict[str, str] = {}
    copied: dict[str, set[str]] = {}
    for number, source in enumerate(sources):
        student = f"c{number:03d}"
        answers = dict(students[source][0])
        partial = rng.random() < partial_share
        if partial:  # half of the questions copied, the rest written independently
            own = independent()
            for question in rng.sample(sorted(answers), len(answers) // 2):
                answers[question] = own[question]
        # What was copied: the answers taken from the source (not a stub, not the copier's own).
        copied[student] = {q for q, a in answers.items() if a == students[source][0][q] and a != stubs[q]}
        chosen = tuple(d for d in DISGUISES if rng.random() < 0.6) or (rng.choice(DISGUISES),)
        answers, extra = disguise(answers, rng, keep, stubs, chosen)
        students[student] = (answers, extra)
        copied_from[student] = source
        info[student] = f"copy of {source}{' (partial)' if partial else ''}: {', '.join(chosen)}"
    # The truth: a copy and its source share code if it copied at least one written answer; two
    # copies of one source, if they copied at least one answer in common.
    pairs = set()
    for copy, source in copied_from.items():
        if copied[copy]:
            pairs.add(frozenset((copy, source)))
        for other, other_source in copied_from.items():
            if other != copy and other_source == source and copied[copy] & copied[other]:
                pairs.add(frozenset((copy, other)))
    notebooks = {student: fill(assignment, answers, extra_cells=extra)
                 for student, (answers, extra) in students.items()}
    return notebooks, pairs, info
