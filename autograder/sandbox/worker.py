"""The sandboxed worker: imports torch once, then forks one limited child per submission.

Started by :mod:`autograder.sandbox.pool`, inside bubblewrap where available. It talks to
the grader on one control socket (JSON lines; each job arrives with the child's own socket
attached as a passed file descriptor). Student code never runs in this process: only in
the children, each with its own /tmp and, when the grader is root, its own fresh uid. This
worker reaps each child, cleans up after it (every leftover process of the job's uid is
killed, which also frees its /tmp; a fallback folder is removed) and reports on it.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import socket
import sys
import time


def warm_up() -> None:
    """Import and exercise what submissions use, so no child pays for it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = torch.nn.MSELoss()(model(torch.ones(2, 1)), torch.zeros(2, 1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    # The feedback's picture: each child renders the student's figure to PNG (protocol.py); done once
    # here with a title, labels and a legend, a child's first savefig is ~8 ms shorter (fonts, PIL's
    # PNG writer; measured in a fork of a warmed process, issue 21).
    import io

    fig, ax = plt.subplots()
    ax.scatter([1, 2], [1, 2], label="a")
    ax.plot([1, 2], [1, 2], label="b")
    ax.set_title("t")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png", dpi=60)
    plt.close("all")

    # Each child turns IPython syntax into Python itself (child.python_source), under its
    # cell's time limit; imported once here so no child pays for it.
    from IPython.core.inputtransformer2 import TransformerManager

    TransformerManager().transform_cell("%matplotlib inline\n")

    import autograder.selfcheck as selfcheck
    from autograder.sandbox import child, syscalls

    # A child seeds before every call (child.seed_everything). Without a GPU, torch.manual_seed
    # queues the CUDA seed with a formatted stack, reading the source of every frame on the way:
    # done once here, those files are in linecache for every child (1.5-3.5 ms a child, measured).
    child.seed_everything()

    try:
        syscalls.load_binding()  # libseccomp loaded once here, not in every child
    except syscalls.FilterUnavailable:
        pass  # the ready message says the filter is missing; the grader's note says so

    # The notebooks' setup cell says `from selfcheck import check, done`.
    sys.modules["selfcheck"] = selfcheck


def as_job_uid(action, uid: int | None) -> None:
    """Run ``action`` in a forked helper with the job's uid, and wait for it.

    With the job's uid, the helper reaches exactly the job's processes and files: nothing
    of the worker's, nothing of another job's.
    """
    helper = os.fork()
    if helper == 0:
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            action()
        except OSError:
            pass
        finally:
            os._exit(0)
    os.waitpid(helper, 0)


def kill_leftovers(uid: int | None, pgid: int, own_pid_namespace: bool) -> None:
    """End every process the job left behind, however it detached itself."""
    if uid is not None:
        # kill(-1) as the job's uid reaches exactly that uid's processes (in this pid
        # namespace under bubblewrap): a fork storm, a setsid()'d daemon, all of them.
        as_job_uid(lambda: os.kill(-1, signal.SIGKILL), uid)
        return
    try:
        if own_pid_namespace:
            # Alone in bubblewrap's pid namespace: kill(-1) spares only us and its init.
            os.kill(-1, signal.SIGKILL)
        else:
            os.killpg(pgid, signal.SIGKILL)  # the best we can do without a uid or namespace
    except (ProcessLookupError, PermissionError):
        pass


# How long the clean-up waits for the job's killed processes to be gone before it deletes their
# files: SIGKILL ends a process within milliseconds (at its next return from the kernel); this
# bounds the wait for one stuck in an uninterruptible sleep, which cannot write anything either.
KILL_WAIT_SECONDS = 1.0


def clean_up_as_job(uid: int, scratch: str, scratch_root: str) -> None:
    """In a helper that already has the job's uid: end every process of that uid, wait until they
    are gone, then delete its fallback folder and everything it owns in the shared folders."""
    try:
        # kill(-1) as the job's uid reaches exactly that uid's processes (in this pid namespace
        # under bubblewrap), and never the caller: a fork storm, a setsid()'d daemon, all of them.
        os.kill(-1, signal.SIGKILL)
    except OSError:  # ProcessLookupError: nothing of the job runs
        pass
    # A killed process may still finish the system call it was in (creating a file, say): its
    # files are deleted once none of them runs any more (a zombie runs nothing).
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while _running_as(uid) and time.monotonic() < deadline:
        time.sleep(0.001)
    shutil.rmtree(scratch, ignore_errors=True)
    remove_owned(uid, (*SHARED_FOLDERS, scratch_root))


def _running_as(uid: int) -> bool:
    """Whether a process (not a zombie) of real uid ``uid`` other than this one is in /proc.

    /proc/PID/status is readable whatever the process made of itself (non-dumpable included)."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue  # gone meanwhile
        if int(fields.get("Uid", "-1 ").split()[0]) == uid and fields.get("State", "").split()[:1] != ["Z"]:
            return True
    return False


class Cleaner:
    """A small process, forked before the worker imports torch, that runs each job's clean-up helper.

    A fork of the warmed worker copies the page tables of everything torch mapped (44-88 ms
    measured at load 6, bench/grade_speed.py); a fork of this process, which holds only the
    standard library, costs about a millisecond. It runs no student code and is as privileged as
    the worker (same uid, same capabilities), not dumpable; the helper it forks per job drops to
    the job's uid exactly as before (:func:`as_job_uid`). Should it be gone, the worker forks the
    helper itself.
    """

    def __init__(self, keep_closed: socket.socket):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                keep_closed.close()  # the grader's control socket is the worker's alone
                ours.close()
                _not_dumpable()
                while True:
                    request = theirs.recv(1 << 16)
                    if not request:  # the worker is gone
                        break
                    uid, scratch, scratch_root = json.loads(request)
                    as_job_uid(functools.partial(clean_up_as_job, uid, scratch, scratch_root), uid)
                    theirs.sendall(b"ok")
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        theirs.close()
        self.sock = ours

    def clean(self, uid: int, scratch: str, scratch_root: str) -> bool:
        """Clean up after one job; False if the cleaner could not (then the caller does it)."""
        try:
            self.sock.sendall(json.dumps([uid, scratch, scratch_root]).encode())
            return self.sock.recv(16) == b"ok"
        except OSError:
            return False


def _not_dumpable() -> None:
    # Not dumpable: a child that shares this uid (no root: no uid of its own) cannot ptrace
    # or read this process.
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except OSError:
        pass


def remove_scratch(path: str, uid: int | None) -> None:
    as_job_uid(lambda: shutil.rmtree(path, ignore_errors=True), uid)


# The folders every account may write in, where a job without a private /tmp (or any job, for
# /var/tmp when it runs without bubblewrap) could leave files for the next one.
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock")


def remove_owned(uid: int, folders) -> None:
    """Delete everything ``uid`` owns in ``folders`` and in the world-writable folders below them
    (the only places another uid's job can create anything): run as the job's uid, so it can
    delete nothing else. Each folder is walked without following links."""
    pending = [folder for folder in folders if folder and os.path.isdir(folder)]
    seen = 0
    while pending and seen < 100_000:  # a bound on the walk: /tmp on a busy machine is large
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    try:
                        os.unlink(entry.path)
                    except OSError:
                        pass
            elif entry.is_dir(follow_symlinks=False) and info.st_mode & 0o002:
                pending.append(entry.path)


def remove_ipc(uid: int) -> None:
    """Remove the SysV shared memory, queues and semaphores ``uid`` owns or created: they outlive
    their processes. Only needed where the seccomp filter is missing and the job shares the
    worker's IPC namespace; run as root (the worker), with the job's uid known."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    for kind, id_column, uid_columns, remove in (
            ("shm", 1, (7, 9), lambda i: libc.shmctl(i, ipc_rmid, None)),
            ("msg", 1, (7, 9), lambda i: libc.msgctl(i, ipc_rmid, None)),
            ("sem", 1, (4, 6), lambda i: libc.semctl(i, 0, ipc_rmid))):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                rows = [line.split() for line in table.readlines()[1:]]
        except OSError:
            continue
        for row in rows:
            try:
                if any(int(row[column]) == uid for column in uid_columns):
                    remove(int(row[id_column]))
            except (IndexError, ValueError):
                continue


def private_tmp_works() -> bool:
    """Whether a child forked from here can mount its own /tmp (said in the ready message)."""
    from autograder.sandbox import child

    probe = os.fork()
    if probe == 0:
        try:
            code = 0 if child.private_tmp(1, 16) else 1
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(probe, 0)
    return os.waitstatus_to_exitcode(status) == 0


def run_job(job: dict, channel: socket.socket, control: socket.socket, cleaner: Cleaner | None = None) -> dict:
    from autograder.sandbox import child

    uid = job.get("uid")
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        control.close()
        child.main(job, channel, uid)  # never returns
    channel.close()
    killed_by_grader = False
    pidfd = os.pidfd_open(pid)
    while True:
        ready, _, _ = select.select([pidfd, control], [], [])
        if pidfd in ready:
            break
        message = control.recv(4096)
        if not message:  # the grader went away: stop everything
            os.kill(pid, signal.SIGKILL)
            killed_by_grader = True
        elif b'"kill"' in message:
            os.kill(pid, signal.SIGKILL)
            killed_by_grader = True
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    reaped = time.monotonic()
    scratch = os.path.join(job["scratch_root"], f"job-{job['id']}")
    if uid is not None:
        # One helper with the job's uid does the whole clean-up: each fork of this process (torch
        # is mapped) costs tens of ms, which three helpers paid per submission (measured by
        # bench/grade_speed.py, "one submission's isolation").
        if cleaner is None or not cleaner.clean(uid, scratch, job["scratch_root"]):
            as_job_uid(lambda: clean_up_as_job(uid, scratch, job["scratch_root"]), uid)
        if not job.get("seccomp"):
            remove_ipc(uid)
    else:
        kill_leftovers(uid, pid, job["own_pid_namespace"])
        remove_scratch(scratch, uid)
    return {
        "done": job["id"],
        "exit_code": os.waitstatus_to_exitcode(status),
        "killed_by_grader": killed_by_grader,
        "seconds": round(time.monotonic() - started, 3),
        # What the clean-up after the child took (bench/grade_speed.py reports it).
        "cleanup_seconds": round(time.monotonic() - reaped, 4),
    }


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    # Only where each job has a uid of its own (a root grader) does the clean-up fork a helper.
    cleaner = Cleaner(control) if os.geteuid() == 0 else None
    # Everything the warm-up imports (torch, torch._dynamo, matplotlib: about 330 000 objects) lives
    # as long as the worker, so the collector is off while it is made (the imports ran 0.4-0.5 s
    # faster without its passes over them) and then frozen out of it, without a last collection
    # (150 ms; what it would have freed, ~11 000 objects, about 8 MB, stays with the worker). Then
    # the collector is on again, for the worker and every child it forks, and never walks these
    # objects: unfrozen, a child's first full collection took ~140 ms of a submission's time and, by
    # touching every object, copied their pages from the worker (bench/grade_speed.py, issue 21).
    # This is what the gc module's documentation advises for a process that forks without exec.
    import gc

    gc.disable()
    from autograder.sandbox import syscalls

    # The two probes fork this process: before the imports a fork costs about a millisecond, after
    # them 20-30 ms each (torch's page tables).
    ready = {"ready": True, "pid": os.getpid(), "private_tmp": private_tmp_works(), "seccomp": syscalls.probe()}
    warm_up()
    gc.freeze()
    gc.enable()
    _not_dumpable()
    control.sendall(json.dumps(ready).encode() + b"\n")
    while True:
        # One small JSON line per job (id, uid, limits), with the child's socket attached;
        # the submission's code itself travels on that socket, straight to the child.
        data, fds, _, _ = socket.recv_fds(control, 1 << 16, 1)
        if not data:
            return
        if not fds:  # a late "kill" for a job that already ended
            continue
        job = json.loads(data)
        channel = socket.socket(fileno=fds[0])
        report = run_job(job, channel, control, cleaner)
        control.sendall(json.dumps(report).encode() + b"\n")


if __name__ == "__main__":
    main()
