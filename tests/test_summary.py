"""The class at a glance (summary.html, summary.json): students, not rows.

A class of 14 roster students as ``write_outputs`` hands it to the writers: ten graded rows, two
``no submission`` rows it adds for roster students without a file, one roster student with no
row at all, a second submission of two students (``alice~2``, as ``intake.unique_ids`` names it),
and one graded id on no roster line. Hostile ids are on the roster, as a spreadsheet export can
hold anything.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from pathlib import Path
from urllib.parse import unquote

import pytest
from test_report_safety import EVIL_HTML, HTML_ID, PageAudit, audit

from autograder.checks import ASSIGNMENTS
from autograder.course import Course, Student
from autograder.grading.grade import NO_SUBMISSION, empty_result, finish_result, load_template
from autograder.grading.gradebook import Manual
from autograder.grading.intake import folder_name
from autograder.grading.result import Result
from autograder.report import feedback, review, summary
from autograder.report.context import Context
from autograder.report.outputs import marks
from autograder.selfcheck.api import CheckResult
from autograder.selfcheck.status import Status

ASSIGNMENT = ASSIGNMENTS["01-linear-regression"]
DUE = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
ON_TIME = "2026-01-10T11:00:00+00:00"
WRITTEN = "written_convergence"
SWAPPED = "x and y are swapped"
# Roster ids a student or a spreadsheet can put there: HTML, a percent sign (the folder encoding's
# escape), a path, unicode and a space.
HOSTILE_IDS = [HTML_ID, "100%41", "../up", "zoë m"]


@pytest.fixture(scope="module")
def template():
    return load_template(ASSIGNMENT)


def graded(template, student, lost: dict[str, float] | None = None, answer="", submitted=ON_TIME,
           mistake=None) -> Result:
    """A graded row: full marks but the points ``lost`` per question (with ``mistake`` named there)."""
    lost = lost or {}
    result = Result(ASSIGNMENT.id, student, f"{student}.ipynb", Status.GRADED, hash="0" * 64, submitted_at=submitted)
    result.checks = [CheckResult(f"test_{q}", q, points - lost.get(q, 0), points,
                                 Status.FAILED if lost.get(q) else Status.PASSED, "", False,
                                 mistake if lost.get(q) else None)
                     for q, points in template.points.items()]
    return finish_result(result, template, {WRITTEN: answer})


@pytest.fixture(scope="module")
def klass(template):
    roster = ["alice", "bob", "carol", "dave", "erin", "grace", *HOSTILE_IDS, "nina", "omar", "quinn", "rita"]
    assert len(roster) == 14
    rows = [
        graded(template, "alice", {"predict": 3}, answer="Because the gradient is large."),
        graded(template, "alice~2", {}, answer="Second try."),  # her second submission: not a student
        graded(template, "bob", {"to_column_tensors": 3}, mistake=SWAPPED, answer="Scaled hours."),
        graded(template, "bob~2", {"to_column_tensors": 3}, mistake=SWAPPED, answer="Again."),
        graded(template, "carol", {"to_column_tensors": 3, "train_model": 5}, mistake=SWAPPED,
               submitted="2026-01-12T11:00:00+00:00", answer="Late but right."),  # 2 started days late
        graded(template, "dave", {"to_column_tensors": 3}, mistake=SWAPPED),
        graded(template, "erin", {"fit_least_squares": 4}, mistake="slope and intercept are swapped"),
        graded(template, "grace", {"plot_regression": 3}, answer="Stale answer."),
        *[graded(template, student, {"train_model": 2.5}, answer="**bold** <script>alert(1)</script>")
          for student in HOSTILE_IDS],
        graded(template, "zed", {"predict": 3}),  # on no roster line
        # What write_outputs adds for roster students without a file; "rita" has no row at all.
        empty_result(ASSIGNMENT, template, "nina", Path("-"), NO_SUBMISSION, "nothing was submitted"),
        empty_result(ASSIGNMENT, template, "omar", Path("-"), NO_SUBMISSION, "nothing was submitted"),
        empty_result(ASSIGNMENT, template, "quinn", Path("-"), NO_SUBMISSION, "nothing was submitted"),
    ]
    # bob's hidden check names the same slip: one student, counted once.
    bob = next(r for r in rows if r.student == "bob")
    bob.checks.append(CheckResult("test_hidden", "to_column_tensors", 0, 0, Status.FAILED, "", True, SWAPPED))
    manual = {"alice": {WRITTEN: Manual(2.0, "good", False)}, "bob": {WRITTEN: Manual(1.0, "", False)},
              "grace": {WRITTEN: Manual(2.0, "", True)}}  # grace changed her answer after it was scored
    course = Course(Path("/nonexistent"), "seed", due={ASSIGNMENT.id: DUE}, roster=[Student(s) for s in roster])
    all_marks = {r.student: marks(r, manual.get(r.student), course) for r in rows}
    return rows, all_marks, course


@pytest.fixture(scope="module")
def info(klass, template):
    rows, all_marks, course = klass
    return summary.summarize(rows, list(template.points), all_marks, [s.id for s in course.roster],
                             list(template.written))


def test_counts_roster_students_not_rows(info, klass, template):
    rows, all_marks, _ = klass
    # 14 roster students and one graded id on no roster line; second submissions are no students.
    assert info["students"] == 15 and len(info["table"]) == 15 and len(rows) == 16
    assert info["submitted"] == 11 and info["submissions"] == 11
    assert info["statuses"] == {"graded": 11, "no submission": 4}
    assert info["not_on_roster"] == ["zed"]
    assert info["further_submissions"] == {"alice": ["alice~2"], "bob": ["bob~2"]}
    # Means over the students who submitted, each once (alice with her first submission).
    counted = [r for r in rows if r.status != NO_SUBMISSION and "~" not in r.student]
    assert len(counted) == 11
    for question in template.points:
        assert info["question_means"][question] == pytest.approx(
            statistics.fmean(r.questions[question].points for r in counted)), question
    assert info["question_means"]["predict"] == pytest.approx(3 - 2 * 3 / 11)
    assert info["mean_total"] == pytest.approx(statistics.fmean(all_marks[r.student].total for r in counted))
    assert sorted(info["totals"]) == sorted(all_marks[r.student].total for r in counted)


def test_one_line_per_student_with_points_lateness_and_links(info):
    lines = {line["student"]: line for line in info["table"]}
    assert sorted(lines) == sorted(["alice", "bob", "carol", "dave", "erin", "grace", *HOSTILE_IDS,
                                    "nina", "omar", "quinn", "rita", "zed"])
    carol = lines["carol"]
    assert carol["days_late"] == 2 and carol["penalty"] == pytest.approx(0.2 * 20)
    assert carol["automatic"] == 10 and carol["total"] == pytest.approx(10 - 4)
    alice = lines["alice"]
    assert alice["hand"] == 2 and alice["total"] == 17 and alice["to_score"] == []
    assert alice["further"][0]["student"] == "alice~2" and alice["further"][0]["total"] == 18
    assert lines["grace"]["to_score"] == [WRITTEN] and lines["grace"]["hand"] == 0  # stale: to score again
    assert lines["rita"]["status"] == "no submission" and lines["rita"]["feedback"] is None
    assert lines["zed"]["on_roster"] is False and lines["bob"]["on_roster"] is True
    # The links name each student's own feedback folder, whatever the id holds.
    for student, line in lines.items():
        if line["feedback"]:
            assert unquote(line["feedback"]) == f"feedback/{folder_name(student)}/feedback.html", student
    assert [a["review"] for a in alice["answers"]] == [f"review/{WRITTEN}.html"]


def test_written_answer_progress_and_named_mistakes(info):
    progress = info["written_progress"][WRITTEN]
    # alice, bob, carol, grace and the four hostile ids answered; alice and bob are scored; grace's is stale.
    assert progress == {"answered": 8, "scored": 2, "to_score": 6, "stale": 1, "review": f"review/{WRITTEN}.html"}
    top = dict(info["top_mistakes"])
    assert top[f"to_column_tensors: {SWAPPED}"] == 3
    assert info["mistake_students"][f"to_column_tensors: {SWAPPED}"] == ["bob", "carol", "dave"]
    assert info["top_mistakes"][0][0] == f"to_column_tensors: {SWAPPED}"


class LinkAudit(PageAudit):
    """The report-safety audit, and every link of the page collected."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        self.links += [value for name, value in attrs if name == "href"]


def test_the_page_is_inert_and_every_link_opens_a_written_file(klass, template, tmp_path):
    rows, all_marks, course = klass
    out = tmp_path / "out"
    context = Context(ASSIGNMENT, template, rows, all_marks, out, course)
    assert feedback.write(context) == [] and review.write(context) == [] and summary.write(context) == []
    page = (out / "summary.html").read_text(encoding="utf-8")
    parsed = audit(page, "summary.html")  # no script, handler or remote load; the CSP first
    text = "".join(parsed.text)
    assert HTML_ID in text and "<script>" not in page and "15 students, 11 submitted" in text
    links = LinkAudit()
    links.feed(page)
    assert len(links.links) >= 15
    for link in links.links:
        # Relative links into this folder only; a browser decodes %XX before it opens the file.
        assert "://" not in link and ".." not in link.split("/") and not link.startswith("/"), link
        assert (out / unquote(link)).is_file(), link
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert data["students"] == 15 and "totals" not in data and len(data["table"]) == 15
    for attack in EVIL_HTML[:1]:
        assert attack not in page  # escaped wherever a student's text lands
    assert (out / "histogram.png").read_bytes().startswith(b"\x89PNG")


def test_without_a_roster_every_graded_id_is_a_student(klass, template):
    rows, all_marks, _ = klass
    info = summary.summarize(rows, list(template.points), all_marks)
    # Without a roster: the ids seen (nina, omar and quinn came as rows), rita is unknown.
    assert info["students"] == 14 and info["submitted"] == 11 and info["not_on_roster"] == []
    assert info["further_submissions"] == {"alice": ["alice~2"], "bob": ["bob~2"]}
    printed = summary.render_text(info)
    assert printed.startswith("14 students, 11 submitted")


def test_the_histogram_is_drawn_again_only_when_the_totals_change(klass, template, tmp_path, monkeypatch):
    """A rerun with the same totals reuses histogram.png (issue 21: drawing it cost a rerun that graded
    nothing 0.3 s); other totals, a damaged file or another file in its place draw it again."""
    rows, all_marks, course = klass
    out = tmp_path / "out"
    drawn = []
    draw = summary.histogram_png
    monkeypatch.setattr(summary, "histogram_png", lambda *a, **k: drawn.append(a) or draw(*a, **k))
    assert summary.write(Context(ASSIGNMENT, template, rows, all_marks, out, course)) == []
    first = (out / "histogram.png").read_bytes()
    assert len(drawn) == 1
    assert summary.write(Context(ASSIGNMENT, template, rows, all_marks, out, course)) == []
    assert len(drawn) == 1 and (out / "histogram.png").read_bytes() == first
    # The same rows in another order: the same multiset of totals, the same picture.
    assert summary.write(Context(ASSIGNMENT, template, rows[::-1], all_marks, out, course)) == []
    assert len(drawn) == 1
    # One student fewer: the totals changed and the picture is drawn again, and differs.
    fewer = [row for row in rows if row.student != rows[0].student]
    assert summary.write(Context(ASSIGNMENT, template, fewer, all_marks, out, course)) == []
    assert len(drawn) == 2 and (out / "histogram.png").read_bytes() != first
    # A damaged file and a PNG without the key are drawn again, not handed on.
    for damaged in (first[:200], b"\x89PNG not really", draw([1.0], 4.0)):
        (out / "histogram.png").write_bytes(damaged)
        assert summary.write(Context(ASSIGNMENT, template, rows, all_marks, out, course)) == []
        assert (out / "histogram.png").read_bytes() == first
    assert len(drawn) == 5
