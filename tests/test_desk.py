"""The instructor's desk, in process (Starlette's TestClient) on a class graded by `dlbasics grade`.

What it guards: nothing is shown or changed without the token, the CSRF token and the desk's own
Host; two graders' conflicting edits fail loudly and lose nothing; a rubric item's points, changed
later, change every score that holds it, and reach grades.csv, feedback.html and results.json;
hostile answers render inert (the report-safety audit, extended to the desk's pages); answer groups
suggest and never score.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from html.parser import HTMLParser

import pytest
from desk_class import ASSIGNMENT, BIDI, GOOD, NEAR, QUESTION, graded_course

from autograder.checks import ASSIGNMENTS
from autograder.desk.app import CSP, create_app, open_desk, report_command
from autograder.desk.groups import group_answers
from autograder.report.manual_scores import pseudonym

starlette_testclient = pytest.importorskip("starlette.testclient")

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return graded_course(tmp_path_factory.mktemp("desk-class"))


@pytest.fixture
def course(graded, tmp_path):
    return graded.copy(tmp_path / "course")


def seed_of(course) -> str:
    from autograder.course import load

    return load(course.root).seed


def make_desk(course):
    return open_desk(ASSIGNMENTS[ASSIGNMENT], course.gradebook, seed_of(course),
                     report_command(ASSIGNMENT, ["--course", str(course.root)]), "127.0.0.1", PORT)


def client(desk, login: bool = True):
    browser = starlette_testclient.TestClient(create_app(desk), base_url=BASE, follow_redirects=False)
    if login:
        response = browser.get(f"/?token={desk.token}")
        assert response.status_code == 303 and response.headers["location"] == "/"
        assert "httponly" in response.headers["set-cookie"].lower()
        assert "samesite=strict" in response.headers["set-cookie"].lower()
    return browser


def key(course, student: str) -> str:
    return pseudonym(student, seed_of(course))


def stored(course) -> dict:
    """Every hand-graded row and rubric item, straight from the SQLite file."""
    db = sqlite3.connect(course.gradebook)
    try:
        return {"scores": sorted(db.execute("SELECT student, question, points, comment, version FROM manual_scores")),
                "items": sorted(db.execute("SELECT id, label, points, version FROM rubric_items")),
                "held": sorted(db.execute("SELECT student, item FROM manual_rubric"))}
    finally:
        db.close()


def save(browser, desk, *scores, csrf: str | None = None):
    return browser.post("/api/scores", json={"question": QUESTION, "scores": list(scores)},
                        headers={"X-CSRF-Token": desk.csrf if csrf is None else csrf})


def score(course, student: str, version: int = 0, adjust: float = 0, comment: str = "", items=()):
    return {"key": key(course, student), "version": version, "adjust": adjust, "comment": comment,
            "items": list(items)}


# --- token, CSRF, Host ----------------------------------------------------------------------------

def test_without_the_token_the_csrf_token_or_the_host_nothing_is_shown_or_changed(course):
    desk = make_desk(course)
    before = stored(course)
    stranger = client(desk, login=False)
    page = f"/q/{QUESTION}/a/{key(course, 'ann')}"
    assert stranger.get("/").status_code == 403
    assert stranger.get(page).status_code == 403
    assert GOOD[:40] not in stranger.get(page).text
    assert stranger.get("/?token=wrong").status_code == 403
    stranger.cookies.set(desk.cookie, "wrong")
    assert stranger.get("/").status_code == 403
    # A page of another site cannot post: no cookie (SameSite=Strict), and no CSRF token in any case.
    assert save(stranger, desk, score(course, "ann", adjust=2)).status_code == 403

    grader = client(desk)
    assert save(grader, desk, score(course, "ann", adjust=2), csrf="").status_code == 403
    assert save(grader, desk, score(course, "ann", adjust=2), csrf="x" * len(desk.csrf)).status_code == 403
    # A plain HTML form (what a cross-site page can send without CORS) is not JSON: refused.
    form = grader.post("/api/scores", data={"question": QUESTION}, headers={"X-CSRF-Token": desk.csrf})
    assert form.status_code == 415
    assert grader.post("/api/rubric", json={"question": QUESTION, "label": "x", "points": 1},
                       headers={"X-CSRF-Token": "nope"}).status_code == 403
    # DNS rebinding: a site whose name resolves to 127.0.0.1 sends its own name as Host.
    rebound = grader.get("/", headers={"Host": f"evil.example:{PORT}"})
    assert rebound.status_code == 403 and GOOD[:40] not in rebound.text
    assert stored(course) == before, "a refused request changed the gradebook"

    # The same request with everything in order is accepted: the refusals above were the guard's.
    assert save(grader, desk, score(course, "ann", adjust=2)).status_code == 200
    assert stored(course)["scores"] == [("ann", QUESTION, 2.0, "", 1)]


def test_every_page_carries_the_policy_and_loads_only_the_desks_own_script(course):
    desk = make_desk(course)
    grader = client(desk)
    for path in ("/", f"/q/{QUESTION}/a/{key(course, 'ann')}", f"/q/{QUESTION}/groups"):
        response = grader.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CSP
        directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
        assert directives["script-src"] == "'self'" and directives["default-src"] == "'none'"
        assert "unsafe-inline" not in CSP and "http" not in CSP
        assert re.findall(r"<script[^>]*>", response.text) == ['<script src="/static/desk.js" defer>']
    script = grader.get("/static/desk.js")
    assert script.status_code == 200 and "X-CSRF-Token" in script.text


# --- conflicts ------------------------------------------------------------------------------------

def test_two_graders_editing_one_score_never_lose_a_save(course):
    desk = make_desk(course)
    first, second = client(desk), client(desk)
    # Both open ann's answer (version 0: not scored yet); the first saves.
    assert save(first, desk, score(course, "ann", version=0, adjust=1.5, comment="first")).status_code == 200
    late = save(second, desk, score(course, "ann", version=0, adjust=0.5, comment="second"))
    assert late.status_code == 409 and "changed by someone else" in late.json()["error"]
    assert stored(course)["scores"] == [("ann", QUESTION, 1.5, "first", 1)]
    # A group save with one stale member saves none of them (one transaction).
    group = save(second, desk, score(course, "dan", version=0, adjust=1), score(course, "ann", version=0, adjust=1))
    assert group.status_code == 409
    assert stored(course)["scores"] == [("ann", QUESTION, 1.5, "first", 1)]
    # Reloaded (version 1), the second grader's save goes through.
    assert save(second, desk, score(course, "ann", version=1, adjust=0.5, comment="second")).status_code == 200
    assert stored(course)["scores"] == [("ann", QUESTION, 0.5, "second", 2)]

    # Rubric items too: an edit based on an older version is refused.
    made = first.post("/api/rubric", json={"question": QUESTION, "label": "cause", "points": 1},
                      headers={"X-CSRF-Token": desk.csrf}).json()
    edit = {"question": QUESTION, "id": made["id"], "version": 1, "label": "cause", "points": 0.5}
    assert first.post("/api/rubric", json=edit, headers={"X-CSRF-Token": desk.csrf}).status_code == 200
    stale = second.post("/api/rubric", json={**edit, "points": 2}, headers={"X-CSRF-Token": desk.csrf})
    assert stale.status_code == 409
    assert stored(course)["items"] == [(made["id"], "cause", 0.5, 2)]


def test_a_second_server_on_the_same_gradebook_sees_the_conflict_too(course):
    # Two `dlbasics desk` processes (two graders, two machines' browsers) share only the SQLite file.
    one, two = make_desk(course), make_desk(course)
    assert save(client(one), one, score(course, "eve", adjust=1)).status_code == 200
    assert save(client(two), two, score(course, "eve", adjust=2)).status_code == 409
    assert stored(course)["scores"] == [("eve", QUESTION, 1.0, "", 1)]


def test_a_save_is_committed_before_the_reply(course):
    desk = make_desk(course)
    assert save(client(desk), desk, score(course, "dan", adjust=1, comment="kept")).status_code == 200
    # Read by another connection while the server's is still open: it is on disk, not in a buffer.
    assert stored(course)["scores"] == [("dan", QUESTION, 1.0, "kept", 1)]


# --- rubric items reach every output --------------------------------------------------------------

def test_changing_a_rubric_items_points_changes_every_score_that_holds_it(course):
    desk = make_desk(course)
    grader = client(desk)
    csrf = {"X-CSRF-Token": desk.csrf}
    cause = grader.post("/api/rubric", json={"question": QUESTION, "label": "explains the cause", "points": 1,
                                            "comment": "the hours scale the slope's gradient"}, headers=csrf).json()
    vague = grader.post("/api/rubric", json={"question": QUESTION, "label": "no printed number", "points": -0.5},
                        headers=csrf).json()
    assert save(grader, desk, score(course, "ann", items=[cause["id"]], adjust=1),
                score(course, "dan", items=[cause["id"], vague["id"]]),
                score(course, "eve", items=[cause["id"]], adjust=0.5)).status_code == 200
    assert {s: p for s, _, p, _, _ in stored(course)["scores"]} == {"ann": 2.0, "dan": 0.5, "eve": 1.5}

    changed = grader.post("/api/rubric", json={"question": QUESTION, "id": cause["id"], "version": 1,
                                              "label": "explains the cause", "points": 0.5,
                                              "comment": "the hours scale the slope's gradient"}, headers=csrf)
    assert changed.status_code == 200
    assert {s: p for s, _, p, _, _ in stored(course)["scores"]} == {"ann": 1.5, "dan": 0.0, "eve": 1.0}
    # Clamped to 0..max whatever the items add up to.
    grader.post("/api/rubric", json={"question": QUESTION, "id": cause["id"], "version": 2,
                                     "label": "explains the cause", "points": 2}, headers=csrf)
    assert {s: p for s, _, p, _, _ in stored(course)["scores"]} == {"ann": 2.0, "dan": 1.5, "eve": 2.0}
    # A score alone is clamped too (fay: 5 points asked, 2 the most).
    assert save(grader, desk, score(course, "fay", adjust=5)).json()["saved"][key(course, "fay")]["points"] == 2

    written = grader.post("/api/report", json={}, headers=csrf)
    assert written.status_code == 200, written.text
    with (course.out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["dan"][QUESTION] == "1.5" and rows["ann"][QUESTION] == "2"
    assert rows["fay"][QUESTION] == "2" and rows["gus"][QUESTION] == ""
    from autograder.grading.intake import student_folder

    feedback = (student_folder(course.out, "dan") / "feedback.html").read_text()
    assert "1.5 / 2" in feedback and "+2: explains the cause" in feedback and "-0.5: no printed number" in feedback
    results = json.loads((student_folder(course.out, "dan") / "results.json").read_text())
    manual = next(t for t in results["tests"] if t["name"].startswith(QUESTION))
    assert manual["score"] == 1.5 and "explains the cause" in manual["output"] and "\\-0\\.5" not in manual["output"]


def test_scores_need_an_answer_and_sane_numbers(course):
    desk = make_desk(course)
    grader = client(desk)
    before = stored(course)
    assert save(grader, desk, {**score(course, "ben"), "adjust": 1}).status_code == 400  # blank: 0 by itself
    assert save(grader, desk, {**score(course, "zed"), "adjust": 1}).status_code == 400  # no submission
    nan = b'{"question": "%s", "scores": [{"key": "%s", "version": 0, "adjust": NaN}]}' % (
        QUESTION.encode(), key(course, "ann").encode())
    assert grader.post("/api/scores", content=nan, headers={"X-CSRF-Token": desk.csrf,
                       "Content-Type": "application/json"}).status_code == 400
    assert save(grader, desk, {**score(course, "ann"), "adjust": "2"}).status_code == 400
    assert save(grader, desk, {**score(course, "ann"), "items": [999]}).status_code == 404
    assert grader.post("/api/scores", content=b"[" * 100_000, headers={"X-CSRF-Token": desk.csrf,
                       "Content-Type": "application/json"}).status_code == 400
    huge = b'{"question": "%s", "scores": [{"key": "%s", "version": 0, "adjust": 1, "comment": "%s"}]}' % (
        QUESTION.encode(), key(course, "ann").encode(), b"x" * 2_000_000)
    assert grader.post("/api/scores", content=huge, headers={"X-CSRF-Token": desk.csrf,
                       "Content-Type": "application/json"}).status_code == 400
    assert stored(course) == before


# --- hostile answers render inert -----------------------------------------------------------------

VOID = {"meta", "link", "img", "input", "br", "hr"}
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


class DeskAudit(HTMLParser):
    """What on a desk page could run, load or reorder the page around it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.open: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("iframe", "object", "embed", "svg", "math", "base", "frame", "style"):
            self.problems.append(f"<{tag}>")
        if tag == "script" and attributes != {"src": "/static/desk.js", "defer": None}:
            self.problems.append(f"script {attributes}")
        if tag == "link" and attributes.get("href") != "/static/desk.css":
            self.problems.append(f"link {attributes}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or name in ("style", "srcset", "formaction", "action", "ping"):
                self.problems.append(f"{name}={value[:60]!r} on <{tag}>")
            elif name == "src" and tag != "script" and not value.startswith("data:image/png;base64,"):
                self.problems.append(f"src={value[:60]!r} on <{tag}>")
            elif name == "href" and tag == "a" and not re.match(r"(https?://|mailto:|/|\?)", value, re.I):
                self.problems.append(f"href={value[:60]!r}")
        if tag not in VOID:
            self.open.append((tag, attributes))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        if BIDI_CONTROLS.search(data) and not any(tag == "bdi" or "dir" in a for tag, a in self.open):
            self.problems.append(f"bidi control outside an isolated element: {data[:40]!r}")


def audit(page: str, where: str) -> DeskAudit:
    parser = DeskAudit()
    parser.feed(page)
    parser.close()
    assert not parser.problems, f"{where}: {parser.problems}"
    return parser


def test_hostile_answers_render_inert_on_every_desk_page(course):
    desk = make_desk(course)
    grader = client(desk)
    page = grader.get(f"/q/{QUESTION}/a/{key(course, 'cat')}")
    assert page.status_code == 200
    audit(page.text, "cat's answer")
    text = "".join(audit(page.text, "cat's answer").text)
    # Shown, as text: the grader sees what was written.
    assert "<script>alert('desk')</script>" in text and "onerror=alert(1)" in text
    assert BIDI.strip()[:5] in page.text
    for names in ("", "?names=1"):
        audit(grader.get(f"/q/{QUESTION}/groups{names}").text, "groups")
        audit(grader.get(f"/q/{QUESTION}/a/{key(course, 'ann')}{names}").text, "ann's answer")
    audit(grader.get("/").text, "index")


def test_hostile_rubric_items_and_comments_are_escaped_too(course):
    desk = make_desk(course)
    grader = client(desk)
    csrf = {"X-CSRF-Token": desk.csrf}
    evil = '"><script>alert(9)</script><img src=x onerror=alert(8)>' + BIDI
    item = grader.post("/api/rubric", json={"question": QUESTION, "label": evil, "points": 1, "comment": evil},
                       headers=csrf).json()
    assert save(grader, desk, score(course, "ann", items=[item["id"]], comment=evil)).status_code == 200
    page = grader.get(f"/q/{QUESTION}/a/{key(course, 'ann')}")
    audit(page.text, "rubric item")
    assert "alert(9)" in "".join(audit(page.text, "rubric item").text)
    audit(grader.get(f"/q/{QUESTION}/groups").text, "groups with items")


# --- answer groups --------------------------------------------------------------------------------

def test_answer_groups_suggest_and_never_score(course):
    desk = make_desk(course)
    grader = client(desk)
    page = grader.get(f"/q/{QUESTION}/groups?names=1").text
    assert stored(course)["scores"] == [], "looking at the groups scored something"
    # ann and dan wrote the same text, eve nearly; fay and gus use the same words of the model answer.
    sections = re.findall(r'<section class="group".*?</section>', page, re.S)
    kinds = {re.search(r"\d+ ([a-z -]+) answers", s)[1]: set(re.findall(r'value="(anon-[0-9a-f]+)"', s))
             for s in sections}
    assert kinds["near-identical"] == {key(course, s) for s in ("ann", "dan", "eve")}
    assert kinds["same keywords"] == {key(course, s) for s in ("fay", "gus")}
    # Graded at once, with one exception left out; the exception is still to grade.
    assert save(grader, desk, score(course, "ann", adjust=2), score(course, "dan", adjust=2)).status_code == 200
    assert {s for s, *_ in stored(course)["scores"]} == {"ann", "dan"}


def test_grouping_rules():
    groups = group_answers({"a": GOOD, "b": GOOD.upper(), "c": NEAR, "d": "   ", "e": "**", "f": "entirely other"},
                           "")
    assert [(g.kind, set(g.keys)) for g in groups] == [("blank", {"d", "e"}), ("near-identical", {"a", "b", "c"})]
    identical = group_answers({"a": "Same  *text*", "b": "same text", "c": "different words here"})
    assert [(g.kind, g.keys) for g in identical] == [("identical", ("a", "b"))]
    keywords = group_answers({"x": "slope overshoots, intercept slow", "y": "The intercept is slow: the slope "
                              "overshoots it by far, as printed", "z": "no idea"}, "The slope overshoots; the "
                             "intercept is slow")
    assert [(g.kind, g.keys, g.keywords) for g in keywords] == [("same keywords", ("x", "y"),
                                                                 ("intercept", "overshoots", "slope", "slow"))]


def test_anonymous_by_default_names_on_request(course):
    desk = make_desk(course)
    grader = client(desk)
    page = grader.get(f"/q/{QUESTION}/a/{key(course, 'ann')}").text
    listing = re.findall(r'<nav class="listing">.*?</nav>', page, re.S)[0]
    assert "ann" not in re.sub(r"anon-[0-9a-f]+", "", page.split("<main>")[1])
    labels = re.findall(r"<bdi>(anon-[0-9a-f]+)</bdi></a>", listing)
    assert labels == sorted(labels) and len(labels) == 6  # every written answer but ben's blank one
    named = grader.get(f"/q/{QUESTION}/a/{key(course, 'ann')}?names=1").text
    assert "<bdi>ann</bdi></a>" in named


def test_a_killed_server_loses_no_saved_score(course):
    """`dlbasics desk` as a process, killed (SIGKILL: no shutdown code runs) right after a save."""
    import signal
    import subprocess
    import sys

    import httpx

    process = subprocess.Popen([sys.executable, "-m", "autograder.cli", "desk", ASSIGNMENT, "--course",
                                str(course.root)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", process.stdout.readline())[0]
        with httpx.Client(follow_redirects=True, timeout=60) as browser:
            page = browser.get(url).text
            csrf = re.search(r'data-csrf="([^"]+)"', page)[1]
            reply = browser.post(url.split("?")[0] + "api/scores", headers={"X-CSRF-Token": csrf}, json={
                "question": QUESTION, "scores": [score(course, "gus", adjust=1.5, comment="kept")]})
            assert reply.status_code == 200, reply.text
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert stored(course)["scores"] == [("gus", QUESTION, 1.5, "kept", 1)]
