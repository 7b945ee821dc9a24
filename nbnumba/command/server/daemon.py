"""Running the server: the lock that makes it the only one at its socket, in the foreground or
detached from the terminal as a daemon (its stderr in the socket path + ".log")."""
import fcntl
import json
import os
import select
import sys
import time

from nbnumba.command.server.loop import Server, log

START_SECONDS = 900               # how long `nbnumba serve` waits for the server to be warm
LOCK_SECONDS = 60                 # how long a new server waits for a stopping one's lock


def lock_server(path, seconds=LOCK_SECONDS):
    """Hold the lock that makes this the only server at path (a stopped one may take a moment
    to let go of it); its fd, or None."""
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
            time.sleep(0.05)        # a stopping server's lock: released as it exits


def run_server(path, device, max_workers, idle_timeout, report, default_cpu_workers=1):
    """Run a server at path until it stops (loop.Server has the parameters); report(dict)
    once it serves or cannot.  The exit code."""
    lock = lock_server(path)
    if lock is None:
        report({"error": "another nbnumba server holds %s.lock" % path})
        return 1
    try:
        return Server(path, device, max_workers, idle_timeout, report, default_cpu_workers).serve()
    finally:
        os.close(lock)


def daemon(path, device, max_workers, idle_timeout, default_cpu_workers=1):
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
            os.chdir("/")           # a daemon holds no folder of the user's
            null = os.open(os.devnull, os.O_RDWR)
            logfile = os.open(path + ".log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            os.dup2(null, 0)
            os.dup2(logfile, 1)
            os.dup2(logfile, 2)
            reported = []

            def report(status):
                if not reported:
                    reported.append(status)
                    os.write(write_end, json.dumps(status).encode())
                    os.close(write_end)
            code = run_server(path, device, max_workers, idle_timeout, report, default_cpu_workers)
        except BaseException as e:
            log("the server failed: %s: %s" % (type(e).__name__, e))
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
