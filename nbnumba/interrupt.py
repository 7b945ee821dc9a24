"""SIGINT, SIGTERM and SIGHUP: stop the run cleanly, then die of the signal as nanoBragg.c does.

The C installs no handlers, so these signals kill it (a shell reports 128+N: 130 for SIGINT,
143 for SIGTERM).  The command line (`install`) turns each into an `Interrupted` exception
raised in the main thread at the next Python instruction: between render chunks (the render
is cut into chunks short enough for that, kernels/serial_replay.py) or during a file write, whose
temporary file is removed as the exception passes.  The command then calls `die_of`, which
restores the default action and re-sends the signal, so the exit status is the C's.  A write
to a closed pipe on stdout raises `Interrupted(SIGPIPE)` the same way (command/streams.py): the C
dies of SIGPIPE there (141 in a shell).

`deferred()` marks the few steps that must not be cut in two (creating a temporary file and
remembering its name, the rename that commits a file, a file overwritten in place): a signal
that arrives inside is acted on as the block ends.  The deferral is a flag that the handler
reads, not a signal mask: Python runs handlers in the main thread whichever thread the
kernel hands the signal to (Numba's worker threads included).

A process that runs jobs for others (the server's render processes, command/server/renderer.py) installs no
handlers: it cancels a job with `request(signum)` from another thread, which the job's
checkpoints and deferred blocks act on as on a caught signal, and `forget`s what is left
once the job has ended.
"""
import os
import signal
import sys

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

_depth = 0          # how many deferred() blocks the main thread is in
_pending = []       # signals caught and not yet acted on (deferred, or swallowed by a C callback)


class Interrupted(BaseException):
    """A signal asked the run to stop (BaseException: `except Exception` does not catch it)."""

    def __init__(self, signum):
        super().__init__("interrupted by signal %d" % signum)
        self.signum = signum


def _raise(signum, frame):
    if _depth:
        _pending.append(signum)
        return
    raise Interrupted(signum)


def _unraisable(hook):
    """sys.unraisablehook that keeps an Interrupted swallowed by a C callback (raised while C
    code, such as llvmlite loading a compiled function for Numba, had called back into Python)
    pending for the next `checkpoint`, silently, and passes anything else to `hook`."""
    def unraisable(info):
        if isinstance(info.exc_value, Interrupted):
            _pending.append(info.exc_value.signum)
        else:
            hook(info)
    unraisable.keeps_signals = True
    return unraisable


def install():
    """Raise Interrupted for SIGINT, SIGTERM and SIGHUP in this (the main) thread, except for
    those the process was started ignoring (`nohup`, `cmd &` in a script): the C, which
    installs no handlers, keeps ignoring them."""
    for sig in SIGNALS:
        if signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, _raise)
    if not getattr(sys.unraisablehook, "keeps_signals", False):
        sys.unraisablehook = _unraisable(sys.unraisablehook)


def uninstall():
    """Give back the default action to the signals `install` caught: once a run's work is done,
    a signal ends the process where it is, as it ends the C (no Interrupted left to catch)."""
    for sig in SIGNALS:
        if signal.getsignal(sig) is _raise:
            signal.signal(sig, signal.SIG_DFL)


def checkpoint():
    """Raise Interrupted for a signal caught earlier but not acted on (one whose exception a C
    callback swallowed).  The run calls this between render chunks, before each output file
    and at its end."""
    if _pending and not _depth:
        signum = _pending[0]
        _pending.clear()
        raise Interrupted(signum)


def request(signum):
    """Stop the run in the main thread as if signal `signum` had been caught: at its next
    checkpoint, or as its deferred() block ends.  Safe from any thread."""
    _pending.append(signum)


def forget():
    """Drop the requests and caught signals not acted on (between two jobs)."""
    _pending.clear()


class deferred:
    """`with deferred(): ...` runs the block whole: a signal caught by the handlers of
    `install` during it raises Interrupted (for the first such signal) only when the
    outermost block ends, replacing any exception the block raised.  Without those
    handlers (the Python API) it changes nothing."""

    def __enter__(self):
        global _depth
        _depth += 1
        return self

    def __exit__(self, *exc):
        global _depth
        _depth -= 1
        checkpoint()
        return False


def die_of(signum):
    """End the process by signal `signum` with its default action (what the C's death looks like)."""
    signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)     # not reached when the default action terminates
