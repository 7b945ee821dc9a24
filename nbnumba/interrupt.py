"""SIGINT, SIGTERM and SIGHUP: stop the run cleanly, then die of the signal as nanoBragg.c does.

The C installs no handlers, so these signals kill it (a shell reports 128+N: 130 for SIGINT,
143 for SIGTERM).  The command line (`install`) turns each into an `Interrupted` exception
raised in the main thread at the next Python instruction: between render chunks (the render
is cut into chunks short enough for that, kernels/dispatch.py) or during a file write, whose
temporary file is removed as the exception passes.  The command then calls `die_of`, which
restores the default action and re-sends the signal, so the exit status is the C's.
"""
import os
import signal

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(BaseException):
    """A signal asked the run to stop (BaseException: `except Exception` does not catch it)."""

    def __init__(self, signum):
        super().__init__("interrupted by signal %d" % signum)
        self.signum = signum


def _raise(signum, frame):
    raise Interrupted(signum)


def install():
    """Raise Interrupted for SIGINT, SIGTERM and SIGHUP in this (the main) thread; a signal the
    process inherited as ignored (nohup; a shell's background job without job control) stays
    ignored, as it does for the C."""
    for sig in SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _raise)


def die_of(signum):
    """End the process by signal `signum` with its default action (what the C's death looks like)."""
    signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)     # not reached when the default action terminates
