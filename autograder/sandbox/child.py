"""The forked child that runs one submission: its cells, then the grader's calls.

Runs with rlimits set, as an unprivileged uid where the worker can arrange one, with its
own scratch directory as the working directory. It reads requests and writes replies as
JSON lines on one socket; nothing else of the grader is reachable from here.
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import sys

from autograder.selfcheck.calling import CallTimeout, invoke, student_traceback, time_limit

# What a student's stray output may cost: the first 8 KB are kept for the feedback.
KEEP_OUTPUT = 8_000


class BoundedWriter(io.TextIOBase):
    """A stdout/stderr that keeps the first few KB and drops the rest (100 MB of prints cost nothing)."""

    def __init__(self):
        self.parts: list[str] = []
        self.size = 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        if self.size < KEEP_OUTPUT:
            self.parts.append(text[: KEEP_OUTPUT - self.size])
        self.size += len(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.size = [], 0
        return text


class NoShell:
    """``get_ipython()`` for student cells: magics and ``!commands`` do nothing here."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _mib(n: float) -> int:
    return int(n * 1024 * 1024)


def apply_limits(limits: dict) -> None:
    """Kernel-enforced ceilings: they hold even if the student's code disables everything else."""
    vm_size = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                vm_size = int(line.split()[1]) * 1024
    settings = [
        (resource.RLIMIT_CPU, int(limits["cpu_seconds"])),
        # Address space: what torch has mapped already plus the budget for the student's data.
        (resource.RLIMIT_AS, vm_size + _mib(limits["memory_mb"])),
        (resource.RLIMIT_FSIZE, _mib(limits["file_mb"])),
        (resource.RLIMIT_NPROC, int(limits["processes"])),
        (resource.RLIMIT_NOFILE, 256),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in settings:
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 1))


def seed_everything() -> None:
    """The same random numbers for every run: grading a submission twice gives the same grade."""
    import random

    import numpy
    import torch

    random.seed(0)
    numpy.random.seed(0)
    torch.manual_seed(0)


def run(job: dict, channel) -> None:
    """Execute the submission's cells, then answer calls until the grader closes the channel."""
    import matplotlib.pyplot as plt

    reader = channel.makefile("r", encoding="utf-8", newline="\n")
    writer = channel.makefile("w", encoding="utf-8", newline="\n")

    def send(message: dict) -> None:
        writer.write(json.dumps(message) + "\n")
        writer.flush()

    out = BoundedWriter()
    sys.stdout = sys.stderr = out
    namespace = {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": NoShell}

    cells = []
    for cell in json.loads(reader.readline())["cells"]:
        seed_everything()
        status, message = "ok", ""
        try:
            code = compile(cell["source"], f"<cell {cell['label']}>", "exec")
            with time_limit(job["limits"]["cell_seconds"]):
                exec(code, namespace)
        except CallTimeout:
            status, message = "timeout", f"stopped after {job['limits']['cell_seconds']:g} s"
        except BaseException as error:  # SystemExit, KeyboardInterrupt: the cell fails, grading goes on
            status, message = "error", student_traceback(error)
        plt.close("all")
        cells.append({"label": cell["label"], "status": status, "message": message, "output": out.take()})
        send({"cell_done": len(cells)})  # lets the grader time each cell, not just the whole notebook
    send({"cells": cells})

    for line in reader:
        request = json.loads(line)
        seed_everything()  # each call is independent of the calls before it
        reply = invoke(namespace, request["name"], request["args"], request.get("kwargs"),
                       spy=request.get("spy", ()), render=request.get("render", False),
                       seconds=job["limits"]["call_seconds"])
        plt.close("all")
        out.take()
        send(reply)


def main(job: dict, channel, uid: int | None) -> None:
    """Entry point in the freshly forked process; never returns."""
    code = 0
    try:
        os.setsid()
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        scratch = os.path.join(job["scratch_root"], f"job-{job['id']}")
        os.makedirs(scratch, mode=0o700, exist_ok=True)
        os.chdir(scratch)
        os.environ["HOME"] = scratch
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        apply_limits(job["limits"])
        run(job, channel)
    except BaseException:
        code = 70
    finally:
        os._exit(code)
