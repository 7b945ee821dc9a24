"""The `nbnumba` command's first step (standard library only): hand the run to the user's
warm server when one runs, else run it in this process.

    nbnumba serve [...]           the server (command/server/)
    nbnumba trace-diff | compare | batch   in this process, always
    nbnumba ARGS...               through the server when one answers for this user (or at
                                  NBNUMBA_SERVER=PATH), else in this process (command/cli.py);
                                  NBNUMBA_SERVER=off: in this process, always

Through the server, the run is the in-process run in another process: the server's render
process writes this process's stdout and stderr (passed over the socket), so text arrives
live, buffered as the C buffers it; every file the run opens, creates, renames or removes is
opened, created, renamed or removed here, by this process, on the render process's request
(command/broker.py), so the run reaches exactly the files this process reaches, relative to
this process's working folder.  The render process takes on this process's umask, file-size
and memory limits and CPUs for the run, and its NBNUMBA_* settings.  This process then ends
as the run did: with its exit code, or by the signal it died of (SIGPIPE when stdout's
reader has gone).  SIGINT, SIGTERM and SIGHUP here cancel the job in the server (it stops
between render chunks, leaving no partial file) and this process then dies of the signal;
those it was started ignoring stay ignored, as in-process.

The server declines a job (and this process runs it itself) when its code differs from this
one's (wire.source_digest; a server whose own sources changed on disk then stops), when
NUMBA_*/CUDA_* settings differ from those its render processes started with, when this
process is confined otherwise (wire.process_context: namespaces, root, groups, capabilities,
no-new-privileges, seccomp, cgroup, security label) or limited otherwise
(wire.limits_problem: a resource limit it cannot take on, another nice value, CPUs it does
not have).  A server that stops before starting the job is the same as none; one that dies
during it makes this process print one line and exit with status 1.
"""
import os
import select
import signal
import socket
import sys

from nbnumba import interrupt
from nbnumba.command import wire
from nbnumba.command.broker import Broker
from nbnumba.errors import NBError
from nbnumba.settings import OFF, Settings

HANDSHAKE_SECONDS = wire.HANDSHAKE_SECONDS     # a server that does not answer a job in this time is not used
CANCEL_SECONDS = 30         # after a cancel, how long to wait for the job to stop


def main():
    """The console entry point: the process ends here."""
    argv = sys.argv[1:]
    if argv[:1] == ["serve"]:
        from nbnumba.command.server.main import main as serve
        sys.exit(serve(argv[1:]))
    in_process = (["trace-diff"], ["compare"], ["batch"])     # tools, and batches with their own workers
    try:
        server = Settings.from_environ().server
    except NBError:             # a setting the command refuses: the in-process run says so
        server = OFF
    if argv[:1] not in in_process and server != OFF:
        code = through_server(argv, server)
        if code is not None:
            os._exit(code)
    from nbnumba.command import cli
    cli.main()


def _say(line):
    """One line on stderr (a closed stderr loses it, as in-process)."""
    try:
        os.write(2, line.encode(errors="replace") + b"\n")
    except OSError:
        pass


def _open_std_fds():
    """Those of fds 1, 2 that are open (stdout, stderr: the run writes them)."""
    fds = []
    for fd in (1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass
    return fds


def through_server(argv, named=""):
    """Run argv through the server (at the socket `named`, or the user's): the run's exit
    code, or None when no server took it (the caller then runs it itself, with no fd of this
    function's left open: a closed stdout stays closed).  May end the process by a signal."""
    fds = _open_std_fds()                   # before the socket takes a closed one's number
    path = wire.socket_path(named)
    if not named and not os.path.exists(path):
        return None
    sock = wire.connect(path, HANDSHAKE_SECONDS)
    if sock is None:
        if named:
            _say("nbnumba: warning: NBNUMBA_SERVER=%s: no nbnumba server of yours answers there: "
                 "running in-process" % named)
        return None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)   # the run's file requests
    job = {"argv": argv, "fds": fds, "digest": wire.source_digest(), "env": wire.job_environment(),
           "process_env": wire.process_environment(), "context": wire.process_context(),
           "limits": wire.process_limits()}
    try:
        sock.settimeout(None)               # _follow waits with select
        try:
            wire.send(sock, wire.JOB, job, fds + [theirs.fileno()])
        finally:
            theirs.close()
        return _follow(sock, Broker(ours))
    except OSError:      # the server went away, or the arguments exceed a message
        return None
    finally:
        ours.close()
        sock.close()


def _follow(sock, broker):
    """Wait for the job's end, answering its file requests; a signal caught meanwhile cancels
    the job, and this process dies of it once the server has stopped the job (or after
    CANCEL_SECONDS)."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)        # each caught signal's number arrives here
    handlers = {sig: signal.getsignal(sig) for sig in interrupt.SIGNALS}
    for sig, handler in handlers.items():
        if handler != signal.SIG_IGN:
            signal.signal(sig, lambda signum, frame: None)
    try:
        return _wait(sock, wake_read, broker)
    finally:
        signal.set_wakeup_fd(-1)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        os.close(wake_read)
        os.close(wake_write)


def _wait(sock, wake_read, broker):
    caught = []
    started = False
    timeout = HANDSHAKE_SECONDS
    requests = [broker.sock]
    while True:
        ready = select.select([sock, wake_read] + requests, [], [], timeout)[0]
        if broker.sock in ready and not broker.answer():
            requests = []                   # the render process has let go of its end
            broker.close()
        if not ready:                       # no answer to the job, or to its cancel
            if caught:
                interrupt.die_of(caught[0])
            return None
        if wake_read in ready:
            new = list(os.read(wake_read, 64))
            if new and not caught:
                timeout = CANCEL_SECONDS
                try:
                    wire.send(sock, wire.CANCEL, {"signal": new[0]})
                except OSError:
                    pass
            caught += new
        if sock not in ready:
            continue
        try:
            message = wire.receive(sock)
        except OSError:
            message = None
        if message is None:                 # the server has gone
            if caught:
                interrupt.die_of(caught[0])
            if not started:
                return None
            _say("nbnumba: the nbnumba server stopped during this run; run it again "
                 "(NBNUMBA_SERVER=off runs it in this process)")
            return 1
        kind, body, _ = message
        if kind == wire.DECLINED:
            if caught:                      # a signal before the server said no: as in-process
                interrupt.die_of(caught[0])
            return None
        if kind == wire.ACCEPTED and not caught:
            timeout = None
        elif kind == wire.RUNNING:
            started = True
        elif kind == wire.EXITED:
            if body.get("error"):
                _say(body["error"])
            if caught:
                interrupt.die_of(caught[0])
            if body.get("signal"):
                interrupt.die_of(body["signal"])
            if body.get("fallback") and not started:
                return None
            return int(body.get("code", 1))
