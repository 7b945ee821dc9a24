"""`nbnumba serve`: a resident renderer for this user, which the `nbnumba` command hands its
runs to (command/launcher.py), so that a script calling nbnumba image after image pays
Python's, NumPy's and Numba's start-up, CUDA's context and the kernels' loading once.

    nbnumba serve [--idle-timeout 15m] [--device auto|cpu|cuda] [--workers N] [--foreground]
    nbnumba serve --status [--json] | --stop

The server listens on a Unix socket (command/wire.py: in $XDG_RUNTIME_DIR/nbnumba/ or
/tmp/nbnumba-UID/, or at NBNUMBA_SERVER; its folder must be this user's with mode 0700, or the
server refuses to start) and accepts connections from this user only (SO_PEERCRED).  It
exits after --idle-timeout without a job, on --stop, SIGTERM, SIGINT or SIGHUP (after the
jobs under way), and when its own sources change on disk (checked every CHECK_SECONDS and
whenever a client's digest differs), so a client never runs stale code.  A server of other
code at the same socket is replaced by `nbnumba serve`.

Processes: this one (standard library only) accepts clients and queues their jobs; each
worker (command/worker.py, a process of its own, so a job's working folder, umask and
environment are its own) runs one job at a time.  On a GPU one worker renders at a time;
on CPUs DEFAULT_CPU_WORKERS (see benchmarks/serve_bench.py).  A worker that dies during a job
fails that job only (its client prints one line and exits with 128 + the signal) and is
replaced.  The daemon's stderr goes to the socket path + ".log".
"""
import argparse
import collections
import fcntl
import json
import os
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

from nbnumba.command import wire

DEFAULT_IDLE = "15m"
DEFAULT_CPU_WORKERS = 2           # two jobs overlap one's serial phases with the other's render
CHECK_SECONDS = 5.0               # how often the server compares its sources with what it runs
WORKER_START_SECONDS = 600        # a worker's warm-up (a GPU's first kernel load included)
START_SECONDS = 900               # how long `nbnumba serve` waits for the server to be warm
STOP_SECONDS = 60                 # how long `--stop` or a replacement waits for the old server
HANDSHAKE_SECONDS = 10            # a connection's first message
SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}
JOB_FIELDS = {"argv": list, "cwd": str, "umask": int, "fds": list, "env": dict, "digest": str, "process_env": dict,
              "context": dict}


def parse_duration(text):
    """Seconds in "90", "90s", "15m", "2h" or "1d"; 0 means never."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([smhd]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError("%r is not a duration like 90s, 15m, 2h (0: never)" % text)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def log(text):
    """One line on the server's stderr (its log file), timestamped."""
    try:
        os.write(2, ("%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), text)).encode(errors="replace"))
    except OSError:
        pass


class Job:
    """A client's job, from its acceptance to its EXITED message."""

    def __init__(self, conn, request, fds):
        self.conn = conn
        self.request = request
        self.fds = fds
        self.lock = threading.Lock()
        self.state = "queued"         # then "running" (on self.slot), then "done"
        self.signal = None            # the cancel's signal, once the client asked
        self.slot = None
        self.done = threading.Event()

    def cancel(self, signum):
        """Stop the job: unstarted, it never starts; running, its worker stops it at its next checkpoint."""
        with self.lock:
            if self.state == "done" or self.signal:
                return
            self.signal = signum
            if self.state == "running":
                self.slot.cancel(signum)

    def close_fds(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []


class Slot:
    """One worker process and the thread that feeds it jobs from the server's queue."""

    def __init__(self, server):
        self.server = server
        self.proc = None
        self.sock = None
        self.device = None
        self.jobs = 0

    def start_worker(self):
        """Start and warm a worker; None, or why it could not start."""
        self.stop_worker()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "nbnumba.command.worker", str(theirs.fileno()), self.server.device],
                pass_fds=[theirs.fileno()], cwd="/", stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            ours.close()
            return "cannot start a worker: %s" % e
        finally:
            theirs.close()
        self.sock = ours
        ours.settimeout(WORKER_START_SECONDS)
        try:
            message = wire.receive(ours)
        except OSError:
            message = None
        ours.settimeout(None)
        if message is None or message[0] != wire.READY or "error" in message[1]:
            why = message[1]["error"] if message else "it exited (status %s)" % self.proc.poll()
            self.stop_worker()
            return "a worker failed to start: %s" % why
        self.device = message[1]["device"]
        log("worker %d ready on %s" % (self.proc.pid, self.device))
        return None

    def stop_worker(self):
        if self.sock is not None:
            self.sock.close()           # the worker reads the end and exits
            self.sock = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cancel(self, signum):
        try:
            wire.send(self.sock, wire.CANCEL, {"signal": signum})
        except OSError:
            pass

    def run(self):
        """The slot's thread: jobs from the queue until a None."""
        while True:
            job = self.server.queue.get()
            if job is None:
                self.stop_worker()
                return
            try:
                result = self.serve(job)
            except Exception:               # a bug here fails the job, not the slot
                log(traceback.format_exc())
                result = ({"error": "nbnumba: the nbnumba server failed during this run (see %s.log)"
                                    % self.server.path, "code": 1} if job.state == "running" else {"fallback": True})
            self.server.finish(job, result)
            if not self.alive() and not self.server.stopping.is_set():
                error = self.start_worker()
                if error:
                    log(error)

    def serve(self, job):
        """Run the job on this slot's worker; its EXITED body."""
        request = {k: job.request[k] for k in ("argv", "cwd", "umask", "fds", "env")}     # what the worker needs
        for attempt in (1, 2):
            if not self.alive():
                error = self.start_worker()
                if error:
                    log(error)
                    return {"fallback": True}
            with job.lock:
                if job.signal:
                    return {"signal": job.signal}
                try:
                    wire.send(self.sock, wire.JOB, request, job.fds)
                except OSError:         # the worker died idle: a new one, once
                    self.stop_worker()
                    continue
                job.state, job.slot = "running", self
            break
        else:
            return {"fallback": True}
        job.close_fds()
        self.jobs += 1
        try:
            wire.send(job.conn, wire.RUNNING)
        except OSError:
            pass
        try:
            message = wire.receive(self.sock)
        except OSError:
            message = None
        if message is not None and message[0] == wire.EXITED:
            return message[1]
        status = self.proc.wait()
        self.stop_worker()
        how = ("died of signal %d (%s)" % (-status, SIGNAL_NAMES.get(-status, "?")) if status < 0
               else "exited with status %d" % status)
        log("worker %s during a job: %s" % (how, " ".join(job.request["argv"])))
        return {"error": "nbnumba: the server's worker %s during this run" % how,
                "code": 128 - status if status < 0 else 1}


class Server:
    def __init__(self, path, device, workers, idle_timeout):
        self.path = path
        self.device = device
        self.workers = workers
        self.idle_timeout = idle_timeout
        self.root = wire.package_root()
        self.digest = wire.source_digest(self.root)
        self.process_env = wire.process_environment()
        self.context = wire.process_context()
        self.queue = queue.Queue()
        self.lock = threading.Lock()
        self.slots = []
        self.active = []              # jobs accepted and not done
        self.done = 0
        self.declined = collections.Counter()
        self.last_job = time.monotonic()
        self.started = time.time()
        self.stopping = threading.Event()
        self.why_stopped = None
        self.listener = None
        self.keep = []                # --stop connections, closed as the server exits

    # ---- start and stop

    def start(self):
        """Listen, start the workers, then accept (a client that connects meanwhile waits in
        the backlog); None, or why the server cannot run."""
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        umask = os.umask(0o177)                 # the socket: rw for this user only
        try:
            if os.path.lexists(self.path):      # a dead server's (this one holds the lock)
                os.unlink(self.path)
            self.listener.bind(self.path)
            self.inode = os.stat(self.path).st_ino
            self.listener.listen(64)
        except OSError as e:
            return "cannot listen at %s: %s" % (self.path, e)
        finally:
            os.umask(umask)
        error = self.start_workers()
        if error:
            self.close_listener()
            return error
        for slot in self.slots:
            threading.Thread(target=slot.run, daemon=True).start()
        self.listener.settimeout(0.5)
        threading.Thread(target=self.accept, daemon=True).start()
        log("serving %s at %s: %d worker(s) on %s, idle timeout %s"
            % (self.root, self.path, len(self.slots), self.slots[0].device, describe_duration(self.idle_timeout)))
        return None

    def start_workers(self):
        """The first worker says which device it warmed, and so how many workers to start."""
        first = Slot(self)
        error = first.start_worker()
        if error:
            return error
        count = self.workers or (1 if first.device == "cuda" else min(DEFAULT_CPU_WORKERS, os.cpu_count() or 1))
        self.slots = [first] + [Slot(self) for _ in range(count - 1)]
        errors = []
        starters = [threading.Thread(target=lambda s=s: errors.append(s.start_worker())) for s in self.slots[1:]]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        if any(errors):
            for slot in self.slots:
                slot.stop_worker()
            return next(e for e in errors if e)
        return None

    def close_listener(self):
        """Stop listening, and remove the socket if it is still this server's."""
        self.listener.close()
        try:
            if os.stat(self.path).st_ino == self.inode:
                os.unlink(self.path)
        except OSError:
            pass

    def stop(self, why):
        if not self.stopping.is_set():
            self.why_stopped = why
            log("stopping: %s" % why)
            self.stopping.set()

    def wait(self):
        """Run until stopped, then finish the jobs under way and end the workers."""
        next_check = time.monotonic() + CHECK_SECONDS
        while not self.stopping.wait(0.25):
            now = time.monotonic()
            with self.lock:
                idle = not self.active and now - self.last_job
            if idle and self.idle_timeout and idle >= self.idle_timeout:
                self.stop("idle for %s" % describe_duration(self.idle_timeout))
            elif now >= next_check:
                next_check = now + CHECK_SECONDS
                self.check_sources()
        self.close_listener()
        while True:
            with self.lock:
                if not self.active:
                    break
            time.sleep(0.05)
        for _ in self.slots:
            self.queue.put(None)
        for slot in self.slots:
            while slot.alive():
                time.sleep(0.05)
        log("stopped")

    def check_sources(self):
        """Stop when the sources on disk are no longer those this server runs; True then."""
        if wire.source_digest(self.root) != self.digest:
            self.stop("the sources in %s changed" % self.root)
            return True
        return False

    # ---- clients

    def accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        """One connection: a job, a status request or a stop request."""
        keep = False
        try:
            if wire.peer_uid(conn) != os.geteuid():
                with self.lock:
                    self.declined["another user"] += 1
                wire.send(conn, wire.DECLINED, {"reason": "this server serves user %d only" % os.geteuid()})
                return
            conn.settimeout(HANDSHAKE_SECONDS)
            message = wire.receive(conn, max_fds=3)
            conn.settimeout(None)
            if message is None:
                return
            kind, body, fds = message
            if kind == wire.JOB:
                self.take(conn, body, fds)
            else:
                for fd in fds:
                    os.close(fd)
                if kind == wire.STATUS:
                    wire.send(conn, wire.REPORT, self.status())
                elif kind == wire.STOP:
                    self.stop("asked to (pid %s)" % body.get("pid", "?"))
                    wire.send(conn, wire.ACCEPTED, self.status())
                    self.keep.append(conn)
                    keep = True
        except OSError:
            pass
        except Exception:                   # a bug here loses the connection, not the server
            log(traceback.format_exc())
        finally:
            if not keep:
                conn.close()

    def decline_reason(self, request):
        """Why this server does not run the job, or None."""
        if self.stopping.is_set():
            return "stopping"
        if not all(isinstance(request.get(k), t) for k, t in JOB_FIELDS.items()):
            return "a malformed job"
        if request.get("digest") != self.digest:
            if self.check_sources():
                return "stale"
            return "other nbnumba code"
        names = wire.differences(request.get("process_env", {}), self.process_env)
        if names:
            return "%s set otherwise than for the workers" % ", ".join(names)
        names = wire.differences(request.get("context", {}), self.context)
        if names:
            return "the client's process context differs from the server's: %s" % ", ".join(names)
        return None

    def take(self, conn, request, fds):
        """Queue the job, then follow its client: a CANCEL or its end cancels it."""
        reason = self.decline_reason(request)
        if reason:
            for fd in fds:
                os.close(fd)
            with self.lock:
                self.declined[reason] += 1
            wire.send(conn, wire.DECLINED, {"reason": reason})
            return
        job = Job(conn, request, fds)
        with self.lock:
            self.active.append(job)
        wire.send(conn, wire.ACCEPTED)
        self.queue.put(job)
        while True:
            try:
                message = wire.receive(conn)
            except OSError:
                message = None
            if message is None:                 # the client went away (or the job is done)
                job.cancel(signal.SIGHUP)
                break
            if message[0] == wire.CANCEL:
                job.cancel(int(message[1].get("signal", signal.SIGINT)))
        job.done.wait()

    def finish(self, job, result):
        """Tell the client how its job ended, and forget the job."""
        with job.lock:
            job.state = "done"
        job.close_fds()
        try:
            wire.send(job.conn, wire.EXITED, result)
        except OSError:
            pass
        try:
            job.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        with self.lock:
            self.active.remove(job)
            self.done += 1
            self.last_job = time.monotonic()
        job.done.set()

    def status(self):
        with self.lock:
            running = sum(job.state == "running" for job in self.active)
            return {"pid": os.getpid(), "socket": self.path, "root": self.root, "digest": self.digest,
                    "python": sys.executable, "uptime": time.time() - self.started,
                    "idle_timeout": self.idle_timeout, "device": self.slots[0].device if self.slots else None,
                    "workers": [{"pid": slot.proc.pid if slot.alive() else None, "jobs": slot.jobs,
                                 "busy": any(job.slot is slot and job.state == "running" for job in self.active)}
                                for slot in self.slots],
                    "done": self.done, "running": running, "queued": len(self.active) - running,
                    "declined": dict(self.declined), "log": self.path + ".log",
                    "stopping": self.why_stopped}


def describe_duration(seconds):
    if not seconds:
        return "none"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return "%d%s" % (seconds // size, unit)
    return "%gs" % seconds


# ---- the command

def ask(path, kind, timeout=HANDSHAKE_SECONDS):
    """(connection, answer body) of a STATUS or STOP request, or (None, None) where no server answers."""
    sock = wire.connect(path, timeout)
    if sock is None:
        return None, None
    try:
        wire.send(sock, kind, {"pid": os.getpid()})
        message = wire.receive(sock)
    except OSError:
        message = None
    if message is None or message[0] not in (wire.REPORT, wire.ACCEPTED):
        sock.close()
        return None, None
    return sock, message[1]


def stop_server(path):
    """Ask the server at path to stop and wait (STOP_SECONDS at most) for it to exit; its
    status before it stopped, or None where none ran."""
    sock, status = ask(path, wire.STOP)
    if sock is None:
        return None
    sock.settimeout(STOP_SECONDS)
    try:
        sock.recv(1)                # the server closes the connection as it exits
    except OSError:
        status["still_running"] = True
    sock.close()
    return status


def lock_server(path, seconds=STOP_SECONDS):
    """Hold the lock that makes this the only server at path (a stopped one may take a moment to
    let go of it); its fd, or None."""
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    end = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > end:
                os.close(fd)
                return None
            time.sleep(0.05)


def run_server(path, options, report):
    """Run a server at path until it stops; report(dict) once it serves or cannot."""
    lock = lock_server(path)
    if lock is None:
        report({"error": "another nbnumba server holds %s.lock" % path})
        return 1
    server = Server(path, options.device, options.workers, options.idle_timeout)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: server.stop("signal %d" % signum))
    error = server.start()
    if error:
        log(error)
        report({"error": error})
        return 1
    report(server.status())
    server.wait()
    return 0


def daemon(path, options):
    """Start the server in the background (its stderr to path.log); the status it reports once
    warm, or {"error": ...}."""
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            os.setsid()
            os.chdir("/")
            null = os.open(os.devnull, os.O_RDWR)
            logfile = os.open(path + ".log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            os.dup2(null, 0)
            os.dup2(logfile, 1)
            os.dup2(logfile, 2)

            def report(status):
                os.write(write_end, json.dumps(status).encode())
                os.close(write_end)
            code = run_server(path, options, report)
        finally:
            os._exit(code)
    os.close(write_end)
    data = b""
    end = time.monotonic() + START_SECONDS
    while time.monotonic() < end and select.select([read_end], [], [], end - time.monotonic())[0]:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        data += chunk
    os.close(read_end)
    try:
        return json.loads(data)
    except ValueError:
        return {"error": "the server did not start (see %s.log)" % path}


def print_status(status, as_json):
    if as_json:
        print(json.dumps(status, indent=1, sort_keys=True))
        return
    workers = ", ".join(str(w["pid"]) + (" busy" if w["busy"] else "") for w in status["workers"] if w["pid"])
    print("nbnumba server: pid %d, up %ds, idle timeout %s, socket %s"
          % (status["pid"], status["uptime"], describe_duration(status["idle_timeout"]), status["socket"]))
    print("  code: %s (digest %s), %s" % (status["root"], status["digest"][:12], status["python"]))
    print("  workers: %d on %s (pids %s); jobs: %d done, %d running, %d queued"
          % (len(status["workers"]), status["device"], workers, status["done"], status["running"], status["queued"]))
    for reason, count in sorted(status["declined"].items()):
        print("  declined %d job(s): %s" % (count, reason))
    if status.get("stopping"):
        print("  stopping: %s" % status["stopping"])
    print("  log: %s" % status["log"])


def parser():
    p = argparse.ArgumentParser(
        prog="nbnumba serve",
        description="Keep a warm nbnumba renderer for this user: later `nbnumba ARGS` commands hand their runs "
                    "to it (same files, stdout, stderr and exit codes; NBNUMBA_SERVER=off runs in-process).")
    p.add_argument("--idle-timeout", type=parse_duration, default=parse_duration(DEFAULT_IDLE), metavar="TIME",
                   help="exit after this long without a job: 90s, 15m, 2h; 0 never (default %s)" % DEFAULT_IDLE)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="the device of jobs that choose none (-device, NBNUMBA_DEVICE) (default auto)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="jobs rendered at once (default: 1 on a GPU, %d on CPUs)" % DEFAULT_CPU_WORKERS)
    p.add_argument("--foreground", action="store_true", help="serve in this process, logging to stderr")
    p.add_argument("--status", action="store_true", help="describe the running server (exit 3: none runs)")
    p.add_argument("--json", action="store_true", help="with --status: as JSON")
    p.add_argument("--stop", action="store_true", help="stop the running server after its jobs")
    return p


def main(argv):
    """`nbnumba serve ARGS`: the exit code."""
    options = parser().parse_args(argv)
    if options.workers is not None and options.workers < 1:
        parser().error("--workers must be 1 or more")
    path = wire.socket_path()
    if options.status:
        sock, status = ask(path, wire.STATUS)
        if sock is None:
            print("nbnumba: no server runs at %s" % path)
            return 3
        sock.close()
        print_status(status, options.json)
        return 0
    if options.stop:
        status = stop_server(path)
        if status is None:
            print("nbnumba: no server runs at %s" % path)
        elif status.get("still_running"):
            print("nbnumba: the server (pid %d) stops once its jobs are done" % status["pid"])
        else:
            print("nbnumba: stopped the server (pid %d)" % status["pid"])
        return 0
    problem = wire.make_folder(os.path.dirname(path))
    if problem:
        print("nbnumba serve: ERROR: %s; the server's socket needs a private folder" % problem, file=sys.stderr)
        return 2
    sock, status = ask(path, wire.STATUS)
    if sock is not None:
        sock.close()
        if status["digest"] == wire.source_digest() and not status.get("stopping"):
            print("nbnumba: a server already runs (pid %d, socket %s)" % (status["pid"], path))
            return 0
        print("nbnumba: replacing the server of %s (pid %d)" % (status["root"], status["pid"]))
        stop_server(path)
    if options.foreground:
        return run_server(path, options, lambda status: print_status(status, False) or sys.stdout.flush())
    status = daemon(path, options)
    if "error" in status:
        print("nbnumba serve: ERROR: %s" % status["error"], file=sys.stderr)
        return 1
    print("nbnumba: server started (pid %d, %d worker(s) on %s, idle timeout %s, socket %s)"
          % (status["pid"], len(status["workers"]), status["device"], describe_duration(status["idle_timeout"]), path))
    return 0
