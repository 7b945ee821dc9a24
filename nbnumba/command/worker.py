"""A server's worker (command/serve.py starts them): one process, warmed once, that runs job
after job as each client's own process would have run it.

    python -m nbnumba.command.worker FD DEVICE

FD is this worker's end of a SOCK_SEQPACKET pair with the server (messages: command/wire.py),
DEVICE the server's --device.  The worker imports NumPy, Numba and the render (and, on a GPU,
creates the CUDA context and loads the kernels with a 2x2-pixel render), says READY, then
takes jobs one at a time.  For a job it takes on the client's working folder, umask, job
environment (wire.job_environment; NBNUMBA_DEVICE defaults to the server's --device) and
the client's fds 0, 1, 2 (dup2 onto its own: a closed one gets /dev/null, and a closed
stdout is a closed command_stdout), runs nbnumba.job.run_job, and puts its own back.
Numba's loaded kernels and the parsed structure-factor files stay between jobs.

A CANCEL from the server (the client caught a signal, or went away) is `interrupt.request`ed
from the thread that reads the server's messages: the job stops at its next checkpoint and
ends as the in-process run would have ended, by that signal.  The server's end of the pair
closing (it stopped, or died) cancels the job and ends the worker.
"""
import os
import queue
import signal
import socket
import sys
import threading
import traceback

from nbnumba import interrupt
from nbnumba.command import streams, wire
from nbnumba.job import prepare_process, run_job

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
    Simulation.from_args(TINY + ["-device", "cuda"], out=lambda text: None, warn=lambda text: None).run()
    return "cuda"


class Worker:
    def __init__(self, sock, device):
        self.sock = sock
        self.device = device
        self.jobs = queue.Queue()
        self.lock = threading.Lock()
        self.running = False
        self.own = {fd: os.dup(fd) for fd in (0, 1, 2)}     # the worker's stdio (the server's log)

    def listen(self):
        """Read the server's messages (in a thread): jobs go to the queue, cancels to the job."""
        while True:
            try:
                message = wire.receive(self.sock, max_fds=3)
            except OSError:
                message = None
            if message is None:                 # the server has gone: stop the job, then the worker
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

    def run(self, job, fds):
        """Run one job as the client's process would; its EXITED body."""
        passed = dict(zip(job["fds"], fds))
        try:
            os.chdir(job["cwd"])
        except OSError:         # not this worker's to report: the client runs it itself
            for fd in fds:
                os.close(fd)
            return {"fallback": True}
        os.umask(job["umask"])
        for name in wire.job_environment(os.environ):
            del os.environ[name]
        os.environ.update(job["env"])
        if self.device != "auto":
            os.environ.setdefault("NBNUMBA_DEVICE", self.device)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(passed.get(fd, null), fd)
        os.close(null)
        for fd in fds:
            os.close(fd)
        try:
            interrupt.checkpoint()          # cancelled before it began
            out = streams.Stdout(1, closed=1 not in passed)
            return {"code": run_job(job["argv"], out, streams.err_line)}
        except interrupt.Interrupted as stop:
            return {"signal": stop.signum}
        except BaseException:               # NBNUMBA_DEBUG's traceback, or a bug: as Python shows it
            traceback.print_exc()
            return {"code": 1}
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            for fd, own in self.own.items():
                os.dup2(own, fd)
            os.chdir("/")


def main(argv):
    sock = socket.socket(fileno=int(argv[0]))
    device = argv[1]
    worker = Worker(sock, device)
    try:
        actual = warm_up(device)
    except BaseException as e:      # reported by the server; the worker is not used
        wire.send(sock, wire.READY, {"pid": os.getpid(), "error": "%s: %s" % (type(e).__name__, e)})
        raise
    wire.send(sock, wire.READY, {"pid": os.getpid(), "device": actual})
    worker.serve()
    os._exit(0)         # without Numba's and LLVM's teardown


if __name__ == "__main__":
    main(sys.argv[1:])
