"""Every page, CSV cell and terminal line the kit writes is safe against student-controlled text.

Hostile strings go into every field a student controls (the file name that becomes the id, the
written answer, a cell's error message, a check's message, the plot's bytes), in notebooks that
are otherwise fully answered; every page written is then parsed: no script, no event handler, no
remote load, a Content-Security-Policy first thing in <head>.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import DLBASICS, KIT_ROOT, automatic_max, grade_notebooks
from PIL import Image

from autograder.checks import ASSIGNMENTS
from autograder.grading.result import Result
from autograder.report import feedback, grades_csv, outputs, review, summary
from autograder.report.safe import (
    CSP,
    csv_cell,
    csv_row,
    render_markdown,
    safe_png,
    safe_png_base64,
    valid_text,
)
from autograder.text import terminal_text

ASSIGNMENT = "01-linear-regression"
EVIL_HTML = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</pre><script>alert(2)</script>",
    "<iframe src=http://evil.example/f></iframe>",
    "<a href=javascript:alert(3)>x</a>",
]
EVIL_TERMINAL = "\x1b[2J\x1b[H\x1b]0;owned\x07\rautomatic score: 99 / 18\x9b2J\u202e\x00\x08"
EVIL_MARKDOWN = """# Answer <script>alert(1)</script>

<img src="http://evil.example/pixel.png"> and ![tracker](http://evil.example/y.png)

[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) [rel](../gradebook.sqlite)
[fine](https://example.org/page)

<iframe src="http://evil.example/frame"></iframe>
<div onmouseover="alert(1)">hover</div>

The slope $m$ matters more: $\\partial L/\\partial m$.
"""
# Formula starters a spreadsheet would execute (the ids are file names, so no "/").
FORMULA_IDS = ['=HYPERLINK("x")', "+cmd", "@SUM(1)", "-2+3", " =1+1"]
HTML_ID = '"><img src=x onerror=alert(1)>'

# What the pages may contain: our templates' tags and CommonMark's output, nothing that runs or loads.
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "h5", "h6", "p", "b",
                "i", "em", "strong", "small", "code", "pre", "table", "tr", "th", "td", "div", "section", "figure",
                "figcaption", "img", "a", "ul", "ol", "li", "blockquote", "hr", "br", "span", "details", "summary"}


# The summary's links to files the kit writes beside it: a student's feedback folder (the id encoded by
# intake.folder_name, then quoted) or a review page; no scheme, no "..", nothing outside the folder.
OWN_LINK = re.compile(r"(feedback/(?!\.)[A-Za-z0-9_.~+@%-]+/feedback|review/[A-Za-z0-9_.~%-]+)\.html")


class PageAudit(HTMLParser):
    """Every element and attribute of a page, and what in it could run or load."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.csp: list[str] = []
        self.before_csp: list[str] = []
        self.images: list[bytes] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if not self.csp and tag not in {"html", "head", "meta"}:
            self.before_csp.append(tag)
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            elif name in ("style", "srcset", "background", "poster", "action", "formaction", "data", "xmlns:xlink",
                          "xlink:href", "ping", "lowsrc", "dynsrc"):
                self.problems.append(f"attribute {name} on <{tag}>")
            elif name == "src":
                if tag != "img" or not value.startswith("data:image/png;base64,"):
                    self.problems.append(f"src={value[:80]!r} on <{tag}>")
                else:
                    self.images.append(base64.b64decode(value.removeprefix("data:image/png;base64,")))
            elif name == "href":
                if tag != "a" or not (re.match(r"(https?://|mailto:)", value, re.I) or OWN_LINK.fullmatch(value)):
                    self.problems.append(f"href={value[:80]!r} on <{tag}>")
            elif "://" in value or value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                if not (tag == "a" and name == "title"):
                    self.problems.append(f"{name}={value[:80]!r} on <{tag}>")
        if tag == "meta":
            attributes = dict(attrs)
            if (attributes.get("http-equiv") or "").lower() == "content-security-policy":
                self.csp.append(attributes.get("content") or "")
            elif attributes.get("http-equiv"):
                self.problems.append(f"meta http-equiv={attributes['http-equiv']!r}")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def audit(page: str, where: str = "page") -> PageAudit:
    """Parse ``page`` and fail on anything that could run or load; returns the audit for more checks."""
    parser = PageAudit()
    parser.feed(page)
    parser.close()
    assert not parser.problems, f"{where}: {parser.problems}"
    assert parser.csp == [CSP], f"{where}: Content-Security-Policy {parser.csp}"
    assert not parser.before_csp, f"{where}: {parser.before_csp} come before the Content-Security-Policy"
    for png in parser.images:
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), f"{where}: an embedded image is not a PNG"
    return parser


def test_the_policy_forbids_scripts_and_remote_loads():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'none'" and directives["img-src"] == "data:"
    assert "script-src" not in directives and "http" not in CSP and "'self'" not in CSP


# --- pages rendered from crafted results ---------------------------------------------------------


def png_bytes(width=40, height=30, chunks: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 30, 30, 255)).save(buffer, "PNG")
    data = buffer.getvalue()
    return data[:33] + chunks + data[33:]  # extra chunks right after IHDR


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png_header(width=100_000, height=100_000) -> bytes:
    """A valid PNG start claiming 10^10 pixels: a decompression bomb if anyone believed it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1_000_000)  # a MB of zeros, compressed to ~1 KB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def hostile_result(plots: dict, student: str = HTML_ID + "\ud800") -> Result:
    """A result whose every text is hostile, lone surrogates included (from_json would make them
    valid: they are put back, as a writer must survive them whatever reaches it)."""
    evil = " ".join(EVIL_HTML) + EVIL_TERMINAL + "\ud800"
    questions = {q: {"points": 0.0, "max_points": 3.0, "status": "failed", "mistakes": [evil]} for q in plots}
    result = Result.from_json({
        "assignment": ASSIGNMENT, "student": HTML_ID + "\ud800", "status": "graded", "message": evil,
        "isolation_note": "", "auto_total": 0.0, "auto_max": 3.0 * len(plots), "max_points": 3.0 * len(plots),
        "questions": questions, "plots": plots, "notes": [], "written": {},
        "checks": [{"name": "test_" + evil, "question": q, "points": 0.0, "max_points": 3.0, "status": "failed",
                    "message": evil, "hidden": hidden, "mistake": evil}
                   for q in plots for hidden in (False, True)],
        "cells": [{"label": evil, "status": "error", "message": evil}],
    })
    result.student, result.message = student, evil
    for check in result.checks:
        check.name, check.message, check.mistake = "test_" + evil, evil, evil
    result.plots = {q: png for q, png in plots.items() if png is not None}  # as the child sent them
    return result


def test_feedback_escapes_every_field_and_embeds_only_re_encoded_pngs(tmp_path):
    honest = png_bytes(chunks=chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>"))
    plots = {
        "good": base64.b64encode(honest).decode(),
        "breakout": '" onerror="alert(1)',
        "breakout2": "x\" src=http://evil.example/y.png x=\"",
        "not_png": base64.b64encode(b"<svg onload=alert(1)></svg>").decode(),
        "huge": base64.b64encode(huge_png_header()).decode(),
        "not_base64": "iVBORw0KGgo=====\x00<script>",
    }
    result = hostile_result(plots)
    for _ in range(2):  # twice: the second write finds the same bytes and keeps the file
        page = feedback.render(result, expected_plots={"good": base64.b64encode(png_bytes()).decode()})
        path = tmp_path / "feedback.html"
        outputs.write_atomic(path, page)  # the lone surrogate must not stop the write
        parsed = audit(path.read_text(encoding="utf-8"), "feedback.html")
        text = "".join(parsed.text)
        # The attacks are on the page, as text.
        for evil in EVIL_HTML:
            assert evil in text
        assert "\ufffd" in text and "\x1b" not in text and "\x00" not in text
        # One plot of the student's (re-encoded: its text chunk is gone) and the expected one; a
        # note for each of the five that are not PNGs of a sane size.
        assert len(parsed.images) == 2
        assert all(b"<script>" not in png and b"tEXt" not in png for png in parsed.images)
        assert text.count("could not be shown") == 5


def test_review_page_renders_markdown_without_html_images_or_unsafe_links(tmp_path):
    page = review.render(ASSIGNMENT, "written_convergence",
                               [(HTML_ID, EVIL_MARKDOWN), ("=cmd\ud800", "plain **bold**"), ("empty", "")], 2)
    outputs.write_atomic(tmp_path / "review.html", page)
    parsed = audit((tmp_path / "review.html").read_text(encoding="utf-8"), "review.html")
    text = "".join(parsed.text)
    assert "<script>alert(1)</script>" in text and '<iframe src="http://evil.example/frame">' in text
    assert "[click](javascript:alert(1))" in text  # an unsafe link stays text
    # Formulas are drawn by the grader into its own PNGs (audited like every image), the TeX as alt text.
    assert 'alt="\\partial L/\\partial m"' in page and len(parsed.images) == 2
    assert "<strong>bold</strong>" in page
    # The image is a link to follow by choice, never loaded; the safe link is kept.
    assert '<a href="http://evil.example/y.png" rel="noopener noreferrer nofollow">[image: tracker]</a>' in page
    assert '<a href="https://example.org/page" rel="noopener noreferrer nofollow">fine</a>' in page


def test_summary_inlines_its_histogram_and_escapes_mistakes(tmp_path):
    result = hostile_result({"good": None})
    info = summary.summarize([result], ["good"])
    page = summary.render_html(info, ASSIGNMENT)
    outputs.write_atomic(tmp_path / "summary.html", page)
    parsed = audit(page, "summary.html")
    assert len(parsed.images) == 1  # the histogram, self-contained
    assert "<script>alert(1)</script>" in "".join(parsed.text)
    printed = summary.render_text(info)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", printed)


def test_markdown_renderer_refuses_every_route_to_script_or_a_load():
    attacks = {
        "<script>alert(1)</script>": None,
        "<img src=x onerror=alert(1)>": None,
        "![x](http://evil.example/a.png)": '<a href="http://evil.example/a.png"',
        '![x](data:image/png;base64,iVBORw0KGgo= "t")': None,
        "[x](javascript:alert(1))": None,
        "[x](JaVaScRiPt&#58;alert(1))": None,
        "[x](vbscript:msgbox)": None,
        "[x](file:///etc/passwd)": None,
        "<javascript:alert(1)>": None,
        "[x]: javascript:alert(1)\n\n[x]": None,
        '[x](https://a.example "a\\" onmouseover=\\"alert(1)")': '<a href="https://a.example"',
    }
    for source, link in attacks.items():
        html = str(render_markdown(source))
        parsed = PageAudit()
        parsed.feed(html)
        assert not parsed.problems, (source, html)
        assert "<img" not in html and "<script" not in html, (source, html)
        if link:
            assert link in html, (source, html)
        else:
            assert "href" not in html, (source, html)
    long = render_markdown("word " * 10_000)
    assert "cut at 20,000 characters" in long and len(long) < 25_000


def test_png_checker():
    good = png_bytes(384, 288)
    assert safe_png(good).startswith(b"\x89PNG") and Image.open(io.BytesIO(safe_png(good))).size == (384, 288)
    assert safe_png_base64(base64.b64encode(good).decode()) and safe_png_base64(good)
    # Valid PNGs just over the limits (only the explicit checks refuse them; Pillow would decode
    # them), then bomb headers, truncations and other formats.
    for bad in [png_bytes(2001, 2000), png_bytes(4001, 1), png_bytes(1, 4001),
                huge_png_header(), huge_png_header(5000, 10), huge_png_header(2001, 2001), good[:60], b"GIF89a",
                b"\x89PNG\r\n\x1a\n", b"", png_bytes(10, 10)[:-20] + b"\x00" * 20]:
        assert safe_png(bad) is None and safe_png_base64(base64.b64encode(bad).decode()) is None
    for bad in ['" onerror="alert(1)', "A" * 3_000_000, "\ud800", None, 12, ["iVBOR"]]:
        assert safe_png_base64(bad) is None
    assert safe_png(png_bytes(2000, 2000)) is not None  # the limit is the limit: 4 Mpixel is fine


def test_csv_cells_that_would_run_are_neutralised():
    assert csv_row(['=HYPERLINK("http://x")', "+cmd", "-2+3", "@SUM(1)", "\tx", "\r=1", "  =1", "\uff1d1"]) == [
        '\'=HYPERLINK("http://x")', "'+cmd", "'-2+3", "'@SUM(1)", "'\tx", "'=1", "'  =1", "'\uff1d1"]
    # Our own numbers stay numbers; plain text and the empty cell stay as they are.
    assert csv_row([-2, -0.5, 18.0, 3, "alice", "", "a-b", "not attempted"]) == [
        "-2", "-0.5", "18", "3", "alice", "", "a-b", "not attempted"]
    assert csv_cell("a\x00b\x1bc\ud800") == "abc\ufffd"
    results = [hostile_result({"q": None}, student) for student in [*FORMULA_IDS, "honest"]]
    rows = list(csv.reader(io.StringIO(grades_csv.render(results, ["q"], [], {}))))
    assert {row[0] for row in rows[1:]} == {"'" + s for s in FORMULA_IDS} | {"honest"}
    assert all(row[1] == "0" and row[2] == "0" for row in rows[1:])


def test_terminal_text_has_no_escape_or_control_characters():
    cleaned = terminal_text("a" + EVIL_TERMINAL + "\ud800\n\tz\x1bP1;2q#payload\x1b\\ end\x1b")
    assert cleaned == "aautomatic score: 99 / 182J\ufffd\n\tz end"
    assert valid_text("\ud83d\ude00\ud800") == "\U0001f600\ufffd"


def test_write_atomic_never_fails_on_a_lone_surrogate(tmp_path):
    outputs.write_atomic(tmp_path / "x.json", outputs.dumps({"message": "bad \ud800 text"}))
    assert "bad \ufffd text" in (tmp_path / "x.json").read_text(encoding="utf-8")


# --- the real command, on hostile submissions -----------------------------------------------------

# An added cell that fails with everything hostile in its message; the answers stay correct.
RAISING_CELL = ("raise ValueError('</pre><script>alert(1)</script><img src=x onerror=alert(1)>'\n"
                "                 '\\x1b[2J\\x1b[H\\x1b]0;owned\\x07\\rautomatic score: 99 / 18 MARKER'\n"
                "                 ' \\x9b2J\\u202e \\ud800')\n")
# Replaces the plot the child renders with bytes that are no PNG (the checks read the axes data,
# so the question keeps its points).
FAKE_PNG_CELL = ("import matplotlib.figure\n"
                 "matplotlib.figure.Figure.savefig = lambda self, out, **kw: out.write("
                 "b'\" onerror=\"alert(1)<svg onload=alert(1)>')\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.checks import ASSIGNMENTS
    from autograder.notebook.fill import fill, solution_answers

    def answered(written=None, extra=()):
        answers = {**solution_answers(ASSIGNMENTS[ASSIGNMENT])}
        if written:
            answers["written_convergence"] = written
        return fill(ASSIGNMENTS[ASSIGNMENT], answers, extra_cells=list(extra))

    notebooks = {student: answered() for student in FORMULA_IDS}
    notebooks["honest"] = answered()
    notebooks[HTML_ID] = answered(EVIL_MARKDOWN, [RAISING_CELL, FAKE_PNG_CELL])
    work = tmp_path_factory.mktemp("hostile")
    return grade_notebooks(ASSIGNMENT, notebooks, work, "--jobs", "2", timeout=900)


def test_every_page_of_a_hostile_class_is_inert(graded):
    pages = sorted(graded.out.rglob("*.html"))
    # A feedback page per student, the summary, the similarity page, the review page of the written question.
    assert len(pages) == len(FORMULA_IDS) + 2 + 3, pages
    texts = {}
    for page in pages:
        parsed = audit(page.read_text(encoding="utf-8"), str(page.relative_to(graded.out)))
        texts[page] = "".join(parsed.text)
    # The attacks were graded as fully answered notebooks, and are on the pages as text.
    full = automatic_max(ASSIGNMENTS[ASSIGNMENT])  # from its checks' points, never pasted from a run
    assert all(float(r.auto_total) == full for r in graded.results.values()), {
        s: r.auto_total for s, r in graded.results.items()}
    hostile = next(p for p in pages if p.name == "feedback.html" and HTML_ID in texts[p])
    assert "</pre><script>alert(1)</script>" in texts[hostile] and "MARKER" in texts[hostile]
    assert "could not be shown" in texts[hostile]
    honest = next(p for p in pages if p.name == "feedback.html" and "feedback for honest" in texts[p])
    assert "your plot" in honest.read_text(encoding="utf-8") and "could not be shown" not in texts[honest]
    review = next(p for p in pages if p.parent.name == "review")
    assert "<script>alert(1)</script>" in texts[review] and "[image: tracker]" in texts[review]
    controls = {hex(ord(ch)) for ch in "".join(texts.values()) if ord(ch) < 32 and ch not in "\n\t\r"}
    assert not controls, controls


def test_grades_csv_neutralises_student_ids(graded):
    with (graded.out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    students = {row[0] for row in body}
    assert {"'" + s for s in FORMULA_IDS} <= students and HTML_ID in students and "honest" in students
    for row in body:
        assert not row[0].lstrip().startswith(("=", "+", "-", "@")), row
        for name, cell in zip(header[1:], row[1:]):
            if name == "file":  # the graded file's name: the student's text, neutralised like the id
                assert not cell.lstrip().startswith(("=", "+", "-", "@")), row
            elif name not in ("status", "submitted", "note") and cell:
                float(cell)  # every score column is still a plain number


def test_check_command_prints_no_escape_sequences(graded, tmp_path):
    from autograder.checks import ASSIGNMENTS

    source = next(p for p in (graded.out.parent / "submissions").iterdir() if p.stem == HTML_ID)
    # A file name is student text too: this one clears the screen when printed raw.
    target = tmp_path / "\x1b[2J\x1b[Hmine\r.ipynb"
    target.write_bytes(source.read_bytes())
    # Bytes, not text=True: universal newlines would turn a "\r" into "\n" before we could see it.
    result = subprocess.run([*DLBASICS, "check", str(target), "--assignment", ASSIGNMENTS[ASSIGNMENT].id],
                            capture_output=True, timeout=600, cwd=KIT_ROOT,
                            env={**os.environ, "DLBASICS_SEED": "a course's secret seed"})
    stdout, printed = result.stdout.decode("utf-8"), (result.stdout + result.stderr).decode("utf-8")
    assert result.returncode == 0, printed
    full = automatic_max(ASSIGNMENTS[ASSIGNMENT])
    assert "MARKER" in stdout and f"automatic score: {full:g} / {full:g}" in stdout and "mine" in stdout
    bad = sorted({hex(ord(ch)) for ch in printed
                  if (ord(ch) < 32 and ch not in "\n\t") or 0x7f <= ord(ch) <= 0x9f or ch == "\u202e"})
    assert not bad, bad


def test_reports_need_no_unsafe_markup_in_templates():
    # The only Markup from student text is render_markdown's; the templates never mark anything safe.
    templates = Path(outputs.__file__).parent / "templates"
    for template in templates.glob("*.j2"):
        assert "|safe" not in template.read_text().replace(" ", ""), template.name


# --- every CSV writer, against invisible characters before a formula --------------------------------

# A formula behind characters a reader may drop or not show: C0 and C1 controls, DEL, the bidi
# overrides, isolates and marks, zero-width characters, the byte-order mark, a Unicode tag, the
# line separator, and blanks that are not ASCII spaces. Each must reach the file without them and
# behind a "'" (OWASP's neutralisation) whatever the reader does with them.
HOSTILE_CELLS = ["\x01=2+3", "\x00\x00=1+1", "\x1b=1", "\x7f+cmd", "\x85@SUM(1)", "\x9b-2+3", "\u202e=2+3",
                 "\u202a\u202c=1", "\u2066@SUM(1)\u2069", "\u200e\u200f-1+1", "\u200b=1", "\u200d+1", "\u2060=1",
                 "\ufeff=1", "\U000e0001=1", "\u2028=1", "\u2029+1", "\u00a0=1", "\u3000=1", "\r\n=1", "\t=1",
                 "\u061c=1", "\u180e=1", "\uff1d1", " \x01 =1"]
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
                       "\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]")


def assert_neutral(cell: str, where: str) -> None:
    """No invisible character left, and no start a spreadsheet runs (a neutralised cell starts with ')."""
    assert not INVISIBLE.search(cell), (where, cell)
    assert not (cell[:1] == "\t" or cell.lstrip().startswith(("=", "+", "-", "@", "\uff1d"))), (where, cell)


def test_csv_guard_strips_invisible_characters_before_judging_the_start():
    for hostile in HOSTILE_CELLS:
        cell = csv_cell(hostile)
        assert cell.startswith("'"), (hostile, cell)
        assert_neutral(cell, repr(hostile))
    assert csv_cell("Zoë \u05e9\u05dc\u05d5\u05dd 😀") == "Zoë \u05e9\u05dc\u05d5\u05dd 😀"  # visible text is kept
    assert csv_cell("a\tb\nc") == "a\tb\nc"  # legal inside a quoted cell


def test_grades_csv_neutralises_every_hostile_id():
    results = [hostile_result({"q": None}, student) for student in HOSTILE_CELLS]
    rows = list(csv.reader(io.StringIO(grades_csv.render(results, ["q"], [], {}))))
    assert len(rows) == len(HOSTILE_CELLS) + 1
    for row in rows[1:]:
        assert row[0].startswith("'"), row[0]
        for cell in row:
            assert_neutral(cell, "grades.csv")


def test_lms_exports_neutralise_every_hostile_cell():
    from autograder.report import lms

    rows = [["Student", "ID", "SIS User ID"], *[[hostile, hostile, 12.5] for hostile in HOSTILE_CELLS]]
    parsed = list(csv.reader(io.StringIO(lms.render(rows))))
    for row in parsed[1:]:
        assert row[0].startswith("'") and row[1].startswith("'") and row[2] == "12.5", row
        for cell in row:
            assert_neutral(cell, "lms export")


def test_scores_template_neutralises_every_hostile_id_and_comment(tmp_path):
    from autograder.cli import main
    from autograder.grading.gradebook import Gradebook

    out = tmp_path / "out"
    gradebook = Gradebook(out / "gradebook.sqlite")
    for number, hostile in enumerate(HOSTILE_CELLS):
        result = Result.from_json({
            "assignment": ASSIGNMENT, "student": hostile + str(number), "status": "graded", "file": "x",
            "written": {"written_convergence": {"max_points": 2, "answer": "an answer", "untouched": False}},
        })
        gradebook.record(result, "v")
    gradebook.set_manual(ASSIGNMENT, [(hostile + str(n), "written_convergence", 1, hostile)
                                      for n, hostile in enumerate(HOSTILE_CELLS)])
    gradebook.close()
    assert main(["scores-template", ASSIGNMENT, "--out", str(out)]) == 0
    target = out / "manual-scores.csv"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == len(HOSTILE_CELLS) + 1
    for row in rows[1:]:
        assert row[0].startswith("'") and row[4].startswith("'"), row  # student and comment columns
        for cell in row:
            assert_neutral(cell, "manual-scores.csv")
