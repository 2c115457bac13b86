"""The data a grade is made of: plain dataclasses, one :class:`Status` for every outcome.

A :class:`Result` is what grading one submission produces, what the gradebook stores (as
JSON, :meth:`Result.to_json`), what a Dask worker sends back, and what every output writer
and template reads. Built from JSON only through :meth:`Result.from_json`, which checks the
types, fills what older gradebooks did not store, and refuses anything else
(:class:`BadResult`): a result that comes from a file or another machine is data, not trusted
structure.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from autograder.selfcheck.api import CheckResult
from autograder.selfcheck.status import Status
from autograder.text import valid_data

# A written answer longer than this is cut when stored: the review page is for reading.
MAX_ANSWER_CHARS = 20_000
# One message (the result's, a check's, a cell's, a note, a traceback): a page of text is all a
# reader takes in, and the sandbox's own messages are at most ~3 KB (see sandbox/replies.py,
# which cuts replies to the same size as they arrive). Cut with a note that says so.
MAX_MESSAGE = 4_000
# A named mistake is a short phrase of the checks ("sum instead of mean"), a dependency note at most.
MAX_MISTAKE = 500
# One plot, base64 PNG: the sandbox renders at 60 dpi (6.4 x 4.8 in: 384 x 288 pixels), 15-40 KB
# for this course's figures; a larger one is no plot of ours and is dropped (the feedback says a
# plot could not be shown).
MAX_PLOT = 150_000
# A whole result as stored (gradebook row, results.json's source): the reference solution's is
# ~10-50 KB with its plot. Student text is cut per field above; if a result is still larger
# (thousands of added cells that each raise), cell messages share a budget, then cell reports of
# cells that ran fine are dropped, then plots, then notes past the first 20, with a note each time;
# past that (fields that are no student text, e.g. a forged Dask reply) it is refused.
MAX_RESULT_BYTES = 256 * 1024
# What the cell messages of one result may hold together once the result is over its bound.
CELL_MESSAGES_BUDGET = 32 * 1024

# The sandbox child's words for how a cell ran (what older gradebook rows stored too). Its "error"
# (the cell raised) becomes FAILED here, at the boundary: Status.ERROR is the grader's own fault.
CHILD_CELL_STATUS = {"ok": Status.OK, "error": Status.FAILED, "timeout": Status.TIMEOUT, "skipped": Status.SKIPPED}


class BadResult(ValueError):
    """JSON that is not a result (a corrupted gradebook row, a wrong reply from a Dask worker)."""


@dataclass
class QuestionResult:
    """One automatically graded question: the sum of its checks."""

    points: float
    max_points: float
    status: Status
    mistakes: list[str] = field(default_factory=list)  # named mistakes of its failing checks


@dataclass
class WrittenAnswer:
    """A written question's answer, collected for hand grading."""

    max_points: float
    answer: str = ""
    untouched: bool = True  # empty, or still the template's placeholder


@dataclass
class CellOutcome:
    """How one cell of the rebuilt notebook ran in the sandbox: ``OK``, ``FAILED`` (it raised),
    ``TIMEOUT`` or ``SKIPPED`` (the added cells' shared time was used up)."""

    label: str
    status: Status
    message: str = ""


@dataclass
class Result:
    """Everything known about one graded submission."""

    assignment: str
    student: str
    file: str
    status: Status
    message: str = ""  # why the status, for the student ("" when graded normally)
    hash: str = ""  # sha256 of the bytes graded ("" when they could not be read)
    isolation: str = ""  # the sandbox mode that ran it
    isolation_note: str = ""  # a warning when that mode is weaker than bubblewrap
    questions: dict[str, QuestionResult] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    cells: list[CellOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what rebuilding the notebook changed
    written: dict[str, WrittenAnswer] = field(default_factory=dict)
    plots: dict[str, str] = field(default_factory=dict)  # question -> base64 PNG from the child, unchecked
    seconds: float = 0.0
    auto_total: float = 0.0
    auto_max: float = 0.0
    max_points: float = 0.0  # automatic plus written
    submitted_at: str | None = None  # ISO time, from intake (nbgrader's timestamp.txt or the file)
    traceback: str = ""  # a grader fault's traceback, for instructors

    def checks_of(self, question: str) -> list[CheckResult]:
        return [check for check in self.checks if check.question == question]

    def to_json(self) -> dict:
        """Plain JSON data (statuses as their words)."""
        return dataclasses.asdict(self)

    def size(self) -> int:
        """Bytes of the stored JSON (what the gradebook keeps)."""
        return len(json.dumps(self.to_json()).encode())

    @classmethod
    def from_json(cls, data) -> Result:
        """A result from stored or received JSON; :class:`BadResult` if it is not one.

        Every string is made valid (a student's text may hold lone surrogates); keys added in
        later releases take their defaults, keys no longer used are ignored.
        """
        try:
            data = valid_data(data)
            result = cls(
                assignment=_str(data["assignment"]), student=_str(data["student"]), file=_str(data.get("file", "")),
                status=Status(data["status"]), message=_cut(data.get("message", "")),
                hash=_str(data.get("hash", "")), isolation=_str(data.get("isolation", "")),
                isolation_note=_cut(data.get("isolation_note", "")),
                questions={_str(q): QuestionResult(_num(i["points"]), _num(i["max_points"]), Status(i["status"]),
                                                   [_cut(m, MAX_MISTAKE) for m in i.get("mistakes", [])])
                           for q, i in data.get("questions", {}).items()},
                checks=[_check(c) for c in data.get("checks", [])],
                cells=[CellOutcome(_str(c.get("label", "")), _cell_status(c.get("status")),
                                   _cut(c.get("message") or "")) for c in data.get("cells", [])],
                notes=[_cut(note) for note in data.get("notes", [])],
                written={_str(q): WrittenAnswer(_num(w["max_points"]), _str(w.get("answer", ""))[:MAX_ANSWER_CHARS],
                                                bool(w.get("untouched", True)))
                         for q, w in data.get("written", {}).items()},
                plots={_str(q): png for q, png in (data.get("plots") or {}).items()
                       if isinstance(png, str) and len(png) <= MAX_PLOT},
                seconds=_num(data.get("seconds") or 0.0), auto_total=_num(data.get("auto_total", 0.0)),
                auto_max=_num(data.get("auto_max", 0.0)), max_points=_num(data.get("max_points", 0.0)),
                submitted_at=data.get("submitted_at") if isinstance(data.get("submitted_at"), str) else None,
                traceback=_cut(data.get("traceback", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise BadResult(f"not a grading result ({type(error).__name__}: {error})") from None
        return result.bounded()

    def bounded(self) -> Result:
        """This result within :data:`MAX_RESULT_BYTES` (see there for what gives way first);
        :class:`BadResult` if even then it is not (fields that are not student text are too large)."""
        if self.size() <= MAX_RESULT_BYTES:
            return self
        left = CELL_MESSAGES_BUDGET
        for cell in self.cells:
            if len(cell.message) > left:
                cell.message = cut(cell.message, left) if left > 0 else f"(cut: {len(cell.message)} characters)"
            left -= len(cell.message)
        if self.size() > MAX_RESULT_BYTES:
            kept = [cell for cell in self.cells if cell.status != Status.OK or cell.message]
            if len(kept) < len(self.cells):
                self.notes.append(f"{len(self.cells) - len(kept)} reports of cells that ran without an error "
                                  "were not kept: the result was too large")
                self.cells = kept
        if self.size() > MAX_RESULT_BYTES and self.plots:
            self.notes.append("the plots were not kept: the result was too large")
            self.plots = {}
        if self.size() > MAX_RESULT_BYTES and len(self.notes) > 20:
            dropped = len(self.notes) - 20
            self.notes = [*self.notes[:20], f"{dropped} more notes were not kept: the result was too large"]
        size = self.size()
        if size > MAX_RESULT_BYTES:
            raise BadResult(f"a result of {size} bytes, over the limit of {MAX_RESULT_BYTES}")
        return self


def cut(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, with a note that says how much was dropped."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" (cut: {len(text) - limit} characters more)"


def _cut(value, limit: int = MAX_MESSAGE) -> str:
    return cut(_str(value), limit)


def _str(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _num(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return value


def _cell_status(word) -> Status:
    return CHILD_CELL_STATUS.get(word) or Status(word)


def _check(data: dict) -> CheckResult:
    mistake = data.get("mistake")
    return CheckResult(
        name=_str(data["name"]), question=_str(data["question"]), points=_num(data["points"]),
        max_points=_num(data["max_points"]), status=Status(data["status"]), message=_cut(data.get("message", "")),
        hidden=bool(data.get("hidden", False)), mistake=_cut(mistake, MAX_MISTAKE) if mistake is not None else None,
        seconds=_num(data.get("seconds") or 0.0))
