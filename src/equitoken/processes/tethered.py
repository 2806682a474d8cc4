"""Start a command that the kernel stops when the thread that started it dies, even by SIGKILL.

    python -m equitoken.processes.tethered PARENT_PID -- COMMAND [ARG ...]

Linux keeps a process's parent-death signal (`PR_SET_PDEATHSIG`) across `exec`, so this sets it to
SIGTERM and then becomes COMMAND: a node still dumps its state, a reporter still closes. Setting it
in `subprocess.Popen(preexec_fn=...)` instead runs Python between fork and exec, where the child
re-creates its interpreter lock; a lock held by another thread at the fork is never released there,
and the child hangs before exec with its parent waiting in `Popen` (seen with libfaketime preloaded,
whose `pthread_cond_init` takes a lock of its own).
"""

import ctypes
import os
import signal
import sys
from collections.abc import Sequence

_PR_SET_PDEATHSIG = 1
# What a shell answers for a command it cannot run.
_CANNOT_RUN = 127
# `__name__` is "__main__" when run with -m.
_MODULE = "equitoken.processes.tethered"


def tethered(command: Sequence[str]) -> list[str]:
    """Return `command` wrapped so that it gets SIGTERM when the calling thread dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return list(command)
    return [sys.executable, "-m", _MODULE, str(os.getpid()), "--", *command]


def main(argv: Sequence[str] | None = None) -> int:
    """Set the parent-death signal, then replace this process with the command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) < 3 or arguments[1] != "--" or not arguments[0].isdigit():
        print(f"usage: python -m {_MODULE} PARENT_PID -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    parent, command = int(arguments[0]), arguments[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        print(f"cannot set the parent-death signal: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 1
    if os.getppid() != parent:  # the parent died before the signal was set: nobody would stop us
        return 1
    try:
        os.execvp(command[0], command)
    except OSError as error:
        print(f"cannot run {command[0]}: {error.strerror}", file=sys.stderr)
    return _CANNOT_RUN


if __name__ == "__main__":
    sys.exit(main())
