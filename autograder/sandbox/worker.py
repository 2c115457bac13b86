"""The sandboxed worker: imports torch once, then forks one limited child per submission.

Started by :mod:`autograder.sandbox.pool`, inside bubblewrap where available. It talks to
the grader on one control socket (JSON lines; each job arrives with the child's own socket
attached as a passed file descriptor). Student code never runs in this process: only in
the children, each with its own /tmp and, when the grader is root, its own fresh uid. This
worker reaps each child, cleans up after it (every leftover process of the job's uid is
killed, which also frees its /tmp; a fallback folder is removed) and reports on it.
"""

from __future__ import annotations

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
    fig, ax = plt.subplots()
    ax.scatter([1, 2], [1, 2], label="a")
    ax.plot([1, 2], [1, 2], label="b")
    ax.legend()
    fig.canvas.draw()
    plt.close("all")

    # Each child turns IPython syntax into Python itself (child.python_source), under its
    # cell's time limit; imported once here so no child pays for it.
    from IPython.core.inputtransformer2 import TransformerManager

    TransformerManager().transform_cell("%matplotlib inline\n")

    import autograder.selfcheck as selfcheck
    from autograder.sandbox import syscalls

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


def remove_scratch(path: str, uid: int | None) -> None:
    as_job_uid(lambda: shutil.rmtree(path, ignore_errors=True), uid)


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


def run_job(job: dict, channel: socket.socket, control: socket.socket) -> dict:
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
    kill_leftovers(uid, pid, job["own_pid_namespace"])
    remove_scratch(os.path.join(job["scratch_root"], f"job-{job['id']}"), uid)
    return {
        "done": job["id"],
        "exit_code": os.waitstatus_to_exitcode(status),
        "killed_by_grader": killed_by_grader,
        "seconds": round(time.monotonic() - started, 3),
    }


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    warm_up()
    # Not dumpable: a child that shares this uid (no root: no uid of its own) cannot ptrace
    # or read this process.
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except OSError:
        pass
    from autograder.sandbox import syscalls

    ready = {"ready": True, "pid": os.getpid(), "private_tmp": private_tmp_works(), "seccomp": syscalls.probe()}
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
        report = run_job(job, channel, control)
        control.sendall(json.dumps(report).encode() + b"\n")


if __name__ == "__main__":
    main()
