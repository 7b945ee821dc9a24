"""`nbnumba serve` and the `nbnumba` command through it (command/server/, launcher.py,
broker.py, wire.py).  Each server here runs in a private runtime folder (XDG_RUNTIME_DIR in
tmp_path) and is stopped, or killed, by the test that started it; every wait has a limit.

- A run through the server is the in-process run: exit code, stdout, stderr and every file,
  byte for byte (golden cases, errors, -h, a closed pipe, a closed stdout).
- Two clients at once, in two folders, each get their own output.
- SIGINT to a client cancels its job: the client dies of SIGINT within a second and leaves
  no file; a client killed outright cancels its job too.
- A render process killed during a job fails that job with one line (status 137) and is
  replaced when a job needs it; a server killed during a job: its client says so in one line
  (status 1), its render processes exit.
- A server whose sources change declines jobs (they run in-process) and exits; `nbnumba
  serve` replaces a server of other code.
- The socket's folder must be the user's, mode 0700; another user can neither reach the
  socket nor be served (as root, checked as uid OTHER_UID; skipped otherwise).
- No server, NBNUMBA_SERVER=off, other NUMBA_* settings, or a NBNUMBA_SERVER path where none
  answers: in-process.
"""
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import golden
from golden import cli_env
from oddenv import OUTPUTS, SMALL, SMALL_SHA256, stderr_lines, unprivileged

TIMEOUT = 120           # seconds for any one command
OTHER_UID = 65534       # "nobody": the other user of the permission tests
# a render of several seconds, stopped early by most tests that start it
LONG = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 256 -pixel 0.1 "
        "-oversample 4 -phisteps 40 -osc 1 -mosaic 1 -mosaic_dom 10 -seed 1").split()
# a render of about half a second
MEDIUM = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 128 -pixel 0.1 "
          "-oversample 2 -phisteps 4 -osc 1 -mosaic 1 -mosaic_dom 4").split()
STOPPED_LINE = "nbnumba: the nbnumba server stopped during this run; run it again (NBNUMBA_SERVER=off runs it in this process)"


def environment(runtime, **extra):
    """cli_env() with the server (if any) in the runtime folder `runtime`."""
    env = cli_env()
    env.pop("NBNUMBA_SERVER")
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env.update(extra)
    return env


def nbnumba(args, cwd, env, **kwargs):
    return subprocess.run([sys.executable, "-m", "nbnumba", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, errors="replace", timeout=TIMEOUT, **kwargs)


def start(args, cwd, env):
    return subprocess.Popen([sys.executable, "-m", "nbnumba", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(condition, timeout=30, what="the condition"):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "waited %d s for %s" % (timeout, what)
        time.sleep(0.05)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:        # a zombie is dead
        return Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Server:
    """A server that `nbnumba serve` started in the runtime folder `runtime`."""

    def __init__(self, runtime, *options, **env):
        runtime.mkdir(exist_ok=True)
        self.env = environment(runtime, **env)
        self.folder = Path(env["NBNUMBA_SERVER"]).parent if "NBNUMBA_SERVER" in env else runtime / "nbnumba"
        self.socket = self.folder / (Path(env["NBNUMBA_SERVER"]).name if "NBNUMBA_SERVER" in env else "server.sock")
        p = nbnumba(["serve", "--device", "cpu", *options], runtime, self.env)
        assert p.returncode == 0, p.stdout + p.stderr
        self.pid = self.status()["pid"]

    def status(self):
        """The server's --status as a dict, or None where none runs."""
        p = nbnumba(["serve", "--status", "--json"], self.folder.parent, self.env)
        return json.loads(p.stdout) if p.returncode == 0 else None

    def workers(self, busy=False):
        return [w["pid"] for w in self.status()["workers"] if w["pid"] and (w["busy"] or not busy)]

    def stop(self):
        pids = [self.pid] + self.workers() if self.status() else [self.pid]
        nbnumba(["serve", "--stop"], self.folder.parent, self.env)
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("run"), "--workers", "2")
    yield s
    s.stop()


@pytest.fixture
def own_server(tmp_path):
    """A server for a test that may kill it."""
    s = Server(tmp_path / "run")
    yield s
    s.stop()


def run_in(folder, args, env, inputs=()):
    """Run nbnumba ARGS in a new folder holding `inputs`: (exit code, stdout, stderr, {file: bytes})."""
    folder.mkdir(parents=True)
    for name in inputs:
        shutil.copy(golden.INPUTS / name, folder / name)
    p = nbnumba(args, folder, env)
    files = {f.name: f.read_bytes() for f in folder.iterdir() if f.name not in inputs}
    return p.returncode, p.stdout, p.stderr, files


def sha256_of(files):
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def same_as_in_process(server, tmp_path, args, inputs=(), **env):
    """Run args through the server and in-process; assert every output is the same."""
    done = server.status()["done"]
    served = run_in(tmp_path / "served", args, dict(server.env, **env), inputs)
    assert server.status()["done"] == done + 1, "the server did not run the job"
    alone = run_in(tmp_path / "alone", args, dict(server.env, NBNUMBA_SERVER="off", **env), inputs)
    assert served[:3] == alone[:3]
    assert sorted(served[3]) == sorted(alone[3])
    for name in alone[3]:
        assert served[3][name] == alone[3][name], name
    return served


# ---------------------------------------------------------------- the same outputs

@pytest.mark.parametrize("name", ["cubic_defaultF", "dump_custom_name", "fdump_reuse", "stol_coherent_printout",
                                  "water_noise_scale", "img_header"])
def test_a_golden_case_through_the_server_is_the_in_process_run(server, tmp_path, name):
    case = next(c for c in golden.cases() if c["name"] == name)
    rc, stdout, _, files = same_as_in_process(server, tmp_path, shlex.split(case["args"]), case["inputs"])
    assert golden.check_exit_code(name, rc) == []
    assert golden.check_stdout(golden.reference_stdout(name), stdout) == []


def test_a_parsed_hkl_file_kept_by_the_workers_prints_and_writes_the_same(server, tmp_path):
    """Run three times, so that a worker takes the file from its cache: same stdout, same Fdump.bin."""
    case = next(c for c in golden.cases() if c["name"] == "dump_custom_name")
    for i in range(3):
        same_as_in_process(server, tmp_path / str(i), shlex.split(case["args"]), case["inputs"])


@pytest.mark.parametrize("args, env", [
    ([], {}),                                                   # the C's usage, exit 9
    (["-h"], {"COLUMNS": "60"}),
    (["--version"], {}),
    (["-hkl", "missing.hkl", "-cell", "100", "100", "100", "90", "90", "90", "-detpixels", "8"], {}),
    (SMALL + ["-noprogress"], {"NBNUMBA_STRICT": "1"})],
    ids=["usage", "help", "version", "error", "strict"])
def test_other_runs_through_the_server_are_the_in_process_runs(server, tmp_path, args, env):
    same_as_in_process(server, tmp_path, args, **env)


def test_timings_of_a_warm_job(server, tmp_path):
    rc, _, stderr, files = run_in(tmp_path / "job", SMALL + ["-timings"], server.env)
    assert rc == 0 and sha256_of(files) == SMALL_SHA256
    assert "nbnumba: timings: imports 0.000 s, numba start-up 0.000 s, " in stderr


@pytest.mark.parametrize("script, rc, files", [
    ('exec "$@" >&-', 0, OUTPUTS),                  # a closed stdout: one warning, every image
    ('exec "$@" | true', -signal.SIGPIPE, ())],     # a pipe whose reader has gone: SIGPIPE, no image
    ids=["closed-stdout", "closed-pipe"])
def test_odd_stdout_through_the_server(server, tmp_path, script, rc, files):
    def shell(folder, env):
        folder.mkdir()
        argv = [sys.executable, "-m", "nbnumba", *SMALL]
        if "| true" in script:          # the reader is gone before the run starts
            read_end, write_end = os.pipe()
            os.close(read_end)
            try:
                p = subprocess.run(argv, cwd=folder, env=env, stdout=write_end, stderr=subprocess.PIPE, text=True,
                                   timeout=TIMEOUT)
            finally:
                os.close(write_end)
        else:
            p = subprocess.run(["sh", "-c", script, "sh", *argv], cwd=folder, env=env, capture_output=True,
                               text=True, timeout=TIMEOUT)
        return p.returncode, p.stderr, sorted(f.name for f in folder.iterdir())

    done = server.status()["done"]
    served = shell(tmp_path / "served", server.env)
    assert server.status()["done"] == done + 1
    assert served == shell(tmp_path / "alone", dict(server.env, NBNUMBA_SERVER="off"))
    assert served[0] == rc and served[2] == sorted(files)


def test_the_launcher_imports_only_the_standard_library():
    code = ("import sys; before = set(sys.modules); import nbnumba.command.launcher; "
            "print(' '.join(sorted(set(sys.modules) - before)))")
    p = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True, text=True, timeout=TIMEOUT)
    new = set(p.stdout.split())
    ours = {m for m in new if m.split(".")[0] == "nbnumba"}
    assert ours == {"nbnumba", "nbnumba.command", "nbnumba.command.launcher", "nbnumba.command.wire",
                    "nbnumba.command.broker", "nbnumba.folders", "nbnumba.interrupt", "nbnumba.settings",
                    "nbnumba.errors"}
    assert [m for m in new - ours if m.split(".")[0] not in sys.stdlib_module_names] == []


def test_a_client_imports_neither_numpy_nor_numba(server, tmp_path):
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "nbnumba", *SMALL], cwd=tmp_path, env=server.env,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0
    imported = {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    assert "nbnumba.command.launcher" in imported
    assert not {"numpy", "numba", "nbnumba.command.cli"} & imported
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(OUTPUTS)


# ---------------------------------------------------------------- several clients, signals, crashes

def test_two_clients_at_once_get_their_own_outputs(server, tmp_path):
    args = {"a": MEDIUM + ["-seed", "1"], "b": MEDIUM + ["-seed", "2", "-N", "4"]}
    procs = {}
    for name, a in args.items():
        (tmp_path / name).mkdir()
        procs[name] = start(a, tmp_path / name, server.env)
    results = {name: (p.wait(TIMEOUT),) + p.communicate() for name, p in procs.items()}
    for name, a in args.items():
        alone = run_in(tmp_path / (name + "-alone"), a, dict(server.env, NBNUMBA_SERVER="off"))
        assert results[name] == alone[:3]
        assert {f.name: f.read_bytes() for f in (tmp_path / name).iterdir()} == alone[3]


def wait_for_progress(proc, text="1% done", timeout=60):
    """Read the client's stdout (live through the server) until a line containing text."""
    end = time.monotonic() + timeout
    for line in proc.stdout:
        if text in line:
            return
        assert time.monotonic() < end
    pytest.fail("the run ended before printing %r: %s" % (text, proc.stderr.read()))


def test_sigint_to_a_client_cancels_its_job(server, tmp_path):
    workers = server.workers()
    proc = start(LONG, tmp_path, server.env)
    try:
        wait_for_progress(proc)
        assert proc.poll() is None
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        stopped = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGINT          # died of it, as the in-process run
    assert stopped < 1.0, "took %.2f s to stop" % stopped
    assert list(tmp_path.iterdir()) == []              # no image, no temporary file
    assert stderr_lines(proc.stderr.read()) == []
    wait_until(lambda: server.status()["running"] == 0, what="the job to end")
    assert server.workers() == workers                 # a cancel ends the job, not the worker


def test_a_client_that_disappears_cancels_its_job(server, tmp_path):
    proc = start(LONG, tmp_path, server.env)
    wait_for_progress(proc)
    proc.kill()
    proc.wait()
    wait_until(lambda: server.status()["running"] == 0, timeout=10, what="the job to be cancelled")
    assert list(tmp_path.iterdir()) == []


def test_a_worker_that_dies_fails_its_job_only_and_is_replaced(server, tmp_path):
    proc = start(LONG, tmp_path, server.env)
    try:
        wait_for_progress(proc)
        busy = server.workers(busy=True)
        assert len(busy) == 1
        os.kill(busy[0], signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGKILL
    assert stderr_lines(proc.stderr.read()) == [
        "nbnumba: the server's render process died of signal 9 (SIGKILL) during this run"]
    assert list(tmp_path.iterdir()) == []               # killed mid-render: no file
    wait_until(lambda: busy[0] not in server.workers(), timeout=10, what="the dead render process to be gone")
    done = server.status()["done"]
    rc, _, _, files = run_in(tmp_path / "next", SMALL, server.env)     # served: by a new one if needed
    assert rc == 0 and sha256_of(files) == SMALL_SHA256
    assert server.status()["done"] == done + 1


def test_a_server_killed_during_a_job(own_server, tmp_path):
    """The client says so in one line and exits 1, never hangs; the workers end the job and exit."""
    workers = own_server.workers()
    (tmp_path / "long").mkdir()
    proc = start(LONG, tmp_path / "long", own_server.env)
    try:
        wait_for_progress(proc)
        os.kill(own_server.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert stderr_lines(proc.stderr.read()) == [STOPPED_LINE]
    wait_until(lambda: not any(alive(pid) for pid in workers), timeout=30, what="the workers to exit")
    assert list((tmp_path / "long").iterdir()) == []
    rc, _, _, files = run_in(tmp_path / "after", SMALL, own_server.env)      # in-process now
    assert rc == 0 and sha256_of(files) == SMALL_SHA256


# ---------------------------------------------------------------- which server, if any

def test_no_server_runs_in_process(tmp_path):
    runtime = tmp_path / "run"
    runtime.mkdir()
    rc, _, stderr, files = run_in(tmp_path / "job", SMALL, environment(runtime))
    assert rc == 0 and stderr_lines(stderr) == [] and sha256_of(files) == SMALL_SHA256
    assert not (runtime / "nbnumba").exists()


def test_a_named_server_that_does_not_answer_warns_and_runs_in_process(tmp_path):
    sock = tmp_path / "none.sock"
    rc, _, stderr, files = run_in(tmp_path / "job", SMALL, environment(tmp_path, NBNUMBA_SERVER=str(sock)))
    assert rc == 0 and sha256_of(files) == SMALL_SHA256
    assert stderr_lines(stderr) == ["nbnumba: warning: NBNUMBA_SERVER=%s: no nbnumba server of yours answers there: "
                                    "running in-process" % sock]


@pytest.mark.parametrize("env, reason", [
    ({"NBNUMBA_SERVER": "off"}, None),
    ({"NUMBA_NUM_THREADS": "1"}, "NUMBA_NUM_THREADS set otherwise than for the render processes")],
    ids=["off", "numba-settings"])
def test_runs_the_server_does_not_take(server, tmp_path, env, reason):
    before = server.status()
    rc, _, stderr, files = run_in(tmp_path / "job", SMALL, dict(server.env, **env))
    assert rc == 0 and stderr_lines(stderr) == [] and sha256_of(files) == SMALL_SHA256
    after = server.status()
    assert after["done"] == before["done"]
    if reason:
        assert after["declined"][reason] == before["declined"].get(reason, 0) + 1


def test_a_client_with_other_capabilities_runs_in_process(server, tmp_path):
    """A client that could not write what the server can (here: root without the capability
    to override permission bits) is not served: the run is its own."""
    as_root_only()
    (tmp_path / "job").mkdir()
    os.chmod(tmp_path / "job", 0o555)
    p = subprocess.run([*unprivileged(), sys.executable, "-m", "nbnumba", *SMALL], cwd=tmp_path / "job",
                       env=server.env, capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode != 0 and "floatimage.bin" in p.stderr        # refused, as in-process
    assert list((tmp_path / "job").iterdir()) == []
    reason = next(r for r in server.status()["declined"] if r.startswith("the client's process context"))
    assert "CapEff" in reason


def copy_of_the_package(folder):
    """A copy of the nbnumba sources in folder; the environment that runs it."""
    shutil.copytree(Path(golden.__file__).resolve().parents[1] / "nbnumba", folder / "nbnumba",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return {"PYTHONPATH": str(folder)}


def test_a_stale_server_declines_and_exits_and_is_replaced(tmp_path):
    env = copy_of_the_package(tmp_path / "pkg")
    edited = tmp_path / "pkg" / "nbnumba" / "command" / "cli.py"
    server = Server(tmp_path / "run", **env)
    try:
        p = nbnumba(["--version"], tmp_path, server.env)
        assert (p.returncode, p.stdout) == (0, "nbnumba 0.1.0\n")
        assert server.status()["done"] == 1
        edited.write_text(edited.read_text() + "\n# edited\n")
        p = nbnumba(["--version"], tmp_path, server.env)         # declined: runs in-process
        assert (p.returncode, p.stdout, p.stderr) == (0, "nbnumba 0.1.0\n", "")
        wait_until(lambda: server.status() is None and not alive(server.pid), what="the stale server to exit")
    finally:
        server.stop()

    first = Server(tmp_path / "run", **env)
    try:
        edited.write_text(edited.read_text() + "\n# edited again\n")
        p = nbnumba(["serve", "--device", "cpu"], tmp_path, first.env)       # before the server notices
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith("nbnumba: replacing the server of %s (pid %d)" % (tmp_path / "pkg" / "nbnumba",
                                                                                    first.pid))
        status = first.status()
        assert status["pid"] != first.pid and not alive(first.pid)
        assert p.stdout.splitlines()[-1].startswith("nbnumba: server started (pid %d" % status["pid"])
        os.kill(status["pid"], signal.SIGTERM)
        wait_until(lambda: not alive(status["pid"]), what="the new server to stop")
    finally:
        first.stop()


def test_the_idle_timeout(tmp_path):
    server = Server(tmp_path / "run", "--idle-timeout", "2s")
    try:
        wait_until(lambda: not alive(server.pid), timeout=30, what="the idle server to exit")
        assert not (server.folder / "server.sock").exists()
    finally:
        server.stop()


# ---------------------------------------------------------------- permissions

def serve_in(runtime):
    return nbnumba(["serve", "--device", "cpu"], runtime, environment(runtime))


def test_a_socket_folder_others_can_enter_is_refused(tmp_path):
    (tmp_path / "nbnumba").mkdir(mode=0o755)
    os.chmod(tmp_path / "nbnumba", 0o755)
    p = serve_in(tmp_path)
    assert p.returncode == 2
    assert p.stderr == ("nbnumba serve: ERROR: %s has owner %d and mode 0755: it must be a folder of user %d with "
                        "mode 0700; the server's socket needs a private folder\n"
                        % (tmp_path / "nbnumba", os.geteuid(), os.geteuid()))
    assert os.listdir(tmp_path / "nbnumba") == []


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_a_worker_count_below_one_is_refused(tmp_path, workers):
    p = nbnumba(["serve", "--workers", workers], tmp_path, environment(tmp_path))
    assert p.returncode == 2
    assert p.stderr.splitlines()[-1] == "Error: Invalid value for '--workers': %s is not in the range x>=1." % workers
    assert not (tmp_path / "nbnumba").exists()


def as_root_only():
    if os.geteuid() != 0:
        pytest.skip("needs root, to act as a second user (uid %d)" % OTHER_UID)


def test_a_socket_folder_of_another_user_is_refused(tmp_path):
    as_root_only()
    (tmp_path / "nbnumba").mkdir(mode=0o700)
    os.chown(tmp_path / "nbnumba", OTHER_UID, OTHER_UID)
    p = serve_in(tmp_path)
    assert p.returncode == 2 and "has owner %d and mode 0700" % OTHER_UID in p.stderr
    assert os.listdir(tmp_path / "nbnumba") == []


def as_other_user(function):
    """function() run in a child process as uid OTHER_UID: its exit code."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.setgroups([])
            os.setgid(OTHER_UID)
            os.setuid(OTHER_UID)
            code = function()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_another_user_can_neither_reach_the_socket_nor_be_served(tmp_path):
    """The server's socket is at NBNUMBA_SERVER in a folder of /tmp, so that the other user can
    reach it once the test opens its folder (and the socket) to others."""
    as_root_only()
    folder = Path(tempfile.mkdtemp(prefix="nbnumba-test-", dir="/tmp"))
    server = Server(tmp_path / "run", NBNUMBA_SERVER=str(folder / "s.sock"))

    def connect():
        """0: the socket cannot be reached; 1: connected; 2: the server declined."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(10)
        try:
            s.connect(str(server.socket))
        except PermissionError:
            return 0
        reply = s.recv(4096)
        return 2 if reply[:1] == b"D" else 1

    try:
        assert as_other_user(connect) == 0                 # the folder is 0700
        os.chmod(folder, 0o711)
        os.chmod(server.socket, 0o666)
        assert as_other_user(connect) == 2                 # reachable, but the server checks who calls
        assert server.status()["declined"] == {"another user": 1}
    finally:
        server.stop()
        shutil.rmtree(folder)
