"""The forked child that runs one submission: its cells, then the grader's calls.

Before any student code runs it makes its own empty /tmp (a size- and inode-capped tmpfs
in a mount namespace of its own, with its own SysV IPC namespace), drops to the job's
fresh uid where the grader is root, loses every capability, and sets rlimits. It reads
requests and writes replies as JSON lines on one socket; nothing else of the grader is
reachable from here.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import resource
import signal
import sys
from time import monotonic  # bound before student code runs: a patched time.monotonic cannot stretch a budget

from autograder.sandbox import syscalls
from autograder.selfcheck.calling import (
    CallTimeout,
    cell_filename,
    display_in_grading,
    invoke,
    student_traceback,
    time_limit,
)

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


_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000
_PR_SET_NO_NEW_PRIVS = 38
# The job's /dev/shm: a few semaphores need a page each; 1 MiB is memory RLIMIT_AS does not count.
SHM_BYTES = 2**20


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def private_tmp(size_mb: float, inodes: int) -> bool:
    """Mount a fresh, capped tmpfs on /tmp that only this process and its children see.

    In a new mount namespace (and a new SysV IPC namespace: shared-memory segments and
    message queues die with the job too). It needs CAP_SYS_ADMIN: the privileged worker
    has it, as root; without root a nested user namespace gives it (then dropped, see
    :func:`drop_privileges`). The tmpfs vanishes when the job's last process ends, so the
    next job can find nothing of this one, and its size and inode caps bound the memory it
    can hold (tmpfs pages are not counted by RLIMIT_AS). False if the machine refuses.
    """
    # A Python installation under /tmp (a checkout there, without bubblewrap) would vanish
    # under the new mount: then the fallback folder, not a broken child.
    for path in (sys.prefix, sys.base_prefix, *sys.path):
        if os.path.isabs(path) and os.path.realpath(path).startswith("/tmp/"):
            return False
    libc = _libc()
    try:
        if os.geteuid() == 0:
            _check(libc.unshare(_CLONE_NEWNS | _CLONE_NEWIPC), "unshare")
        else:
            uid, gid = os.getuid(), os.getgid()
            _check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWIPC), "unshare")
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
        # Private propagation: the new mount must not appear in the worker's namespace.
        _check(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")
        options = f"size={int(size_mb * 2**20)},nr_inodes={int(inodes)},mode=1777".encode()
        _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", _MS_NOSUID | _MS_NODEV, options), "mount tmpfs /tmp")
    except OSError:
        return False
    if os.path.isdir("/dev/shm"):
        # POSIX shared memory and semaphores (sem_open: multiprocessing's locks) live in
        # /dev/shm: the job's own, tiny one (what a DataLoader's worker locks need), so nothing
        # there is shared with the next job or holds more than this. Best effort: where it
        # cannot be mounted, the worker deletes what the job's uid left there (worker.remove_owned).
        libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", _MS_NOSUID | _MS_NODEV,
                   f"size={SHM_BYTES},nr_inodes=64,mode=1777".encode())
    return True


def drop_privileges(uid: int | None) -> None:
    """The job's uid (if any), no capabilities left in any set, and none to gain by exec."""
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)  # from root to another uid: permitted and effective capabilities go
    libc = _libc()
    # capset(version 3, this process): permitted, effective and inheritable all empty; this
    # also ends the capabilities a nested user namespace gave (no root: private_tmp).
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc.capset(header, data), "capset")
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def _read_only_sys_path(writable: list[str]) -> list[str]:
    """``sys.path`` without the working directory and anything under the job's writable area."""
    keep = []
    for entry in sys.path:
        if not entry or not os.path.isabs(entry):
            continue  # "" and relative entries mean the working directory
        real = os.path.realpath(entry)
        if any(real == area or real.startswith(area.rstrip("/") + "/") for area in writable):
            continue
        keep.append(entry)
    return keep


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


def python_source(source: str) -> str:
    """IPython syntax (``%magic``, ``!shell``) as plain Python calling ``get_ipython()``.

    Done here, in the sandbox and inside the cell's time limit, never in the grader: the
    transformation's cost grows with the square of a cell's size (a 1 MB cell of ``!``
    lines took minutes). ``get_ipython()`` is :class:`NoShell` here, so the result is inert.
    """
    from IPython.core.inputtransformer2 import TransformerManager  # imported by the worker already

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # not the time limit (a BaseException): that stops the cell
        return source  # the cell then fails to compile, and says so


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
    # get_ipython and display: what IPython gives a notebook's cells without an import.
    namespace = {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": NoShell,
                 "display": display_in_grading}

    limits = job["limits"]
    added_left = limits["added_cells_seconds"]  # shared by the cells the student added
    cells = []
    for cell in json.loads(reader.readline())["cells"]:
        added = bool(cell.get("added"))
        status, message = "ok", ""
        if added and added_left <= 0:
            cells.append({"label": cell["label"], "status": "skipped", "output": "",
                          "message": f"not run: the cells you added had used up their "
                                     f"{limits['added_cells_seconds']:g} s together"})
            send({"cell_done": len(cells)})
            continue
        seconds = min(limits["cell_seconds"], added_left) if added else limits["cell_seconds"]
        started = monotonic()
        try:
            with time_limit(seconds):
                seed_everything()
                source = python_source(cell["source"])
                # cell_filename keeps the lines, so a traceback shows the student's own line of code.
                code = compile(source, cell_filename(cell["label"], source), "exec")
                exec(code, namespace)
        except CallTimeout:
            status, message = "timeout", f"stopped after {seconds:g} s"
            if seconds < limits["cell_seconds"]:
                message += f": the cells you added had used up their {limits['added_cells_seconds']:g} s together"
        except BaseException as error:  # SystemExit, KeyboardInterrupt: the cell fails, grading goes on
            status, message = "error", student_traceback(error)
        plt.close("all")
        if added:
            added_left -= monotonic() - started
        cells.append({"label": cell["label"], "status": status, "message": message, "output": out.take()})
        send({"cell_done": len(cells)})  # lets the grader time each cell, not just the whole notebook
    send({"cells": cells})

    for line in reader:
        request = json.loads(line)
        seed_everything()  # each call is independent of the calls before it
        reply = invoke(namespace, request["name"], request["args"], request.get("kwargs"),
                       render=request.get("render", False),
                       seconds=request["seconds"])
        plt.close("all")
        out.take()
        send(reply)


def main(job: dict, channel, uid: int | None) -> None:
    """Entry point in the freshly forked process; never returns."""
    code = 0
    try:
        os.setsid()
        limits = job["limits"]
        if private_tmp(limits["tmp_mb"], limits["tmp_inodes"]):
            area = "/tmp"
            drop_privileges(uid)
        else:
            # Where no tmpfs of its own is possible: a fresh folder only this uid can enter,
            # removed afterwards; RLIMIT_FSIZE bounds each file (README says what is shared).
            drop_privileges(uid)
            area = os.path.join(job["scratch_root"], f"job-{job['id']}")
            os.makedirs(area, mode=0o700, exist_ok=True)
        os.chdir(area)
        # Everything that writes defaults somewhere writes into the job's own area.
        for key, path in (("HOME", ""), ("TMPDIR", ""), ("MPLCONFIGDIR", ".matplotlib"),
                          ("XDG_CACHE_HOME", ".cache"), ("XDG_CONFIG_HOME", ".config"),
                          ("XDG_DATA_HOME", ".local/share")):
            os.environ[key] = os.path.join(area, path).rstrip("/")
        import tempfile

        tempfile.tempdir = None
        # Nothing the job can write is ever imported: not /tmp, not the working directory.
        sys.path[:] = _read_only_sys_path([area, "/tmp", job["scratch_root"]])
        sys.path_importer_cache.clear()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        apply_limits(limits)
        if job.get("seccomp"):
            # The worker found the filter installable (its ready message): from here on no
            # memfd, SysV IPC, namespaces, ... (autograder/sandbox/syscalls.py). Should it fail
            # here all the same, the child ends before any student code ran: nothing runs unfiltered.
            syscalls.install()
        run(job, channel)
    except BaseException:
        code = 70
    finally:
        os._exit(code)
