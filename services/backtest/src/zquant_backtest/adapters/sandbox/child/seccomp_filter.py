"""The seccomp allow-list, applied after warm-up: what numpy, pandas and the pipe loop need, nothing more.

Anything else (socket, connect, execve, fork/clone, ptrace, kill of another process, mount, ...) kills the
child with SIGSYS, which the parent reports as a forbidden system call. `kill`/`tgkill` are allowed only
towards the child itself (abort() raises SIGABRT that way).
"""

from __future__ import annotations

import ctypes.util
import errno
import os

_SONAMES = {"c": "libc.so.6", "seccomp": "libseccomp.so.2"}


def _soname(name: str) -> str | None:
    """pyseccomp resolves its libraries at import through find_library, which forks ldconfig: not
    possible under RLIMIT_NPROC=0, so the sonames are named directly."""
    return _SONAMES.get(name)


ctypes.util.find_library = _soname

import pyseccomp as seccomp  # noqa: E402

ALLOWED = (
    "read", "write", "readv", "writev", "pread64", "close", "fstat", "newfstatat", "statx", "lseek",
    "mmap", "munmap", "mremap", "mprotect", "brk", "madvise", "futex", "clock_gettime", "clock_getres",
    "clock_nanosleep", "nanosleep", "gettimeofday", "getrandom", "rt_sigaction", "rt_sigprocmask",
    "rt_sigreturn", "sigaltstack", "exit", "exit_group", "getpid", "gettid", "getuid", "geteuid",
    "getgid", "getegid", "openat", "getdents64", "fcntl", "sched_getaffinity", "sched_yield",
    "getcwd", "readlink", "prlimit64", "getrlimit", "poll", "ppoll", "pselect6", "select", "uname",
    "sysinfo", "dup", "dup2", "dup3", "access", "faccessat", "faccessat2", "set_robust_list", "rseq",
)
ENOTTY_ONLY = ("ioctl",)  # isatty() probes get "not a tty" instead of a kill


def apply_allow_list() -> None:
    """Load the filter into the kernel for this process; irreversible."""
    filt = seccomp.SyscallFilter(defaction=seccomp.KILL_PROCESS)
    for name in ALLOWED:
        filt.add_rule(seccomp.ALLOW, name)
    for name in ENOTTY_ONLY:
        filt.add_rule(seccomp.ERRNO(errno.ENOTTY), name)
    me = os.getpid()
    filt.add_rule(seccomp.ALLOW, "kill", seccomp.Arg(0, seccomp.EQ, me))
    filt.add_rule(seccomp.ALLOW, "tgkill", seccomp.Arg(0, seccomp.EQ, me))
    filt.load()
