"""The instructor's desk: grade written answers by question in the browser (``dlbasics desk``).

A Starlette application over the same SQLite gradebook as the CLI (``import-scores``, ``report``):
every save is one transaction of the gradebook, so a crash of the server loses nothing saved, and
every score and rubric item carries a version number, so a save based on an older version (two
graders, two browsers) fails loudly and changes nothing.

Safe by construction:

* it listens on 127.0.0.1 unless told otherwise, and answers only requests whose Host is the
  address it serves (a DNS-rebinding page cannot reach it);
* every page needs the random token of the URL it printed (as Jupyter does); the first visit trades
  it for an HttpOnly, SameSite=Strict cookie and drops it from the address bar;
* every change is a POST of JSON that carries the page's CSRF token in a header;
* the Content-Security-Policy allows only the desk's own script and style, served from this
  package: no inline script, no CDN, images only as data: (formulas, drawn by us);
* every student string goes through Jinja's autoescape and ``report.safe``; answers are rendered by
  ``safe.render_markdown`` (raw HTML off, links checked, formulas drawn as images), as on the review
  pages.
"""

from __future__ import annotations

import hmac
import json
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from autograder.grading.gradebook import Conflict, Gradebook
from autograder.report.manual_scores import pseudonym
from autograder.report.safe import page_text, render_markdown

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store", "X-Frame-Options": "DENY"}
# A request body is a score, a comment or a rubric item: 1 MB is far beyond any of them (a comment of a
# few thousand words) and bounds what one request makes the server parse.
MAX_BODY_BYTES = 1_000_000
# A comment or rubric text for a student: as long as a written answer may be (result.MAX_ANSWER_CHARS).
MAX_TEXT_CHARS = 20_000
# Rubric items 1..9 are applied with the digit keys; more may exist (applied by clicking).
KEYED_ITEMS = 9
# `dlbasics report` rewrites every output of the class from the gradebook: a class of a few hundred
# takes well under a minute; ten minutes means something is wrong, and the page says so.
REPORT_SECONDS = 600

env = Environment(loader=PackageLoader("autograder.desk", "templates"), autoescape=True, finalize=page_text)


@dataclass
class Answer:
    key: str  # the pseudonym: the answer's name in every URL and request
    student: str
    text: str
    untouched: bool
    max_points: float


@dataclass
class Desk:
    """What one desk serves: one assignment's gradebook."""

    assignment: object  # autograder.checks.Assignment
    written: dict[str, float]  # hand-graded question -> maximum
    guides: dict[str, tuple[str, str]]  # question -> (model answer, rubric text)
    gradebook: Gradebook
    seed: str  # the course's secret seed: keys the pseudonyms
    report_command: list[str]  # `dlbasics report ...` for this gradebook, run by "write the outputs"
    hosts: set[str] | None  # the Host header values the server answers to (None: any)
    # Cookies are shared by every port of a host: each desk (one per assignment, say) names its own.
    cookie: str = "dlbasics-desk"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    _groups: dict = field(default_factory=dict)

    def answers(self, question: str) -> list[Answer]:
        """Every submitted answer to ``question``, ordered by pseudonym (the order reveals nobody)."""
        from autograder.grading.grade import NO_SUBMISSION

        found = []
        for result in self.gradebook.results(self.assignment.id):
            written = result.written.get(question)
            if written is None or result.status == NO_SUBMISSION:
                continue
            found.append(Answer(pseudonym(result.student, self.seed), result.student, written.answer,
                                written.untouched, written.max_points))
        return sorted(found, key=lambda a: a.key)

    def groups(self, question: str, answers: list[Answer]):
        from autograder.desk.groups import group_answers

        # Cached per question and exact set of answers: a regrade that changes an answer regroups.
        signature = tuple((a.key, a.text) for a in answers if not a.untouched)
        cached = self._groups.get(question)
        if cached is None or cached[0] != signature:
            model, rubric = self.guides.get(question, ("", ""))
            cached = (signature, group_answers(dict(signature), model + "\n" + rubric))
            self._groups[question] = cached
        return cached[1]


def _deny(status: int, message: str) -> Response:
    return HTMLResponse(f"<!doctype html><title>dlbasics desk</title><p>{message}</p>", status, headers=HEADERS)


def _authorised(desk: Desk, request: Request) -> bool:
    cookie = request.cookies.get(desk.cookie, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), desk.token.encode())


class Guard:
    """ASGI middleware: Host check, token (then cookie), CSRF on every POST, security headers."""

    def __init__(self, app, desk: Desk):
        self.app, self.desk = app, desk

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        desk = self.desk
        host = request.headers.get("host", "")
        if desk.hosts is not None and host not in desk.hosts:
            return await _deny(403, "This desk answers only at the address it printed.")(scope, receive, send)
        if request.url.path.startswith("/static/"):
            return await self.app(scope, receive, send)
        given = request.query_params.get("token")
        if given is not None and request.method == "GET":
            if not hmac.compare_digest(given.encode(), desk.token.encode()):
                return await _deny(403, "Wrong token: open the address printed by <code>dlbasics desk</code>.")(
                    scope, receive, send)
            # Trade the token for a cookie and drop it from the address bar (and from the history).
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303, headers=HEADERS)
            response.set_cookie(desk.cookie, desk.token, httponly=True, samesite="strict", path="/")
            return await response(scope, receive, send)
        if not _authorised(desk, request):
            return await _deny(403, "Open the address printed by <code>dlbasics desk</code> (it holds the token)."
                               )(scope, receive, send)
        if request.method != "GET":
            sent = request.headers.get("x-csrf-token", "")
            if not (sent and hmac.compare_digest(sent.encode(), desk.csrf.encode())):
                return await JSONResponse({"error": "missing or wrong CSRF token: reload the page"}, 403,
                                          headers=HEADERS)(scope, receive, send)
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                return await JSONResponse({"error": "send JSON"}, 415, headers=HEADERS)(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k.lower().encode(), v.encode()) for k, v in HEADERS.items() if k.lower().encode() not in have]
            await send(message)

        return await self.app(scope, receive, with_headers)


def _page(name: str, **values) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**values), headers=HEADERS)


def _entries(desk: Desk):
    return desk.gradebook.manual_entries(desk.assignment.id)


def _state(entry) -> str:
    if entry is None:
        return "to grade"
    return "stale" if entry.stale else "graded"


def create_app(desk: Desk) -> Starlette:
    def index(request: Request):
        entries = _entries(desk)
        rows = []
        for question, max_points in desk.written.items():
            answers = desk.answers(question)
            done = sum(1 for a in answers
                       if a.untouched or _state(entries.get(a.student, {}).get(question)) == "graded")
            first = next((a.key for a in answers if not a.untouched), None)
            rows.append({"question": question, "max": max_points, "answers": len(answers), "done": done,
                         "blank": sum(1 for a in answers if a.untouched), "first": first})
        return _page("index.html.j2", assignment=desk.assignment.id, rows=rows, csrf=desk.csrf)

    def _question(request: Request) -> str:
        question = request.path_params["question"]
        if question not in desk.written:
            raise LookupError(question)
        return question

    def answer_page(request: Request):
        try:
            question = _question(request)
        except LookupError:
            return _deny(404, "No such written question.")
        names = request.query_params.get("names") == "1"
        answers = [a for a in desk.answers(question) if not a.untouched]
        key = request.path_params["key"]
        index = next((i for i, a in enumerate(answers) if a.key == key), None)
        if index is None:
            return _deny(404, "No such answer (it may have been left blank: blank answers score 0).")
        answer = answers[index]
        entries = _entries(desk)
        entry = entries.get(answer.student, {}).get(question)
        items = desk.gradebook.rubric(desk.assignment.id, question)
        held = {i.id for i in entry.items} if entry else set()
        model, rubric = desk.guides.get(question, ("", ""))
        group = next((g for g in desk.groups(question, answers) if answer.key in g.keys), None)
        listing = [{"key": a.key, "label": a.student if names else a.key,
                    "state": _state(entries.get(a.student, {}).get(question)),
                    "points": getattr(entries.get(a.student, {}).get(question), "points", None)} for a in answers]
        done = sum(1 for row in listing if row["state"] == "graded")
        return _page(
            "answer.html.j2", assignment=desk.assignment.id, question=question, max_points=answer.max_points,
            answer=answer, label=answer.student if names else answer.key, names=names,
            rendered=render_markdown(answer.text, math=True), model=render_markdown(model, math=True) if model else "",
            rubric=render_markdown(rubric, math=True) if rubric else "", items=items, held=held, entry=entry,
            keyed=KEYED_ITEMS, listing=listing, done=done, position=index + 1, total=len(answers),
            previous=answers[index - 1].key if index > 0 else "",
            next=answers[index + 1].key if index + 1 < len(answers) else "", group=group, csrf=desk.csrf)

    def groups_page(request: Request):
        try:
            question = _question(request)
        except LookupError:
            return _deny(404, "No such written question.")
        names = request.query_params.get("names") == "1"
        answers = [a for a in desk.answers(question) if not a.untouched]
        by_key = {a.key: a for a in answers}
        entries = _entries(desk)
        shown = []
        for number, group in enumerate(desk.groups(question, answers), start=1):
            members = []
            for key in group.keys:
                entry = entries.get(by_key[key].student, {}).get(question)
                members.append({"key": key, "label": by_key[key].student if names else key, "state": _state(entry),
                                "points": getattr(entry, "points", None), "version": getattr(entry, "version", 0)})
            shown.append({"number": number, "kind": group.kind, "keywords": group.keywords, "members": members,
                          "example": render_markdown(by_key[group.keys[0]].text, math=True)})
        return _page("groups.html.j2", assignment=desk.assignment.id, question=question, groups=shown,
                     items=desk.gradebook.rubric(desk.assignment.id, question), names=names, csrf=desk.csrf,
                     max_points=desk.written[question])

    async def _json(request: Request) -> dict:
        # Read at most MAX_BODY_BYTES, whatever Content-Length claims.
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise ValueError("request too large")
        try:
            data = json.loads(body)
        except RecursionError:  # "[[[[...": deeper than the parser's stack, never a real request
            raise ValueError("nested too deeply") from None
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    def _text(data: dict, name: str) -> str:
        value = data.get(name, "")
        if not isinstance(value, str):
            raise ValueError(f"{name} must be text")
        return value[:MAX_TEXT_CHARS]

    def _number(data: dict, name: str, default=None) -> float:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) > 1e6:
            raise ValueError(f"{name} must be a number")
        return float(value)

    def _version(data, name="version") -> int:
        value = data.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number")
        return value

    def _items(data) -> list[int]:
        items = data.get("items", [])
        if not isinstance(items, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
            raise ValueError("items must be a list of rubric item ids")
        return items

    def _save(question: str, scores: list) -> JSONResponse:
        try:
            saved = desk.gradebook.save_manual(desk.assignment.id, question, desk.written[question], scores)
        except Conflict as error:
            return JSONResponse({"error": str(error)}, 409)
        except KeyError as error:
            return JSONResponse({"error": str(error.args[0])}, 404)
        students = {a.student: a.key for a in desk.answers(question)}
        return JSONResponse({"saved": {students[s]: {"points": p, "version": v} for s, (p, v) in saved.items()}})

    async def save_score(request: Request):
        try:
            data = await _json(request)
            question = data.get("question")
            if question not in desk.written:
                raise ValueError("no such written question")
            by_key = {a.key: a for a in desk.answers(question) if not a.untouched}
            entries = data.get("scores")
            if not isinstance(entries, list) or not entries:
                raise ValueError("scores must be a non-empty list")
            scores = []
            for entry in entries:
                if not isinstance(entry, dict) or entry.get("key") not in by_key:
                    raise ValueError("no such answer (blank answers score 0 by themselves)")
                scores.append((by_key[entry["key"]].student, _version(entry), _number(entry, "adjust", 0),
                               _text(entry, "comment"), _items(entry)))
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, 400)
        return _save(question, scores)

    async def save_item(request: Request):
        try:
            data = await _json(request)
            question = data.get("question")
            if question not in desk.written:
                raise ValueError("no such written question")
            label = _text(data, "label").strip()
            if not label:
                raise ValueError("a rubric item needs a label")
            item_id = data.get("id")
            if item_id is not None and (isinstance(item_id, bool) or not isinstance(item_id, int)):
                raise ValueError("id must be a rubric item id")
            points = _number(data, "points")
            if abs(points) > desk.written[question]:
                raise ValueError(f"a rubric item gives or takes at most the question's {desk.written[question]:g}")
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, 400)
        try:
            item = desk.gradebook.save_rubric_item(desk.assignment.id, question, desk.written[question], item_id,
                                                   _version(data), label, points, _text(data, "comment"))
        except Conflict as error:
            return JSONResponse({"error": str(error)}, 409)
        except KeyError as error:
            return JSONResponse({"error": str(error.args[0])}, 404)
        return JSONResponse({"id": item.id, "version": item.version})

    def write_outputs(request: Request):
        # A separate process, exactly `dlbasics report` as the instructor would run it: the grader's
        # own writers and seed handling, and nothing of this server's state.
        try:
            done = subprocess.run(desk.report_command, capture_output=True, text=True, timeout=REPORT_SECONDS)
        except subprocess.TimeoutExpired:
            return JSONResponse({"error": f"dlbasics report took over {REPORT_SECONDS} s: run it by hand"}, 500)
        if done.returncode:
            return JSONResponse({"error": (done.stderr or done.stdout)[-2000:]}, 500)
        return JSONResponse({"message": done.stdout.strip()[-2000:]})

    static = StaticFiles(packages=[("autograder.desk", "static")])
    routes = [
        Route("/", index),
        Route("/q/{question}/groups", groups_page),
        Route("/q/{question}/a/{key}", answer_page),
        Route("/api/scores", save_score, methods=["POST"]),
        Route("/api/rubric", save_item, methods=["POST"]),
        Route("/api/report", write_outputs, methods=["POST"]),
        Mount("/static", static, name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(Guard, desk=desk)
    return app


def open_desk(assignment, gradebook_path: Path, seed: str, report_command: list[str], host: str, port: int) -> Desk:
    from autograder.grading.grade import load_template
    from autograder.notebook.fill import written_guides

    gradebook = Gradebook(gradebook_path, create=False)
    # Loopback: only the names of this machine, so a page of another site that makes its own name
    # resolve to 127.0.0.1 (DNS rebinding) is refused. Another address: any name (the token still guards).
    loopback = {"127.0.0.1": ["127.0.0.1", "localhost"], "::1": ["[::1]", "localhost"], "localhost": ["localhost"]}
    hosts = {f"{name}:{port}" for name in loopback[host]} if host in loopback else None
    return Desk(assignment, load_template(assignment).written, written_guides(assignment), gradebook, seed,
                report_command, hosts, cookie=f"dlbasics-desk-{port}")


def serve(desk: Desk, sock) -> None:
    import uvicorn

    config = uvicorn.Config(create_app(desk), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def report_command(assignment_id: str, where: list[str]) -> list[str]:
    return [sys.executable, "-m", "autograder.cli", "report", assignment_id, *where]
