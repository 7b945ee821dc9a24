"""The command line of `nbnumba serve`.

    nbnumba serve [--idle-timeout 15m] [--device auto|cpu|cuda] [--workers N] [--foreground]
    nbnumba serve --status [--json] | --stop

The server listens on a Unix socket (command/wire.py: in $XDG_RUNTIME_DIR/nbnumba/ or
/tmp/nbnumba-UID/, or at NBNUMBA_SERVER; its folder must be this user's with mode 0700, or the
server refuses to start) and accepts connections from this user only (SO_PEERCRED).  It
exits after --idle-timeout without a job, on --stop, SIGTERM, SIGINT or SIGHUP (after the
jobs under way), and when its own sources change on disk, so a client never runs stale code.
A server of other code at the same socket is replaced by `nbnumba serve`.
"""
import json
import os
import re
import signal
import sys

import click

from nbnumba.command import wire
from nbnumba.command.server.daemon import daemon, run_server
from nbnumba.command.server.loop import HANDSHAKE_SECONDS, describe_duration
from nbnumba.errors import NBError
from nbnumba.memory import worker_cap
from nbnumba.settings import Settings

DEFAULT_IDLE = "15m"
DEFAULT_CPU_WORKERS = 2           # two jobs overlap one's serial phases with the other's render
STOP_SECONDS = 60                 # how long `--stop` or a replacement waits for the old server


def parse_duration(text):
    """Seconds in "90", "90s", "15m", "2h" or "1d"; 0 means never."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([smhd]?)\s*", text, re.ASCII)
    if not m:
        raise click.BadParameter("%r is not a duration like 90s, 15m, 2h (0: never)" % text)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


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


def print_status(status, as_json):
    if as_json:
        click.echo(json.dumps(status, indent=1, sort_keys=True))
        return
    workers = ", ".join(str(w["pid"]) + (" busy" if w["busy"] else "") for w in status["workers"] if w["pid"])
    click.echo("nbnumba server: pid %d, up %ds, idle timeout %s, socket %s"
               % (status["pid"], status["uptime"], describe_duration(status["idle_timeout"]), status["socket"]))
    click.echo("  code: %s (digest %s), %s" % (status["root"], status["digest"][:12], status["python"]))
    click.echo("  render processes: %d of at most %s on %s (pids %s); jobs: %d done, %d running, %d queued"
               % (len(status["workers"]), status["max_workers"] or "(starting)", status["device"], workers,
                  status["done"], status["running"], status["queued"]))
    for reason, count in sorted(status["declined"].items()):
        click.echo("  declined %d job(s): %s" % (count, reason))
    if status.get("stopping"):
        click.echo("  stopping: %s" % status["stopping"])
    click.echo("  log: %s" % status["log"])


def max_workers(requested, device, cpu_default):
    """The render processes to allow: --workers, or None for the default (1 on a GPU,
    cpu_default on CPUs: loop.Server decides once it knows the device); at most what this
    machine's cores and memory hold, said in one line when --workers asks for more."""
    if requested is None:
        return None if device != "cpu" else cpu_default
    count, why = worker_cap(requested)
    if why is not None:
        click.echo("nbnumba serve: --workers %d is more than this machine runs well: %d (%s)"
                   % (requested, count, why), err=True)
    return count


def _say_status(status):
    """What a foreground server says once serving, or why it cannot."""
    if "error" in status:
        click.echo("nbnumba serve: ERROR: %s" % status["error"], err=True)
    else:
        print_status(status, False)


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--idle-timeout", default=DEFAULT_IDLE, show_default=True, metavar="TIME",
              help="Exit after this long without a job: 90s, 15m, 2h; 0 never.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="The device of jobs that choose none (-device, NBNUMBA_DEVICE).")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Jobs rendered at once (default: 1 on a GPU, %d on CPUs; at most the cores and memory "
                   "allow). Render processes start as jobs need them." % DEFAULT_CPU_WORKERS)
@click.option("--foreground", is_flag=True, help="Serve in this process, logging to stderr.")
@click.option("--status", is_flag=True, help="Describe the running server (exit 3: none runs).")
@click.option("--json", "as_json", is_flag=True, help="With --status: as JSON.")
@click.option("--stop", is_flag=True, help="Stop the running server after its jobs.")
def serve_cmd(idle_timeout, device, workers, foreground, status, as_json, stop):
    """Keep a warm nbnumba renderer for this user: later `nbnumba ARGS` commands hand their runs to
    it (same files, stdout, stderr and exit codes; NBNUMBA_SERVER=off runs in-process). Who can
    reach it, and what a served run may do: docs/security.md."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)       # `--status | head -1`: die of SIGPIPE, as a C tool
    idle = parse_duration(idle_timeout)
    try:
        path = wire.socket_path(Settings.from_environ().server)
    except NBError as err:
        click.echo("nbnumba serve: " + err.message, err=True)
        sys.exit(err.code)
    if status:
        sock, report = ask(path, wire.STATUS)
        if sock is None:
            click.echo("nbnumba: no server runs at %s" % path)
            sys.exit(3)
        sock.close()
        print_status(report, as_json)
        return
    if stop:
        report = stop_server(path)
        if report is None:
            click.echo("nbnumba: no server runs at %s" % path)
        elif report.get("still_running"):
            click.echo("nbnumba: the server (pid %d) stops once its jobs are done" % report["pid"])
        else:
            click.echo("nbnumba: stopped the server (pid %d)" % report["pid"])
        return
    problem = wire.make_folder(os.path.dirname(path))
    if problem:
        click.echo("nbnumba serve: ERROR: %s; the server's socket needs a private folder" % problem, err=True)
        sys.exit(2)
    sock, report = ask(path, wire.STATUS)
    if sock is not None:
        sock.close()
        if report.get("digest") == wire.source_digest() and not report.get("stopping"):
            click.echo("nbnumba: a server already runs (pid %d, socket %s)" % (report["pid"], path))
            return
        click.echo("nbnumba: replacing the server of %s (pid %s)" % (report.get("root"), report.get("pid")))
        stop_server(path)
    cpu_default = worker_cap(DEFAULT_CPU_WORKERS)[0]
    count = max_workers(workers, device, cpu_default)
    if foreground:
        sys.exit(run_server(path, device, count, idle, _say_status, cpu_default))
    report = daemon(path, device, count, idle, cpu_default)
    if "error" in report:
        click.echo("nbnumba serve: ERROR: %s" % report["error"], err=True)
        sys.exit(1)
    click.echo("nbnumba: server started (pid %d, up to %d render process(es) on %s, idle timeout %s, socket %s)"
               % (report["pid"], report["max_workers"], report["device"], describe_duration(report["idle_timeout"]),
                  path))


def main(argv):
    """`nbnumba serve ARGS`: the exit code."""
    try:
        serve_cmd.main(list(argv), prog_name="nbnumba serve")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0
