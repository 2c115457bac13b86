"""similarity.html and similarity.json: pairs of submissions whose code is suspiciously alike.

It flags evidence for a person to look at; it scores nothing and changes no grade.

How (MOSS's winnowing, Schleimer, Wilkerson and Aiken, SIGMOD 2003, on Python tokens):

1. Each code cell a student wrote (answer cells and the cells they added, as ``rebuild`` takes
   them) is cut into Python tokens by the standard library's ``tokenize``. Comments, blank lines,
   indentation and line breaks inside a statement are dropped; every identifier that is not a
   keyword, a builtin or an attribute name (``torch.tensor`` keeps ``tensor``) becomes ``V``, every
   string ``S``. Renaming variables, reformatting, adding comments or docstrings changes nothing.
2. Every run of ``K`` tokens is hashed; winnowing keeps the smallest hash of each window of
   ``WINDOW`` consecutive ones, so any match of ``K + WINDOW - 1`` tokens is guaranteed to be seen.
   Fingerprints are a set per student: the order of functions and cells does not matter.
3. Fingerprints of the assignment's template (the stubs, the setup and story cells) and those
   that more than ``CLASS_SHARE`` of the class share (the usual correct answer to a short
   question) are ignored: they are no evidence of copying.
4. A pair is flagged when it shares at least ``MIN_SHARED`` fingerprints and they are at least
   ``THRESHOLD`` of each side's fingerprints. The page shows both sides' code with the matching
   lines marked.

Written by hand rather than with ``copydetect`` (0.5.0 on PyPI, the Python package that does this; its last
release is from March 2024): it compares directories
of files and writes its own HTML report, which would need the same audit as our pages (CSP,
escaping), it tokenizes with Pygments (a dependency the kit does not have), and it excludes
boilerplate files but not code that a share of the class has in common. The algorithm is a few
dozen lines over the standard library's ``tokenize``, bounded here in size and time (see the limits
below), and measured in bench/similarity.py.

The code is read again from each graded file, and compared only if its bytes still hash to the
grade's hash (the bytes graded); a file that moved or changed since is listed as not compared.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import tokenize
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from autograder.report.context import Context
from autograder.report.outputs import dumps, env, write_atomic
from autograder.selfcheck.status import Status

# --- limits and thresholds, each with its reason ----------------------------------------------------
# The course's answer cells are a few hundred characters to 3 KB (solutions/*/reference answers and
# corpus.py); a cell beyond 20,000 characters is not an answer anyone typed, and tokenizing it would
# only cost time: the rest is cut (and said so on the page).
MAX_CELL_CHARS = 20_000
# A whole submission's code: about 10 answer cells plus what a student adds. 100,000 characters
# bounds the tokenizing (about 30,000 tokens, a few milliseconds) whatever a notebook holds.
MAX_STUDENT_CHARS = 100_000
# Tokens per hashed run (MOSS's noise threshold): 16 tokens is about two short statements
# (``slope = sxy / sxx`` is 6); shorter runs match between honest solutions by chance. Chosen
# with bench/similarity.py (docs/benchmarks.md): 8 and 12 gave lower precision at equal recall.
K = 16
# Winnowing window: any common run of K + WINDOW - 1 = 23 tokens (about three lines) is found.
WINDOW = 8
# A fingerprint found in more than this share of the class is the common way to write it, not a
# copy (MOSS's -m option, as a share so it scales with the class). Measured (docs/benchmarks.md):
# 0.1 and 0.2 ignored so much of short answers that what was left of two honest students was a few
# fingerprints of one answer they happened to write alike; 0.3 to 0.5 did best.
CLASS_SHARE = 0.30
# ... but never fewer than this many students: a ring of four who copied from one another is
# still seen in a small class.
MIN_CLASS_COUNT = 4
# Flagged: at least this share of *each* side's fingerprints are also the other's. Honest students
# of a course with short answers write some answers identically (the obvious code): pairs sharing
# two or three of five answers are common in a class of 200, and 0.8 flagged them (precision
# about 0.5); 0.9 keeps the pairs that share nearly everything (see docs/benchmarks.md).
THRESHOLD = 0.9
# ... and at least this many fingerprints in common (about 15 lines of code): two short
# submissions that share a few lines are no evidence.
MIN_SHARED = 10
# The page shows at most this many pairs (the most alike first); similarity.json lists them all.
# With the cells that hold a match shown in full, the page is at most 100 x 2 x MAX_STUDENT_CHARS
# (20 MB) of code whatever is submitted; a real pair is a few kilobytes.
MAX_PAIRS_SHOWN = 100

_BUILTINS = frozenset(dir(builtins))
_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
            tokenize.ENDMARKER}
# A polynomial rolling hash over the tokens' own 64-bit hashes, modulo a Mersenne prime.
_PRIME = (1 << 61) - 1
_BASE = 1_000_003


@dataclass
class Token:
    text: str  # normalised
    line: int  # 1-based, in its cell
    end: int


def _strip_magics(source: str) -> str:
    """IPython's ``%magic`` and ``!shell`` lines blanked (not Python; line numbers kept)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def tokens(source: str) -> list[Token]:
    """The normalised tokens of one cell (see the module's docstring); broken code keeps what precedes the error."""
    out: list[Token] = []
    previous = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(_strip_magics(source)).readline):
            if tok.type in _DROPPED or (tok.type == tokenize.ERRORTOKEN and not tok.string.strip()):
                continue
            text = tok.string
            if tok.type == tokenize.NAME:
                if not (keyword.iskeyword(text) or text in _BUILTINS or previous == "."):
                    text = "V"
            elif tok.type == tokenize.STRING:
                text = "S"
            elif tok.type == tokenize.NEWLINE:
                text = ";"
            out.append(Token(text, tok.start[0], tok.end[0]))
            previous = tok.string
    except (tokenize.TokenError, SyntaxError):  # an unterminated string or bracket: keep what was read
        pass
    return out


_TOKEN_HASHES: dict[str, int] = {}


def _token_hash(text: str) -> int:
    # blake2b, not hash(): str hashes change with every process, fingerprints must not.
    value = _TOKEN_HASHES.get(text)
    if value is None:
        value = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest(), "big")
        if len(_TOKEN_HASHES) < 100_000:  # a cache of the token vocabulary, bounded
            _TOKEN_HASHES[text] = value
    return value


def kgram_hashes(toks: list[Token], k: int = K) -> list[int]:
    """The hash of every run of ``k`` consecutive tokens."""
    if len(toks) < k:
        return []
    values = [_token_hash(t.text) % _PRIME for t in toks]
    top = pow(_BASE, k - 1, _PRIME)
    h = 0
    for v in values[:k]:
        h = (h * _BASE + v) % _PRIME
    out = [h]
    for i in range(k, len(values)):
        h = ((h - values[i - k] * top) * _BASE + values[i]) % _PRIME
        out.append(h)
    return out


def winnow(hashes: list[int], window: int = WINDOW) -> list[int]:
    """Positions of the fingerprints: the minimum of each window (the rightmost on ties), each once."""
    if not hashes:
        return []
    if len(hashes) <= window:
        return [min(range(len(hashes)), key=lambda i: (hashes[i], -i))]
    chosen: list[int] = []
    for start in range(len(hashes) - window + 1):
        best = start
        for i in range(start + 1, start + window):
            if hashes[i] <= hashes[best]:
                best = i
        if not chosen or chosen[-1] != best:
            chosen.append(best)
    return chosen


@dataclass
class Code:
    """One student's code as compared: cells (label, source) and where each fingerprint is."""

    student: str
    cells: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    # fingerprint -> [(cell index, first line, last line)]
    where: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)


def bounded_cells(cells: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """The cells cut to the limits above, and notes saying what was cut."""
    kept, notes, total = [], [], 0
    for label, source in cells:
        if total >= MAX_STUDENT_CHARS:
            notes.append(f"cells after {MAX_STUDENT_CHARS:,} characters of code were not compared")
            break
        if len(source) > MAX_CELL_CHARS:
            notes.append(f"{label}: cut at {MAX_CELL_CHARS:,} characters")
            source = source[:MAX_CELL_CHARS]
        source = source[:MAX_STUDENT_CHARS - total]
        total += len(source)
        kept.append((label, source))
    return kept, notes


def fingerprint(student: str, cells: list[tuple[str, str]]) -> Code:
    cells, notes = bounded_cells(cells)
    code = Code(student, cells, notes)
    for index, (_label, source) in enumerate(cells):
        toks = tokens(source)
        hashes = kgram_hashes(toks, K)
        for position in winnow(hashes, WINDOW):
            code.where.setdefault(hashes[position], []).append(
                (index, toks[position].line, toks[position + K - 1].end))
    return code


def template_hashes(sources: list[str]) -> set[int]:
    """Every k-gram of the template's code (not only the winnowed ones): none of it is evidence."""
    out: set[int] = set()
    for source in sources:
        out.update(kgram_hashes(tokens(source[:MAX_STUDENT_CHARS]), K))
    return out


@dataclass
class Pair:
    a: str
    b: str
    shared: int  # fingerprints in common (after the exclusions)
    share_a: float  # of a's fingerprints, the share also in b
    share_b: float
    lines_a: dict[int, set[int]]  # cell index -> lines of a that match b
    lines_b: dict[int, set[int]]

    @property
    def score(self) -> float:
        # The smaller share: both sides must be mostly the same code. The larger one alone flags
        # every short submission whose few uncommon lines happen to be one common-enough answer
        # of a longer one (measured in bench/similarity.py: most false pairs were that).
        return min(self.share_a, self.share_b)


def common_fingerprints(codes: list[Code], share: float = CLASS_SHARE) -> set[int]:
    """Fingerprints that more than ``share`` of the class (and more than MIN_CLASS_COUNT students) have."""
    counts = Counter(h for code in codes for h in code.where)
    limit = max(MIN_CLASS_COUNT, share * len(codes))
    return {h for h, n in counts.items() if n > limit}


def compare(codes: list[Code], template: set[int] = frozenset(), *, share: float = CLASS_SHARE,
            threshold: float = THRESHOLD, min_shared: int = MIN_SHARED, everything: bool = False) -> list[Pair]:
    """Flagged pairs, the most alike first (``everything``: every pair sharing a fingerprint, for the bench).

    An inverted index (fingerprint -> students) counts the common fingerprints of each pair: the
    cost is the sum over fingerprints of the pairs sharing it, bounded by the class-share
    exclusion, not the square of the class times the code.
    """
    ignored = set(template) | common_fingerprints(codes, share)
    kept = [{h for h in code.where if h not in ignored} for code in codes]
    holders: dict[int, list[int]] = defaultdict(list)
    for index, hashes in enumerate(kept):
        for h in hashes:
            holders[h].append(index)
    together: Counter = Counter()
    for students in holders.values():
        for i, a in enumerate(students):
            for b in students[i + 1:]:
                together[a, b] += 1
    pairs = []
    for (a, b), shared in together.items():
        share_a, share_b = shared / len(kept[a]), shared / len(kept[b])
        if everything or (shared >= min_shared and min(share_a, share_b) >= threshold):
            pairs.append(Pair(codes[a].student, codes[b].student, shared, share_a, share_b, {}, {}))
    pairs.sort(key=lambda p: (-p.score, -p.shared, p.a, p.b))
    by_student = {code.student: (code, hashes) for code, hashes in zip(codes, kept)}
    for pair in pairs[:MAX_PAIRS_SHOWN] if not everything else []:
        (code_a, kept_a), (code_b, kept_b) = by_student[pair.a], by_student[pair.b]
        common = kept_a & kept_b
        pair.lines_a, pair.lines_b = _lines(code_a, common), _lines(code_b, common)
    return pairs


def _lines(code: Code, common: set[int]) -> dict[int, set[int]]:
    lines: dict[int, set[int]] = defaultdict(set)
    for h in common:
        for cell, first, last in code.where[h]:
            lines[cell].update(range(first, last + 1))
    return dict(lines)


# --- reading the graded code ------------------------------------------------------------------------


def template_code(template) -> list[str]:
    """The template's code cells (``Template.cells``): setup, stubs, stories, checks."""
    from autograder.notebook.submission import _source

    return [_source(cell) for cell in template.cells if cell.get("cell_type") == "code"]


def notebook_cells(template, notebook: dict) -> list[tuple[str, str]]:
    """The code a student wrote, as the grader ran it: answer cells and added cells, by label."""
    from autograder.notebook.submission import rebuild

    rebuilt = rebuild(template, notebook)
    return [(cell["label"], cell["source"]) for cell in rebuilt.cells if cell["label"] != "setup"]


def read_code(result, template) -> tuple[list[tuple[str, str]] | None, str]:
    """The graded code of ``result`` read again from its file, or ``None`` and why not."""
    from autograder.grading.intake import digest, read_submission
    from autograder.notebook.submission import UnreadableNotebook, parse_notebook

    if not result.hash or not result.file or result.file == "-":
        return None, str(result.status)
    try:
        data = read_submission(Path(result.file))
    except UnreadableNotebook as error:
        return None, f"the graded file cannot be read now: {error}"
    if digest(data) != result.hash:
        return None, "the file changed since it was graded: grade it again to compare it"
    try:
        return notebook_cells(template, parse_notebook(data)), ""
    except UnreadableNotebook as error:
        return None, str(error)


# --- the page ---------------------------------------------------------------------------------------


def _side(code: Code, lines: dict[int, set[int]]) -> list[dict]:
    """The cells of one side that hold a match, each line marked or not."""
    shown = []
    for index in sorted(lines):
        label, source = code.cells[index]
        rows = [(number, text, number in lines[index]) for number, text in enumerate(source.split("\n"), start=1)]
        shown.append({"label": label, "rows": rows})
    return shown


def render(assignment: str, codes: list[Code], pairs: list[Pair], not_compared: list[tuple[str, str]],
           share: float = CLASS_SHARE) -> str:
    by_student = {code.student: code for code in codes}
    shown = [{"pair": p, "a": _side(by_student[p.a], p.lines_a), "b": _side(by_student[p.b], p.lines_b)}
             for p in pairs[:MAX_PAIRS_SHOWN]]
    return env.get_template("similarity.html.j2").render(
        assignment=assignment, pairs=shown, flagged=len(pairs), compared=len(codes), not_compared=not_compared,
        notes=[(code.student, note) for code in codes for note in code.notes],
        limits={"k": K, "window": WINDOW, "share": share, "min_count": MIN_CLASS_COUNT, "threshold": THRESHOLD,
                "min_shared": MIN_SHARED, "max_pairs": MAX_PAIRS_SHOWN})


def to_json(assignment: str, codes: list[Code], pairs: list[Pair], not_compared: list[tuple[str, str]]) -> dict:
    return {
        "assignment": assignment,
        "compared": len(codes),
        "settings": {"k": K, "window": WINDOW, "class_share": CLASS_SHARE, "min_class_count": MIN_CLASS_COUNT,
                     "threshold": THRESHOLD, "min_shared": MIN_SHARED},
        "pairs": [{"a": p.a, "b": p.b, "shared": p.shared, "share_a": round(p.share_a, 4),
                   "share_b": round(p.share_b, 4)} for p in pairs],
        "not_compared": [{"student": s, "why": why} for s, why in not_compared],
    }


def analyse(students: dict[str, list[tuple[str, str]]], template_sources: list[str]) -> tuple[list[Code], list[Pair]]:
    """Fingerprint every student's cells and compare them: ``(codes, flagged pairs)``."""
    codes = [fingerprint(student, cells) for student, cells in sorted(students.items())]
    return codes, compare(codes, template_hashes(template_sources))


def write(context: Context) -> list[tuple[str, Exception]]:
    students, not_compared = [], []
    for result in context.results:
        if result.status == Status.NO_SUBMISSION:
            continue
        if result.status == Status.UNREADABLE:
            not_compared.append((result.student, f"{result.status}: {result.message}"))
            continue
        try:
            cells, why = read_code(result, context.template)
            if cells is not None:
                students.append(fingerprint(result.student, cells))
        except Exception as error:  # any fault from one hostile file must not stop the class's other outputs
            cells, why = None, f"could not be compared ({type(error).__name__}: {str(error)[:200]})"
        if cells is None:
            not_compared.append((result.student, why))
    codes = sorted(students, key=lambda code: code.student)
    pairs = compare(codes, template_hashes(template_code(context.template)))
    context.cache["similarity"] = pairs
    write_atomic(context.out / "similarity.html", render(context.assignment.id, codes, pairs, not_compared))
    write_atomic(context.out / "similarity.json", dumps(to_json(context.assignment.id, codes, pairs, not_compared)))
    return []
