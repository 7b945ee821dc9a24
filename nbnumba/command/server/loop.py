"""The server of `nbnumba serve`: one thread, one event loop (selectors) over the listening
socket, the clients' connections, the render processes' sockets and process descriptors,
and a wake-up pipe for signals; timers (a connection's handshake, the idle timeout, the
check of the sources) bound each wait.  Nothing polls.

A client's JOB is checked (wire: the same code, Numba settings and process context, limits
that the render process can adopt), queued, and handed to an idle render process
(renderer.py) with the client's descriptors; its EXITED answer goes back to the client.  The
render processes start as jobs need them (the first at start, to learn the device), up to
`max_workers`.  A client's CANCEL, or its connection closing, cancels its job; a render
process that dies fails its job only and is replaced when a job needs it.
"""
import collections
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import traceback

from nbnumba.command import wire

CHECK_SECONDS = 5.0               # how often the server compares its sources with what it runs
WORKER_START_SECONDS = 600        # a render process's warm-up (a GPU's first kernel load included)
HANDSHAKE_SECONDS = wire.HANDSHAKE_SECONDS
MAX_START_FAILURES = 3            # render processes that failed to start in a row: the queue runs in-process
SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}
MAX_JOB_FDS = 3                   # the client's stdout, stderr and its end of the broker's socket pair
JOB_FIELDS = {"argv": list, "fds": list, "env": dict, "digest": str, "process_env": dict, "context": dict,
              "limits": dict}


def log(text):
    """One line on the server's stderr (its log file), timestamped."""
    try:
        os.write(2, ("%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), text)).encode(errors="replace"))
    except OSError:
        pass


def _ints(values, count=None):
    return isinstance(values, list) and (count is None or len(values) == count) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in values)


def malformed(request):
    """Why a JOB body is not one this server can run, or None."""
    problem = "a malformed job"
    if not isinstance(request, dict) or not all(isinstance(request.get(k), t) for k, t in JOB_FIELDS.items()):
        return problem
    if not all(isinstance(a, str) for a in request["argv"]) or not _ints(request["fds"]) \
            or len(set(request["fds"])) != len(request["fds"]) or not set(request["fds"]) <= {1, 2}:
        return problem
    limits = request["limits"]
    if not isinstance(limits.get("rlimits"), dict) or not all(_ints(v, 2) for v in limits["rlimits"].values()):
        return problem
    if not _ints(limits.get("affinity")) or not _ints([limits.get("umask"), limits.get("nice")]):
        return problem
    return None


class ServedJob:
    """A client's job, from its acceptance to its EXITED message."""

    def __init__(self, conn, request, fds):
        self.conn, self.request, self.fds = conn, request, fds
        self.slot = None              # the render process running it
        self.signal = None            # the cancel's signal, once the client asked

    def close_fds(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []


class Slot:
    """One render process: its socket, its process descriptor, its state."""

    def __init__(self, server):
        self.server = server
        self.proc = None
        self.sock = None
        self.pidfd = None
        self.state = "down"           # starting, idle, busy, stopping
        self.device = None
        self.limits = None
        self.job = None
        self.jobs = 0
        self.deadline = None

    def start(self):
        """Start a render process; READY arrives on its socket.  None, or why it could not start."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "nbnumba.command.server.renderer", str(theirs.fileno()), self.server.device],
                pass_fds=[theirs.fileno()], cwd="/", stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            ours.close()
            return "cannot start a render process: %s" % e
        finally:
            theirs.close()
        self.sock = ours
        self.pidfd = os.pidfd_open(self.proc.pid)
        self.state, self.deadline = "starting", time.monotonic() + WORKER_START_SECONDS
        self.server.selector.register(self.sock, selectors.EVENT_READ, ("slot", self))
        self.server.selector.register(self.pidfd, selectors.EVENT_READ, ("exit", self))
        return None

    def close(self):
        """Close the socket (the process reads the end and exits); the exit is still awaited."""
        if self.sock is not None:
            self.server.selector.unregister(self.sock)
            self.sock.close()
            self.sock = None
        if self.state != "down":
            self.state = "stopping"

    def reap(self):
        """The process has exited: forget it; its exit status (negative: killed by that signal)."""
        self.close()
        self.server.selector.unregister(self.pidfd)
        os.close(self.pidfd)
        status = self.proc.wait()
        self.proc = self.pidfd = None
        self.state = "down"
        return status


class Server:
    """The server at `path` (see the module docstring).

    Parameters
    ----------
    path : str
        The socket's path (its folder checked private by the caller).
    device : str
        The device of jobs that choose none: auto, cpu or cuda.
    max_workers : int or None
        Render processes at most (started as jobs need them); None: 1 on a GPU, else
        default_cpu_workers (decided when the first is warm and says its device).
    idle_timeout : float
        Seconds without a job before the server stops (0: never).
    on_ready : callable
        on_ready(status) once serving (the first render process warm), or on_ready({"error":
        why}) when the server cannot start.
    """

    def __init__(self, path, device, max_workers, idle_timeout, on_ready, default_cpu_workers=1):
        self.path, self.device, self.max_workers, self.idle_timeout = path, device, max_workers, idle_timeout
        self.on_ready = on_ready
        self.default_cpu_workers = default_cpu_workers
        self.root = wire.package_root()
        self.digest = wire.source_digest(self.root)
        self.process_env = wire.process_environment()
        self.context = wire.process_context()
        self.selector = selectors.DefaultSelector()
        self.queue = collections.deque()
        self.active = []              # jobs accepted and not done
        self.slots = []
        self.handshakes = {}          # connection -> deadline
        self.keep = []                # --stop connections, closed as the server exits
        self.done = 0
        self.declined = collections.Counter()
        self.last_job = time.monotonic()
        self.next_check = time.monotonic() + CHECK_SECONDS
        self.started = time.time()
        self.ready = False
        self.start_failures = 0       # render processes that failed to start, in a row
        self.why_stopped = None
        self.listener = None
        self.inode = None

    # ---- the loop

    def serve(self):
        """Listen and serve until stopped; 0, or 1 when the server could not start."""
        error = self.listen()
        if error is None:
            error = self.add_slot()
        if error is not None:
            log(error)
            self.on_ready({"error": error})
            self.close_listener()
            return 1
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        os.set_blocking(wake_read, False)
        signal.set_wakeup_fd(wake_write)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda signum, frame: None)      # the wake-up pipe carries it
        self.selector.register(wake_read, selectors.EVENT_READ, ("signal", None))
        try:
            while not self.finished():
                timeout = self.next_deadline() - time.monotonic()
                for key, _ in self.selector.select(max(timeout, 0.0)):
                    kind, obj = key.data
                    try:
                        getattr(self, "on_" + kind)(obj if kind != "signal" else wake_read)
                    except Exception:       # a bug, or a message of the user's own that is not ours
                        log(traceback.format_exc())
                        if kind == "client":
                            self.drop_client(obj)
                self.on_timers()
                self.dispatch()
        finally:
            signal.set_wakeup_fd(-1)
            os.close(wake_read)
            os.close(wake_write)
            for conn in self.keep:
                conn.close()
        log("stopped")
        return 0 if self.ready else 1

    def finished(self):
        """Stopped, with every job done and every render process gone."""
        return self.why_stopped is not None and not self.active and all(s.state == "down" for s in self.slots)

    def next_deadline(self):
        times = [self.next_check] + list(self.handshakes.values())
        times += [s.deadline for s in self.slots if s.state == "starting"]
        if self.idle_timeout and self.why_stopped is None and not self.active:
            times.append(self.last_job + self.idle_timeout)
        return min(times)

    def on_timers(self):
        now = time.monotonic()
        for conn, deadline in list(self.handshakes.items()):
            if now >= deadline:
                self.drop(conn)
        for slot in self.slots:
            if slot.state == "starting" and now >= slot.deadline:
                log("a render process did not warm up in %d s" % WORKER_START_SECONDS)
                slot.proc.kill()
        if self.why_stopped is None and self.idle_timeout and not self.active \
                and now - self.last_job >= self.idle_timeout:
            self.stop("idle for %s" % describe_duration(self.idle_timeout))
        if now >= self.next_check:
            self.next_check = now + CHECK_SECONDS
            self.check_sources()

    def on_signal(self, wake_read):
        try:
            signums = os.read(wake_read, 64)
        except BlockingIOError:
            return
        for signum in signums:
            self.stop("signal %d" % signum)

    # ---- start and stop

    def listen(self):
        """Bind and listen; None, or why it cannot."""
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
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, ("accept", None))
        return None

    def close_listener(self):
        """Stop listening, and remove the socket if it is still this server's."""
        if self.listener is None:
            return
        try:
            self.selector.unregister(self.listener)
        except (KeyError, ValueError):
            pass
        self.listener.close()
        self.listener = None
        try:
            if self.inode is not None and os.stat(self.path).st_ino == self.inode:
                os.unlink(self.path)
        except OSError:
            pass

    def add_slot(self):
        slot = Slot(self)
        error = slot.start()
        if error is None:
            self.slots.append(slot)
        return error

    def stop(self, why):
        """Accept no more jobs; finish those accepted, then end the render processes."""
        if self.why_stopped is not None:
            return
        self.why_stopped = why
        log("stopping: %s" % why)
        self.close_listener()
        for conn in list(self.handshakes):
            self.drop(conn)

    def check_sources(self):
        """Stop when the sources on disk are no longer those this server runs; True then."""
        if wire.source_digest(self.root) != self.digest:
            self.stop("the sources in %s changed" % self.root)
            return True
        return False

    # ---- render processes

    def on_slot(self, slot):
        if slot.sock is None:           # reaped in this round already
            return
        try:
            message = wire.receive(slot.sock)
        except OSError:
            message = None
        if message is None:             # it is exiting: its process descriptor says when
            slot.close()
            return
        kind, body, _ = message
        if kind == wire.READY and slot.state == "starting":
            if "error" in body:
                log("a render process failed to start: %s" % body["error"])
                slot.close()
                return
            slot.state, slot.device, slot.limits = "idle", body["device"], body["limits"]
            self.start_failures = 0
            log("render process %d ready on %s" % (slot.proc.pid, slot.device))
            if not self.ready:
                self.ready = True
                if self.max_workers is None:
                    self.max_workers = 1 if slot.device == "cuda" else self.default_cpu_workers
                log("serving %s at %s: up to %d render process(es) on %s, idle timeout %s"
                    % (self.root, self.path, self.max_workers, slot.device, describe_duration(self.idle_timeout)))
                self.on_ready(self.status())
        elif kind == wire.EXITED and slot.state == "busy":
            job, slot.job, slot.state = slot.job, None, "idle"
            self.finish(job, body)

    def on_exit(self, slot):
        state, job = slot.state, slot.job
        status = slot.reap()
        slot.job = None
        if state in ("starting", "stopping") and slot.device is None:
            self.start_failures += 1
        if not self.ready and state in ("starting", "stopping") and self.why_stopped is None:
            self.on_ready({"error": "a render process failed to start (status %s; see %s.log)" % (status, self.path)})
            self.stop("no render process")
        if job is not None:
            how = ("died of signal %d (%s)" % (-status, SIGNAL_NAMES.get(-status, "?")) if status < 0
                   else "exited with status %d" % status)
            log("render process %s during a job: %s" % (how, " ".join(job.request["argv"])))
            self.finish(job, {"error": "nbnumba: the server's render process %s during this run" % how,
                              "code": 128 - status if status < 0 else 1})
        self.slots.remove(slot)

    def dispatch(self):
        """Hand queued jobs to idle render processes; start one more where jobs wait."""
        while self.queue:
            idle = next((s for s in self.slots if s.state == "idle"), None)
            if idle is None:
                break
            job = self.queue.popleft()
            request = {k: job.request[k] for k in ("argv", "fds", "env", "limits")}     # what the job needs
            problem = wire.limits_problem(job.request["limits"], idle.limits)
            if problem is not None:
                job.close_fds()
                self.count_declined(problem)
                self.finish(job, {"fallback": True})
                continue
            try:
                wire.send(idle.sock, wire.JOB, request, job.fds)
            except OSError:             # it died idle: its exit is on its way
                self.queue.appendleft(job)
                idle.close()
                continue
            job.close_fds()
            idle.state, idle.job, job.slot = "busy", job, idle
            idle.jobs += 1
            self.send(job.conn, wire.RUNNING)
        waiting = len(self.queue) - sum(s.state == "starting" for s in self.slots)
        if waiting > 0 and self.why_stopped is None and len(self.slots) < (self.max_workers or 1) \
                and self.start_failures < MAX_START_FAILURES:
            error = self.add_slot()
            if error:
                log(error)
                self.start_failures += 1
        if self.why_stopped is not None and not self.active:
            for slot in self.slots:
                slot.close()
        if self.queue and (not self.slots or self.start_failures >= MAX_START_FAILURES) \
                and not any(s.state in ("starting", "idle") for s in self.slots):
            # no render process can start: the clients run their jobs themselves
            for job in list(self.queue):
                self.queue.remove(job)
                job.close_fds()
                self.finish(job, {"fallback": True})

    # ---- clients

    def on_accept(self, _):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:             # none left (BlockingIOError), or the listener closed
                return
            if wire.peer_uid(conn) != os.geteuid():
                self.count_declined("another user")
                self.send(conn, wire.DECLINED, {"reason": "this server serves user %d only" % os.geteuid()})
                conn.close()
                continue
            conn.setblocking(True)
            self.handshakes[conn] = time.monotonic() + HANDSHAKE_SECONDS
            self.selector.register(conn, selectors.EVENT_READ, ("client", conn))

    def on_client(self, conn):
        job = next((j for j in self.active if j.conn is conn), None)
        try:
            message = wire.receive(conn, max_fds=MAX_JOB_FDS if job is None else 0)
        except OSError:
            message = None
        if job is not None:             # the client of a job: a cancel, or its end
            if message is None:
                self.selector.unregister(conn)
                self.cancel(job, signal.SIGHUP)
            elif message[0] == wire.CANCEL:
                signum = message[1].get("signal") if isinstance(message[1], dict) else None
                self.cancel(job, signum if isinstance(signum, int) and signum > 0 else signal.SIGINT)
            return
        if conn in self.keep:           # a --stop client: it waits for the server's exit
            if message is None:
                self.selector.unregister(conn)
            return
        self.handshakes.pop(conn, None)
        if message is None:
            self.drop(conn)
            return
        kind, body, fds = message
        if kind == wire.JOB:
            self.take(conn, body, fds)
            return
        for fd in fds:
            os.close(fd)
        if kind == wire.STATUS:
            self.send(conn, wire.REPORT, self.status())
            self.drop(conn)
        elif kind == wire.STOP:
            self.stop("asked to (pid %s)" % body.get("pid", "?"))
            self.send(conn, wire.ACCEPTED, self.status())
            self.keep.append(conn)
        else:
            self.drop(conn)

    def drop_client(self, conn):
        """Forget a connection whose message broke a handler: its job fails, the server goes on."""
        job = next((j for j in self.active if j.conn is conn), None)
        if job is None:
            self.drop(conn)
        elif job in self.queue:
            self.queue.remove(job)
            job.close_fds()
            self.finish(job, {"fallback": True})

    def drop(self, conn):
        self.handshakes.pop(conn, None)
        try:
            self.selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def send(self, conn, kind, body=None):
        try:
            wire.send(conn, kind, body)
        except OSError:
            pass

    def count_declined(self, reason):
        self.declined[reason] += 1

    def decline_reason(self, request, fds):
        """Why this server does not run the job, or None."""
        if self.why_stopped is not None:
            return "stopping"
        problem = malformed(request)
        if problem is None and len(fds) != len(request["fds"]) + 1:
            problem = "a malformed job"
        if problem is not None:
            return problem
        if request["digest"] != self.digest:
            if self.check_sources():
                return "stale"
            return "other nbnumba code"
        names = wire.differences(request["process_env"], self.process_env)
        if names:
            return "%s set otherwise than for the render processes" % ", ".join(names)
        names = wire.differences(request["context"], self.context)
        if names:
            return "the client's process context differs from the server's: %s" % ", ".join(names)
        limits = next((s.limits for s in self.slots if s.limits is not None), None)
        if limits is not None:
            return wire.limits_problem(request["limits"], limits)
        return None

    def take(self, conn, request, fds):
        """Queue the job, or decline it (the client then runs it itself)."""
        reason = self.decline_reason(request, fds)
        if reason:
            for fd in fds:
                os.close(fd)
            self.count_declined(reason)
            self.send(conn, wire.DECLINED, {"reason": reason})
            self.drop(conn)
            return
        job = ServedJob(conn, request, fds)
        self.active.append(job)
        self.queue.append(job)
        self.send(conn, wire.ACCEPTED)

    def cancel(self, job, signum):
        """Stop the job: queued, it never starts; running, its render process stops it at its
        next checkpoint."""
        if job.signal:
            return
        job.signal = signum
        if job in self.queue:
            self.queue.remove(job)
            job.close_fds()
            self.finish(job, {"signal": signum})
        elif job.slot is not None:
            try:
                wire.send(job.slot.sock, wire.CANCEL, {"signal": signum})
            except OSError:
                pass

    def finish(self, job, result):
        """Tell the client how its job ended, and forget the job."""
        self.send(job.conn, wire.EXITED, result)
        try:
            self.selector.unregister(job.conn)
        except (KeyError, ValueError):
            pass
        job.conn.close()
        self.active.remove(job)
        self.done += "fallback" not in result
        self.last_job = time.monotonic()

    def status(self):
        running = sum(job.slot is not None for job in self.active)
        return {"pid": os.getpid(), "socket": self.path, "root": self.root, "digest": self.digest,
                "python": sys.executable, "uptime": time.time() - self.started,
                "idle_timeout": self.idle_timeout, "max_workers": self.max_workers,
                "device": next((s.device for s in self.slots if s.device), None),
                "workers": [{"pid": slot.proc.pid if slot.proc else None, "jobs": slot.jobs,
                             "busy": slot.state == "busy"} for slot in self.slots],
                "done": self.done, "running": running, "queued": len(self.active) - running,
                "declined": dict(self.declined), "log": self.path + ".log", "stopping": self.why_stopped}


def describe_duration(seconds):
    if not seconds:
        return "none"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return "%d%s" % (seconds // size, unit)
    return "%gs" % seconds
