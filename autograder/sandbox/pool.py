"""The grader's side of the sandbox: start workers, send them submissions, talk to children.

A :class:`Worker` is one long-lived sandboxed process (see :mod:`.worker`) that has
imported torch once; :meth:`Worker.open` hands it one submission's cells and returns a
:class:`Session`, the ``student`` that checks call. Every wait on the sandbox has a
deadline; whatever goes wrong there becomes a status on the result, never an exception in
the grader and never a point.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.selfcheck.api import Student

PACKAGE_DIR = Path(__file__).resolve().parents[1]
STAGE = "/opt/dlbasics"  # where the worker's code appears inside bubblewrap
MAX_LINE = 32 * 1024 * 1024  # one reply can carry a rendered plot, not a flood


@dataclass
class Limits:
    """Per-submission ceilings. The reference solutions need a fraction of each (see docs)."""

    # One notebook cell at the top level. The reference cells take milliseconds; a student's
    # slow experiment left in a cell is stopped here and costs that cell only.
    cell_seconds: float = 5.0
    # One call of a student function by a check: the largest (training 15 epochs on 12
    # points) takes ~2 ms warm; 5 s is three orders of magnitude of slack.
    call_seconds: float = 5.0
    # CPU seconds of the whole child: a backstop for code that blocks the timers above.
    cpu_seconds: float = 60.0
    # Wall time of the whole submission, cells and calls together.
    job_seconds: float = 90.0
    # Address space above what the worker had mapped (torch included) when the child forked.
    # The course's data are a few dozen floats; 512 MB is ample and, times the process
    # limit below and two workers, stays well inside a 24 GB machine even for a fork bomb
    # in which every process fills its memory.
    memory_mb: float = 512.0
    # Per file written in the scratch directory.
    file_mb: float = 16.0
    # Processes and threads of the job's uid (a fork storm stops here; the course needs 1).
    processes: int = 16


class SandboxUnavailable(RuntimeError):
    pass


@functools.lru_cache(maxsize=1)
def isolation_mode() -> str:
    """``bwrap`` (namespaces, read-only system, no network) or ``rlimits`` (reduced isolation).

    ``DLBASICS_SANDBOX=rlimits`` forces the reduced mode; ``=bwrap`` makes a missing
    bubblewrap an error instead of a fallback.
    """
    wanted = os.environ.get("DLBASICS_SANDBOX", "auto")
    if wanted == "rlimits":
        return "rlimits"
    binary = shutil.which("bwrap")
    works = False
    if binary:
        probe = [binary, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--dev", "/dev", "true"]
        if os.geteuid() != 0:
            probe.insert(1, "--unshare-user")
        try:
            works = subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            works = False
    if wanted == "bwrap" and not works:
        raise SandboxUnavailable(
            "DLBASICS_SANDBOX=bwrap but bubblewrap is missing or cannot create namespaces here; "
            "install it (apt-get install bubblewrap) or unset DLBASICS_SANDBOX to accept reduced isolation")
    return "bwrap" if works else "rlimits"


def isolation_note(mode: str) -> str:
    if mode == "bwrap":
        return ""
    who = ("as a separate unprivileged user, so it could read world-readable files" if os.geteuid() == 0
           else "as the grading account, so it could read that account's files")
    return (f"isolation reduced: bubblewrap is not available; student code ran in a separate process with "
            f"resource limits, {who} and use the network")


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts
    return [str(Path(*parts[: i + 1])) for i in range(1, len(parts) - 1)]


def _bwrap_command(control_fd: int, uid: int | None) -> list[str]:
    command = ["bwrap", "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid",
               "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if uid is None:
        command += ["--unshare-user"]
    else:
        # Privileged bubblewrap keeps only these two capabilities, to drop to the job's uid.
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    command += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            command += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            command += ["--ro-bind", top, top]
    for path in ("/etc/ld.so.cache", "/etc/localtime"):
        command += ["--ro-bind-try", path, path]
    command += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    interpreters = sorted({os.path.realpath(sys.base_prefix), sys.base_prefix, sys.prefix})
    stage = f"{STAGE}/autograder"
    made = set()
    for path in [*interpreters, stage]:
        for parent in _ancestors(path + "/x"):
            if parent not in made and not parent.startswith("/usr"):
                command += ["--perms", "0755", "--dir", parent]
                made.add(parent)
    for path in interpreters:
        command += ["--ro-bind", path, path]
    # If the kit is installed inside a bound prefix, its checks and references must vanish.
    for path in interpreters:
        if str(PACKAGE_DIR).startswith(path + "/"):
            command += ["--tmpfs", str(PACKAGE_DIR)]
    command += ["--ro-bind", str(PACKAGE_DIR / "__init__.py"), f"{stage}/__init__.py"]
    for public in ("sandbox", "selfcheck"):
        command += ["--ro-bind", str(PACKAGE_DIR / public), f"{stage}/{public}"]
    command += ["--chdir", "/tmp", "--clearenv"]
    for key, value in _child_env(STAGE, "/tmp").items():
        command += ["--setenv", key, value]
    command += [sys.executable, "-s", "-m", "autograder.sandbox.worker", str(control_fd),
                "-" if uid is None else str(uid)]
    return command


def _child_env(python_path: str, home: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin", "PYTHONPATH": python_path, "HOME": home, "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LC_ALL": "C.UTF-8",
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
    }


class Worker:
    """One sandboxed worker process; restarted transparently if a submission kills it."""

    _ids = itertools.count(1)

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.mode = isolation_mode()
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.scratch_root: str | None = None
        self.starts = 0

    # --- life cycle ---------------------------------------------------------------
    def start(self) -> None:
        self.stop()
        # A fresh unprivileged uid per worker when we are root: the job's processes can then
        # be counted (RLIMIT_NPROC) and killed as a group, and cannot touch the grader's files.
        self.uid = random.randrange(200_000, 260_000) if os.geteuid() == 0 else None
        # SEQPACKET keeps each control message whole (a job header, a kill, a report).
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if self.mode == "bwrap":
            command = _bwrap_command(theirs.fileno(), self.uid)
            env = None
            self.scratch_root = "/tmp"
        else:
            self.scratch_root = tempfile.mkdtemp(prefix="dlbasics-scratch-")
            os.chmod(self.scratch_root, 0o1777)
            command = [sys.executable, "-s", "-m", "autograder.sandbox.worker", str(theirs.fileno()),
                       "-" if self.uid is None else str(self.uid)]
            env = {**_child_env(str(PACKAGE_DIR.parent), self.scratch_root)}
        # A file, not a pipe: nobody reads the worker's stderr while it runs, and a full pipe
        # would block it. It is read only to explain a worker that failed to start.
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=self.errors, start_new_session=True)
        theirs.close()
        self.control = ours
        self.reader = _LineReader(ours)
        self.starts += 1
        ready = self.reader.read_line(deadline=time.monotonic() + 180)
        if not ready or not ready.get("ready"):
            self.errors.seek(0)
            error = self.errors.read()[-4000:].decode(errors="replace")
            self.stop()
            raise SandboxUnavailable(f"the sandbox worker did not start: {error.strip() or 'no answer'}")

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.errors.close()
            self.process = None
        if self.mode != "bwrap" and self.scratch_root and os.path.isdir(self.scratch_root):
            shutil.rmtree(self.scratch_root, ignore_errors=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- one submission -----------------------------------------------------------
    def open(self, cells: list[dict]) -> Session:
        """Run ``cells`` in a fresh child; return the session that checks call through."""
        if not self.alive():
            self.start()
        ours, theirs = socket.socketpair()
        job_id = next(self._ids)
        header = {"id": job_id, "limits": asdict(self.limits), "scratch_root": self.scratch_root,
                  "own_pid_namespace": self.mode == "bwrap"}
        socket.send_fds(self.control, [json.dumps(header).encode() + b"\n"], [theirs.fileno()])
        theirs.close()
        return Session(self, ours, cells)

    def kill_job(self) -> None:
        if self.control is None:
            return
        try:
            self.control.sendall(b'{"kill": true}\n')
        except OSError:
            pass

    def finish(self, deadline: float) -> dict:
        """Wait for the worker's report on the ended child; restart a worker that died."""
        report = self.reader.read_line(deadline) if self.alive() else None
        if report is None or "done" not in report:
            self.stop()
            return {"worker_died": True}
        return report


class _LineReader:
    """JSON lines from a socket, each with a deadline; ``None`` on EOF, timeout or garbage."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""
        self.timed_out = False

    def read_line(self, deadline: float) -> dict | None:
        self.timed_out = False
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.timed_out = True
                return None
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                return None
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE:
                return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None


class Session(Student):
    """The student as checks see it: one submission running in its child."""

    def __init__(self, worker: Worker, sock: socket.socket, cells: list[dict]):
        self.worker = worker
        self.sock = sock
        self.reader = _LineReader(sock)
        self.started = time.monotonic()
        self.deadline = self.started + worker.limits.job_seconds
        self.ended: str | None = None  # why the child can no longer answer
        self.ended_message = ""
        self.cells: list[dict] = []
        self.calls = 0
        # A function that ran out of time once is not called again: each further check of
        # it would only wait out the same limit (an infinite loop costs one timeout, not ten).
        self.timed_out: dict[str, str] = {}
        self._send({"cells": cells})
        # The child reports after each cell; one that blocks the child's own timer (e.g. by
        # ignoring SIGALRM) is stopped here, a couple of seconds after its limit.
        while not self.ended:
            reply = self.reader.read_line(min(self.deadline, time.monotonic() + worker.limits.cell_seconds + 2))
            if reply is not None and "cell_done" in reply:
                continue
            if reply is None or not isinstance(reply.get("cells"), list):
                self._end("the notebook's cells did not finish")
            else:
                self.cells = reply["cells"]
                break

    def _send(self, message: dict) -> None:
        try:
            # A child that stops reading must not block the grader: sending has a deadline too.
            self.sock.settimeout(max(0.1, self.deadline - time.monotonic()))
            self.sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError:  # includes the timeout
            self._end("the sandbox stopped answering")
        finally:
            self.sock.settimeout(None)

    def _end(self, why: str) -> None:
        if self.ended:
            return
        timed_out = self.reader.timed_out or time.monotonic() >= self.deadline
        self.ended = "timeout" if timed_out else "crashed"
        self.ended_message = (f"{why}: the time limit was reached" if timed_out
                              else f"{why}: the process running your code ended (crash, exit or limit)")
        self.worker.kill_job()

    def request(self, name, args, kwargs, spy, render) -> dict:
        if self.ended:
            return {"ok": False, "kind": self.ended, "message": self.ended_message}
        if name in self.timed_out:
            return {"ok": False, "kind": "timeout", "message": self.timed_out[name]}
        self.calls += 1
        self._send({"name": name, "args": args, "kwargs": kwargs, "spy": list(spy), "render": render})
        limit = min(self.deadline, time.monotonic() + self.worker.limits.call_seconds + 3)
        reply = self.reader.read_line(limit)
        if reply is None or "ok" not in reply:
            self._end(f"calling `{name}`")
            return {"ok": False, "kind": self.ended, "message": self.ended_message}
        if reply.get("kind") == "timeout":
            self.timed_out[name] = reply.get("message", "timed out")
        return reply

    def close(self) -> dict:
        """End the child; return what the worker reports (exit code, seconds)."""
        try:
            self.sock.close()
        except OSError:
            pass
        report = self.worker.finish(time.monotonic() + 30)
        report["calls"] = self.calls
        report["ended"] = self.ended
        return report
