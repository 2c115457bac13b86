"""The system calls a submission may not make: a seccomp filter, built with libseccomp.

Some kernel objects hold memory outside a process's address space, so no rlimit counts it:
a ``memfd_create`` file (one submission held 1 GB of host memory this way), SysV shared
memory, message queues and semaphores, POSIX message queues, kernel keys, io_uring rings.
Others reach past the sandbox (ptrace, namespaces, mounts, modules). None of them is needed
to run this course's code (torch, numpy, matplotlib, a ``DataLoader``), so the child installs
this filter just before the first student cell and keeps it to its end (a filter cannot be
removed, and every process it starts inherits it).

Denied calls fail with ``EPERM`` (the process goes on: ``os.memfd_create`` raises
``PermissionError``), never kill: a library that probes a call and falls back still works.
``clone3`` fails with ``ENOSYS`` instead, the answer on which glibc falls back to ``clone``
(whose flags a filter can read: new namespaces are refused there).

Built with libseccomp (Debian's ``libseccomp2``, on every Debian and Ubuntu system: apt depends
on it) through ``pyseccomp``, a ctypes binding with the API of libseccomp's own Python module
(Debian's ``python3-seccomp`` is compiled for the system's Python only, not the kit's venv).
Writing BPF by hand would repeat what libseccomp does: per-architecture syscall numbers, the
x32 and i386 entry points of an x86_64 kernel, argument comparisons.
"""

from __future__ import annotations

import errno

# Memory outside the address space, each a way to hold host memory beyond every limit.
MEMORY = ("memfd_create", "memfd_secret", "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl",
          "semget", "semop", "semtimedop", "semctl", "mq_open", "mq_timedsend", "mq_timedreceive", "mq_notify",
          "mq_getsetattr", "mq_unlink", "add_key", "request_key", "keyctl", "io_uring_setup", "io_uring_enter",
          "io_uring_register", "userfaultfd")
# Reaching other processes, the kernel or new namespaces: no course needs any of them.
REACH = ("ptrace", "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open", "unshare", "setns",
         "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount",
         "fspick", "mount_setattr", "kexec_load", "kexec_file_load", "init_module", "finit_module",
         "delete_module", "swapon", "swapoff", "reboot", "acct", "quotactl", "syslog", "name_to_handle_at",
         "open_by_handle_at", "fanotify_init", "lookup_dcookie")
# These must be denied or the filter counts as not installed (the rest: where the kernel and
# libseccomp know them).
REQUIRED = ("memfd_create", "shmget", "msgget", "semget", "userfaultfd", "mq_open")

# clone() flags that make a new namespace (sched.h): refused, as unshare() is.
_CLONE_NEW = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)


class FilterUnavailable(RuntimeError):
    """libseccomp or its binding is missing, or the kernel refused the filter."""


def load_binding():
    """The binding, imported (and libseccomp loaded) once, before any limit applies."""
    try:
        import pyseccomp
    except (ImportError, OSError, RuntimeError) as error:  # RuntimeError: "Unable to find libseccomp"
        raise FilterUnavailable(f"pyseccomp/libseccomp could not be loaded ({error})") from None
    return pyseccomp


def install() -> None:
    """Deny the calls above for this process and everything it starts (needs no_new_privs or
    CAP_SYS_ADMIN). :class:`FilterUnavailable` if it cannot be installed."""
    seccomp = load_binding()
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        if seccomp.system_arch() == seccomp.Arch.X86_64:
            # A 64-bit process can still make i386 (int 0x80) and x32 system calls: filter them alike.
            for arch in (seccomp.Arch.X86, seccomp.Arch.X32):
                try:
                    rules.add_arch(arch)
                except OSError:
                    pass
        deny = seccomp.ERRNO(errno.EPERM)
        for name in (*MEMORY, *REACH):
            try:
                rules.add_rule(deny, name)
            except (OSError, ValueError, RuntimeError):
                if name in REQUIRED:
                    raise
                # A call this kernel/libseccomp does not know cannot be made here either.
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        for flag in _CLONE_NEW:
            rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        rules.load()
    except (OSError, ValueError, RuntimeError) as error:
        raise FilterUnavailable(f"the seccomp filter could not be installed ({error})") from None


def probe() -> bool:
    """Whether a process forked from here can install the filter and it then denies memfd_create
    and shmget (run in a throwaway fork by the worker: a filter cannot be taken back)."""
    import ctypes
    import os

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
            install()
            try:
                os.close(os.memfd_create("probe"))
            except PermissionError:
                libc = ctypes.CDLL(None, use_errno=True)
                denied = libc.shmget(0, 4096, 0o1000 | 0o600) == -1 and ctypes.get_errno() == errno.EPERM
                code = 0 if denied else 1
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0
