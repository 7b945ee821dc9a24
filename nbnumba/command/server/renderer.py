"""A server's render process (command/server/loop.py starts them): one process, warmed once,
that runs job after job as each client's own process would have run it.

    python -m nbnumba.command.server.renderer FD DEVICE

FD is this process's end of a SOCK_SEQPACKET pair with the server (messages: command/wire.py),
DEVICE the server's --device.  The process imports NumPy, Numba and the render (and, on a GPU,
creates the CUDA context and loads the kernels with a 2x2-pixel render), says READY, then
takes jobs one at a time.

A job arrives with the client's stdout and stderr (or none, where the client's were closed)
and its end of a socket pair to the client: every file the job opens, creates, renames or
removes goes through it (command/broker.py), so the client's own permissions, working
folder and confinement apply.  For the job's duration the process takes on the client's
file-size and memory limits (wire.ADOPTED_LIMITS, soft values) and its CPUs (every thread),
and renders with the client's NBNUMBA_* settings (the device defaulting to the server's
--device); it puts its own back afterwards.  Nothing else of the process changes: no working
folder, environment or standard descriptor is swapped.  Numba's loaded kernels and the parsed
structure-factor files stay between jobs.

A CANCEL from the server (the client caught a signal, or went away) is `interrupt.request`ed
from the thread that reads the server's messages: the job stops at its next checkpoint and
ends as the in-process run would have ended, by that signal.  The server's end of the pair
closing (it stopped, or died) cancels the job and ends the process.
"""
import contextlib
import dataclasses
import functools
import os
import queue
import resource
import signal
import socket
import sys
import threading
import traceback

from nbnumba import interrupt
from nbnumba.command import streams, wire
from nbnumba.command.broker import RemoteFolder
from nbnumba.errors import NBError
from nbnumba.job import prepare_process, run_job
from nbnumba.settings import Settings

# a render of 2x2 pixels: loads the CUDA kernels and creates the context before the first job
TINY = "-default_F 1 -cell 10 10 10 90 90 90 -lambda 1 -N 1 -distance 100 -detpixels 2 -pixel 0.1".split()


def warm_up(device):
    """Import and start what a render needs on `device` (auto|cpu|cuda); the device it resolves to."""
    prepare_process()
    if device == "cpu":
        return "cpu"
    from nbnumba.kernels.targets import cuda_available
    if device == "auto" and not cuda_available():
        return "cpu"
    from nbnumba.simulation import Simulation
    Simulation.from_args(TINY, settings=Settings(device="cuda"), out=lambda text: None, warn=lambda text: None).run()
    return "cuda"


@contextlib.contextmanager
def adopted(limits):
    """The client's adopted resource limits (soft values) and CPUs, for every thread of this
    process, for the block; this process's own afterwards.  (wire.limits_problem has checked
    that they fit within this process's.)"""
    own_limits = {name: resource.getrlimit(getattr(resource, name)) for name in wire.ADOPTED_LIMITS}
    own_cpus = os.sched_getaffinity(0)
    try:
        for name in wire.ADOPTED_LIMITS:
            soft = limits["rlimits"][name][0]
            resource.setrlimit(getattr(resource, name), (soft, own_limits[name][1]))
        _set_cpus(set(limits["affinity"]))
        yield
    finally:
        for name, value in own_limits.items():
            resource.setrlimit(getattr(resource, name), value)
        _set_cpus(own_cpus)


def _set_cpus(cpus):
    """The CPUs of every thread of this process (Numba's worker threads included)."""
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(tid), cpus)


class Renderer:
    def __init__(self, sock, device):
        self.sock = sock
        self.device = device
        self.jobs = queue.Queue()
        self.lock = threading.Lock()
        self.running = False

    def listen(self):
        """Read the server's messages (in a thread): jobs go to the queue, cancels to the job."""
        while True:
            try:
                message = wire.receive(self.sock, max_fds=4)
            except OSError:
                message = None
            if message is None:                 # the server has gone: stop the job, then the process
                interrupt.request(signal.SIGHUP)
                self.jobs.put(None)
                return
            kind, body, fds = message
            with self.lock:
                if kind == wire.JOB:
                    self.running = True
                    self.jobs.put((body, fds))
                elif kind == wire.CANCEL and self.running:
                    interrupt.request(int(body.get("signal", signal.SIGTERM)))
            if kind != wire.JOB:
                for fd in fds:
                    os.close(fd)

    def serve(self):
        threading.Thread(target=self.listen, daemon=True).start()
        while True:
            item = self.jobs.get()
            if item is None:
                return
            result = self.run(*item)
            with self.lock:
                self.running = False
                interrupt.forget()
            try:
                wire.send(self.sock, wire.EXITED, result)
            except OSError:
                return

    def settings(self, env):
        """The job's settings: its client's NBNUMBA_* variables, the device the server's
        --device where the client names none."""
        settings = Settings.from_environ(env)
        if not env.get(Settings.ENVIRONMENT["device"]) and self.device != "auto":
            settings = dataclasses.replace(settings, device=self.device)
        return settings

    def run(self, job, fds):
        """Run one job as the client's process would; its EXITED body."""
        std = dict(zip(job["fds"], fds))                # the client's stdout and stderr, as they were open
        channel = socket.socket(fileno=fds[len(job["fds"])])
        folder = RemoteFolder(channel, 0, ".", job["limits"]["umask"])
        err = functools.partial(streams.err_line, fd=std[2]) if 2 in std else (lambda text: None)
        try:
            interrupt.checkpoint()          # cancelled before it began
            settings = self.settings(job["env"])
            out = streams.Stdout(std[1]) if 1 in std else streams.Stdout(closed=True)
            with adopted(job["limits"]):
                return {"code": run_job(job["argv"], out, err, settings, folder, folder).code}
        except NBError as e:                # a setting the command refuses
            err(e.message)
            return {"code": e.code}
        except interrupt.Interrupted as stop:
            return {"signal": stop.signum}
        except BaseException:               # a bug: as Python shows it, in the server's log
            traceback.print_exc()
            return {"code": 1}
        finally:
            channel.close()
            for fd in std.values():
                os.close(fd)


def main(argv):
    sock = socket.socket(fileno=int(argv[0]))
    device = argv[1]
    renderer = Renderer(sock, device)
    try:
        actual = warm_up(device)
    except BaseException as e:      # reported by the server; the process is not used
        wire.send(sock, wire.READY, {"pid": os.getpid(), "error": "%s: %s" % (type(e).__name__, e)})
        raise
    wire.send(sock, wire.READY, {"pid": os.getpid(), "device": actual, "limits": wire.process_limits()})
    renderer.serve()
    sys.stdout.flush()
    os._exit(0)         # without Numba's and LLVM's teardown


if __name__ == "__main__":
    main(sys.argv[1:])
