"""The one list of how a check, a question or a submission can end.

Shared by the checks, grading, the gradebook, every output writer and the templates. A
``StrEnum``: each status is also its plain word, as stored in the gradebook's JSON and
written into grades.csv, so old gradebooks and the templates read them unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    # A check, a question, or a submission's functions:
    PASSED = "passed"  # every point of it
    PARTIAL = "partial"  # a question with some of its checks passed
    FAILED = "failed"  # the value came back wrong, or the function raised
    NOT_ATTEMPTED = "not attempted"  # still the stub, or not defined
    TIMEOUT = "timeout"  # stopped at its time limit
    CRASHED = "crashed"  # the process running the student's code ended
    ERROR = "error"  # a check itself broke: the grader's fault, never a point
    # A cell of the notebook (besides FAILED: it raised, and TIMEOUT):
    OK = "ok"  # ran to its end
    SKIPPED = "skipped"  # not run: the cells the student added had used up their shared time
    # A whole submission:
    GRADED = "graded"
    UNREADABLE = "unreadable"  # not a notebook we can read; the message says why
    GRADER_ERROR = "grader error"  # the grader failed on it: `dlbasics grade` exits non-zero
    NO_SUBMISSION = "no submission"  # a roster student who handed in nothing
