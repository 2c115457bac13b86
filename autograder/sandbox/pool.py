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

from autograder.fontcache import font_lists, lend_font_lists
from autograder.sandbox import replies
from autograder.sandbox.replies import MalformedReply
from autograder.selfcheck.api import Student

PACKAGE_DIR = Path(__file__).resolve().parents[1]
STAGE = "/opt/dlbasics"  # where the worker's code appears inside bubblewrap
# One line from the sandbox, bounded before it is parsed: a reply carries at most a rendered
# plot (replies.MAX_PNG, 2 MB of base64) or a value of replies.MAX_ITEMS numbers (~2.5 MB as
# JSON), with the arguments as they are after the call beside it. 8 MB holds the largest
# honest reply with room to spare; parsed, it costs the grader at most ~250 MB for a moment.
MAX_LINE = 8 * 1024 * 1024
# What a submission whose process wrote something that is no reply of the protocol gets.
MALFORMED = "the submission's process sent a malformed reply"


@dataclass
class Limits:
    """Per-submission ceilings, the one place for these numbers. README ("Time") gives the
    worst case they add up to; the reference solutions need a small fraction of each."""

    # One cell of the template (setup, and the first cell of each answer) at the top level.
    # The reference cells take milliseconds; a slow experiment left in a cell is stopped here
    # and costs that cell only: each of these cells always gets its own full limit.
    cell_seconds: float = 5.0
    # All cells the student added (and extra copies of answer cells) together. Each still
    # stops at cell_seconds; once these seconds are spent, further added cells are skipped
    # with a note, so added cells can never eat the time of the answers or the checks
    # (19 added cells of 4.9 s each used to zero a correct submission).
    added_cells_seconds: float = 30.0
    # One call of a student function by a check: the largest (training 15 epochs on 12
    # points) takes ~2 ms warm; 5 s is three orders of magnitude of slack. Reading the
    # returned value back gets the same limit again.
    call_seconds: float = 5.0
    # All calls of all checks of one submission together (about 40 calls, ~0.1 s in all
    # for the reference). A function that timed out is not called again; once this is
    # spent, the remaining checks report that time ran out instead of calling.
    checks_seconds: float = 60.0
    # How long after its limit a child that blocks its own timer (ignores SIGALRM) is killed;
    # also covers the milliseconds of bookkeeping around each template cell.
    grace_seconds: float = 2.0
    # After the last call the child only has to exit (milliseconds); one that hangs instead
    # is killed this long after the grader closed its channel, without restarting the worker.
    close_seconds: float = 1.0
    # CPU seconds of the whole child: a backstop for code that blocks the wall clocks above.
    # Above the wall-clock worst case of a submission (README), so it never decides an honest
    # grade: a child that burns this much CPU would have been stopped by a clock already.
    cpu_seconds: float = 180.0
    # Address space above what the worker had mapped (torch included) when the child forked.
    # The course's data are a few dozen floats; 512 MB is ample and, times the process
    # limit below and two workers, stays well inside a 24 GB machine even for a fork bomb
    # in which every process fills its memory.
    memory_mb: float = 512.0
    # Per file written (RLIMIT_FSIZE), wherever the job can write.
    file_mb: float = 16.0
    # The job's private /tmp (a tmpfs): its pages are memory that RLIMIT_AS does not count,
    # so this size is the cap. The course writes no file at all; matplotlib's cache is a
    # few hundred KB. Two workers hold at most 2 x 64 MiB here.
    tmp_mb: float = 64.0
    # Files and folders in that /tmp (a tmpfs inode costs kernel memory even when empty).
    tmp_inodes: int = 4096
    # Processes and threads of the job's uid (a fork storm stops here; the course needs 1).
    processes: int = 16

    def worst_case_seconds(self, template_cells: int) -> float:
        """The longest one submission can take, worker start excluded (see README, "Time")."""
        cells = template_cells * (self.cell_seconds + self.grace_seconds) + self.added_cells_seconds
        return cells + self.grace_seconds + self.checks_seconds + self.grace_seconds + self.close_seconds


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


# Whether the workers of this run could give each submission its own tmpfs /tmp, and install
# the seccomp filter (they say so when they start): where they could not, the isolation note
# says what was shared or open.
_private_tmp: dict[str, bool] = {}
_seccomp: dict[str, bool] = {}


def isolation_note(mode: str) -> str:
    """What was weaker than the full sandbox for results graded in ``mode``; empty if nothing."""
    notes = []
    if mode != "bwrap":
        who = ("as a separate unprivileged user, so it could read world-readable files" if os.geteuid() == 0
               else "as the grading account, so it could read that account's files")
        notes.append(f"isolation reduced: bubblewrap is not available; student code ran in a separate process "
                     f"with resource limits, {who} and use the network")
    if _private_tmp.get(mode) is False:
        notes.append("isolation reduced: this machine does not let the grader give each submission its own "
                     "size-capped /tmp; each got a fresh folder there instead, with a limit per file only")
    if _seccomp.get(mode) is False:
        notes.append("isolation reduced: the system-call filter could not be installed (install the Debian package "
                     "libseccomp2 and `make setup`'s pyseccomp), so student code could hold memory outside its "
                     "limits with memfd_create and SysV shared memory while it ran")
    return "; ".join(notes)


# Job uids: a fresh one per submission (never reused within a run), so nothing a submission
# leaves running or written can be reached by the next one, and RLIMIT_NPROC counts only its
# own processes. Far above any account's uid and nobody (65534); the random base keeps two
# graders on one machine apart.
_job_uids = itertools.count(random.randrange(100_000_000, 2_000_000_000, 1_000_000))


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts
    return [str(Path(*parts[: i + 1])) for i in range(1, len(parts) - 1)]


def _python_command(executable: str = sys.executable) -> list[str]:
    # -s: no user site-packages; -P: the working directory (/tmp) is not put on sys.path,
    # so nothing a job can write is ever imported.
    return [executable, "-s", "-P", "-m", "autograder.sandbox.worker"]


def _bwrap_command(control_fd: int, limits: Limits) -> list[str]:
    command = ["bwrap", "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid",
               "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() != 0:
        # Unprivileged: each child makes its own /tmp in a nested user namespace (child.py).
        command += ["--unshare-user"]
    else:
        # Privileged bubblewrap keeps only these capabilities: to mount each job's own /tmp
        # (SYS_ADMIN) and drop to the job's uid (SETUID/SETGID), after which a job has none.
        # The worker itself never runs student code.
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SYS_ADMIN"]
    command += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            command += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            command += ["--ro-bind", top, top]
    for path in ("/etc/ld.so.cache", "/etc/localtime"):
        command += ["--ro-bind-try", path, path]
    # The worker's own /tmp holds matplotlib's cache, and each job's folder only where a job
    # cannot have its own tmpfs; capped like a job's /tmp, since it is memory too.
    command += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777",
                "--size", str(int(limits.tmp_mb * 2**20)), "--tmpfs", "/tmp"]
    # The grader's matplotlib font list, read-only where the worker's matplotlib looks for it
    # (MPLCONFIGDIR, below): its import then reads the list instead of scanning every font
    # (autograder/fontcache.py). A child mounts its own /tmp over this one and sees none of it.
    for font_list in font_lists():
        command += ["--ro-bind", str(font_list), f"/tmp/.matplotlib/{font_list.name}"]
    binds = _interpreter_binds()
    stage = f"{STAGE}/autograder"
    made = set()
    for path in [*binds.values(), stage]:
        for parent in _ancestors(path + "/x"):
            if parent not in made and not parent.startswith("/usr"):
                command += ["--perms", "0755", "--dir", parent]
                made.add(parent)
    for source, target in binds.items():
        command += ["--ro-bind", source, target]
    # If the kit is installed inside a bound prefix, its checks and references must vanish.
    for source, target in binds.items():
        if str(PACKAGE_DIR).startswith(source + "/"):
            command += ["--tmpfs", target + str(PACKAGE_DIR)[len(source):]]
    command += ["--ro-bind", str(PACKAGE_DIR / "__init__.py"), f"{stage}/__init__.py"]
    for public in ("sandbox", "selfcheck"):
        command += ["--ro-bind", str(PACKAGE_DIR / public), f"{stage}/{public}"]
    command += ["--chdir", "/tmp", "--clearenv"]
    for key, value in _child_env(STAGE, "/tmp").items():
        command += ["--setenv", key, value]
    return command + [*_python_command(_inside(sys.executable, binds)), str(control_fd)]


def _interpreter_binds() -> dict[str, str]:
    """Where the Python installation (and the venv) appears inside bubblewrap: at its own path,
    except what lives under /tmp (a checkout in the system's temporary folder). That goes to a
    path under STAGE, as every child mounts its own empty /tmp over the worker's and would
    hide it (the old grader then fell back, silently, to a shared folder in /tmp)."""
    binds = {}
    for number, path in enumerate(sorted({os.path.realpath(sys.base_prefix), sys.base_prefix, sys.prefix})):
        under_tmp = os.path.realpath(path) == "/tmp" or os.path.realpath(path).startswith("/tmp/")
        if not under_tmp:
            binds[path] = path
        else:
            # A venv keeps its layout (bin/python finds pyvenv.cfg beside it, then its own
            # site-packages); a Python installed under /tmp finds its prefix from its binary too.
            binds[os.path.realpath(path)] = f"{STAGE}/python-{number}"
    return binds


def _inside(path: str, binds: dict[str, str]) -> str:
    """``path`` (not resolved: a venv's bin/python is a link) as seen inside bubblewrap."""
    for source, target in sorted(binds.items(), key=lambda item: -len(item[0])):
        for form in {source, *(p for p in (sys.prefix, sys.base_prefix) if os.path.realpath(p) == source)}:
            if path == form or path.startswith(form + "/"):
                return target + path[len(form):]
    return path


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
        self.private_tmp = False
        self.seccomp = False
        self.starts = 0

    # --- life cycle ---------------------------------------------------------------
    def start(self) -> None:
        self.stop()
        # SEQPACKET keeps each control message whole (a job header, a kill, a report).
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if self.mode == "bwrap":
            command = _bwrap_command(theirs.fileno(), self.limits)
            env = None
            self.scratch_root = "/tmp"
        else:
            # Only used where a job cannot have its own tmpfs: then each job gets a fresh
            # folder in here, removed after it.
            self.scratch_root = tempfile.mkdtemp(prefix="dlbasics-scratch-")
            os.chmod(self.scratch_root, 0o1777)
            lend_font_lists(Path(self.scratch_root) / ".matplotlib")  # its MPLCONFIGDIR (_child_env)
            command = [*_python_command(), str(theirs.fileno())]
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
        self.private_tmp = ready.get("private_tmp") is True
        _private_tmp[self.mode] = self.private_tmp and _private_tmp.get(self.mode, True)
        self.seccomp = ready.get("seccomp") is True
        _seccomp[self.mode] = self.seccomp and _seccomp.get(self.mode, True)

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
                  "own_pid_namespace": self.mode == "bwrap", "seccomp": self.seccomp,
                  "uid": next(_job_uids) if os.geteuid() == 0 else None}
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

    def report(self, deadline: float) -> dict | None:
        """The worker's report on the ended child; ``{"worker_died": True}`` (and the worker
        stopped) if it died or said something else; ``None`` if the child still runs at ``deadline``."""
        report = self.reader.read_line(deadline) if self.alive() else None
        if report is None and self.reader.timed_out and self.alive():
            return None
        if report is None or "done" not in report:
            self.stop()
            return {"worker_died": True}
        return report


class _LineReader:
    """JSON lines from a socket, each with a deadline; ``None`` on EOF, timeout or garbage.

    ``malformed`` says why the last ``None`` was garbage (a line too long, not JSON, nested
    beyond json's recursion limit, not an object), so the session can tell a forged reply
    from a process that ended.
    """

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""
        self.timed_out = False
        self.malformed = ""

    def read_line(self, deadline: float) -> dict | None:
        self.timed_out = False
        self.malformed = ""
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
            if len(self.buffer) > MAX_LINE and b"\n" not in self.buffer[:MAX_LINE + 1]:
                self.malformed = f"a line longer than {MAX_LINE // 2**20} MB"
                return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        if len(line) > MAX_LINE:
            self.malformed = f"a line longer than {MAX_LINE // 2**20} MB"
            return None
        try:
            # json's depth is bounded by the interpreter's recursion limit: a forged
            # 100 000-deep list raises RecursionError here, after a few hundred levels.
            message = json.loads(line)
        except (ValueError, RecursionError) as error:
            self.malformed = f"not JSON ({type(error).__name__})"
            return None
        if not isinstance(message, dict):
            self.malformed = f"a JSON {type(message).__name__} where an object belongs"
            return None
        return message


class Session(Student):
    """The student as checks see it: one submission running in its child.

    Time comes in three budgets (see :class:`Limits`), each enforced here with a deadline,
    whatever the child does: the cells, the checks' calls, and closing.
    """

    def __init__(self, worker: Worker, sock: socket.socket, cells: list[dict]):
        self.worker = worker
        self.sock = sock
        self.reader = _LineReader(sock)
        limits = worker.limits
        self.started = time.monotonic()
        # The cells: each template cell its own limit (plus the grace for a child that blocks
        # its timer), the added cells their shared seconds. The child runs that schedule; this
        # deadline holds even if the child (student code) lies about its progress.
        template_cells = sum(1 for cell in cells if not cell.get("added"))
        self.deadline = (self.started + template_cells * (limits.cell_seconds + limits.grace_seconds)
                         + limits.added_cells_seconds + limits.grace_seconds)
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
            reply = self.reader.read_line(min(self.deadline, time.monotonic() + limits.cell_seconds
                                              + limits.grace_seconds))
            try:
                if reply is None:
                    self._end("the notebook's cells did not finish", self.reader.malformed)
                elif "cell_done" in reply:
                    replies.cell_progress(reply, len(cells))
                else:
                    self.cells = replies.cells_report(reply, cells)
                    break
            except MalformedReply as error:
                self._end("the notebook's cells did not finish", str(error))
        # The checks get their own seconds, whatever the cells took.
        self.deadline = time.monotonic() + limits.checks_seconds

    def _send(self, message: dict) -> None:
        try:
            # A child that stops reading must not block the grader: sending has a deadline too.
            self.sock.settimeout(max(0.1, self.deadline - time.monotonic()))
            self.sock.sendall(json.dumps(message).encode() + b"\n")
        except OSError:  # includes the timeout
            self._end("the sandbox stopped answering")
        finally:
            self.sock.settimeout(None)

    def _end(self, why: str, malformed: str = "") -> None:
        """The child can answer no more: it timed out, ended, or (``malformed`` says how) sent
        something that is no reply. Each is the submission's own status, never the grader's."""
        if self.ended:
            return
        timed_out = not malformed and (self.reader.timed_out or time.monotonic() >= self.deadline)
        self.ended = "timeout" if timed_out else "crashed"
        if malformed:
            self.ended_message = f"{why}: {MALFORMED} ({malformed})"
        elif timed_out:
            self.ended_message = f"{why}: the time limit was reached"
        else:
            self.ended_message = f"{why}: the process running your code ended (crash, exit or limit)"
        self.worker.kill_job()

    def request(self, name, args, kwargs, render) -> dict:
        if self.ended:
            return {"ok": False, "kind": self.ended, "message": self.ended_message}
        if name in self.timed_out:
            return {"ok": False, "kind": "timeout", "message": self.timed_out[name]}
        limits = self.worker.limits
        remaining = self.deadline - time.monotonic()
        if remaining <= 0.1:
            return {"ok": False, "kind": "timeout",
                    "message": f"`{name}` was not called: the checks of this submission had used up their "
                               f"{limits.checks_seconds:g} s"}
        # The child gives the call, then reading its value, this many seconds each: both fit
        # in what is left of the checks' budget.
        seconds = min(limits.call_seconds, remaining / 2)
        self.calls += 1
        self._send({"name": name, "args": args, "kwargs": kwargs, "render": render,
                    "seconds": seconds})
        if self.ended:
            return {"ok": False, "kind": self.ended, "message": self.ended_message}
        reply = self.reader.read_line(time.monotonic() + 2 * seconds + limits.grace_seconds)
        try:
            if reply is None:
                self._end(f"calling `{name}`", self.reader.malformed)
            else:
                reply = replies.call_reply(reply, len(args))
        except MalformedReply as error:
            self._end(f"calling `{name}`", str(error))
        if self.ended:
            return {"ok": False, "kind": self.ended, "message": self.ended_message}
        if not reply["ok"] and reply["kind"] == "timeout":
            self.timed_out[name] = reply["message"]
        return reply

    def close(self) -> dict:
        """End the child; return what the worker reports (exit code, seconds).

        Nothing more is needed from the child: closing its channel lets it exit, and one
        that has not exited ``close_seconds`` later is killed. Either way the worker reaps
        it and reports within its own cleanup time; only a worker that says nothing for
        longer is restarted.
        """
        try:
            self.sock.close()
        except OSError:
            pass
        report = self.worker.report(time.monotonic() + self.worker.limits.close_seconds)
        if report is None:
            self.worker.kill_job()
            # Killing and cleaning up (kill(-1) as the job's uid, removing a fallback folder
            # of at most a few thousand files) takes milliseconds; 10 s means the worker is stuck.
            report = self.worker.report(time.monotonic() + 10) or {"worker_died": True}
            if report.get("worker_died"):
                self.worker.stop()
        report["calls"] = self.calls
        report["ended"] = self.ended
        return report
