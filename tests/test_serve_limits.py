"""A served run keeps to its client's constraints (docs/security.md): every file it touches is
opened by the client (command/broker.py), the client's file-size and memory limits, umask and
CPUs are taken on for the run, and a client limited or confined otherwise is not served.

Each test runs the same command through a server and in-process and compares exit code,
stdout, stderr and files, and checks from the server's status that it did (or did not) run
the job.  Shell constraints (`ulimit`, `nice`, `taskset`, `umask`) are set by `sh -c`; the
Landlock one by tests/landlocked.py.
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import golden
from oddenv import OUTPUTS, SMALL, stderr_lines
from test_serve import LONG, TIMEOUT, Server, environment, nbnumba, wait_for_progress, wait_until

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("run"), "--workers", "2")
    yield s
    s.stop()


def shell(script, args, folder, env):
    """`sh -c SCRIPT sh NBNUMBA ARGS...` in folder: (exit code, stdout, stderr, {file: bytes})."""
    folder.mkdir(parents=True, exist_ok=True)
    before = set(os.listdir(folder))
    p = subprocess.run(["sh", "-c", script, "sh", sys.executable, "-m", "nbnumba", *map(str, args)], cwd=folder,
                       env=env, capture_output=True, text=True, errors="replace", timeout=TIMEOUT)
    files = {name: (folder / name).read_bytes() for name in sorted(set(os.listdir(folder)) - before)}
    return p.returncode, p.stdout, p.stderr, files


def served_and_alone(server, tmp_path, script, args=SMALL, served=True):
    """The run through the server and in-process, which must be the same; the served one.
    served: whether the server must run it (False: it declines, the client runs it)."""
    done, declined = server.status()["done"], sum(server.status()["declined"].values())
    through = shell(script, args, tmp_path / "served", server.env)
    status = server.status()
    assert status["done"] == done + served, status
    assert sum(status["declined"].values()) == declined + (not served), status
    alone = shell(script, args, tmp_path / "alone", dict(server.env, NBNUMBA_SERVER="off"))
    assert through[:3] == alone[:3]
    assert through[3] == alone[3]
    return through


def test_descriptor_names_mean_the_clients_descriptors(server, tmp_path):
    """`-hkl <(cat FILE)` reads the client's pipe; `-floatfile /dev/fd/4 4>four.bin` writes the
    file the client opened as its fd 4."""
    for folder in ("served", "alone"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "cubic.hkl").write_bytes((golden.INPUTS / "cubic.hkl").read_bytes())
    script = 'exec bash -c \'"$@" -hkl <(cat cubic.hkl) -floatfile /dev/fd/4 4>four.bin\' bash "$@"'
    rc, _, stderr, files = served_and_alone(server, tmp_path, script, SMALL[2:])
    assert rc == 0, stderr
    assert sorted(files) == ["Fdump.bin", "four.bin", "image.pgm", "intimage.img", "noiseimage.img"]
    assert len(files["four.bin"]) == 4 * 64 * 64


def test_a_file_size_limit_is_the_clients(server, tmp_path):
    rc, _, stderr, files = served_and_alone(server, tmp_path, 'ulimit -f 8; exec "$@"')
    assert rc == 9 and files == {}
    assert stderr_lines(stderr) == ["ERROR: unable to write floatimage.bin: File too large"]


def test_a_memory_limit_is_the_clients(server, tmp_path):
    args = "-default_F 1 -cell 100 100 100 90 90 90 -N 1 -detpixels 30000 -roi 0 1 0 1 -nonoise -nopgm".split()
    rc, _, stderr, files = served_and_alone(server, tmp_path, 'ulimit -v 3000000; exec "$@"', args)
    assert rc == 9 and files == {}
    assert stderr_lines(stderr)[-1].startswith("ERROR: the image does not fit in memory")


def test_the_umask_is_the_clients(server, tmp_path):
    rc, _, _, files = served_and_alone(server, tmp_path, 'umask 077; exec "$@"')
    assert rc == 0 and sorted(files) == sorted(OUTPUTS)
    for name in OUTPUTS:
        assert (tmp_path / "served" / name).stat().st_mode & 0o777 == 0o600


def test_another_nice_value_runs_in_process(server, tmp_path):
    rc, _, _, _ = served_and_alone(server, tmp_path, 'exec nice -n 5 "$@"', served=False)
    assert rc == 0
    nice = os.getpriority(os.PRIO_PROCESS, 0)           # the server's, as it was started from here
    assert server.status()["declined"]["nice %d differs from the server's %d" % (nice + 5, nice)] >= 1


def test_a_lower_limit_of_another_kind_runs_in_process(server, tmp_path):
    rc, _, _, _ = served_and_alone(server, tmp_path, 'ulimit -n 512; exec "$@"', served=False)
    assert rc == 0
    assert any(reason.startswith("RLIMIT_NOFILE differs") for reason in server.status()["declined"])


def test_the_cpus_are_the_clients(server, tmp_path):
    """Under `taskset -c 0`, every thread of the render process runs on CPU 0 during the job,
    and on its own CPUs again afterwards."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs")

    def allowed(pid):
        lists = set()
        for tid in os.listdir("/proc/%d/task" % pid):
            status = Path("/proc/%d/task/%s/status" % (pid, tid)).read_text()
            lists.add(next(line.split()[1] for line in status.splitlines() if line.startswith("Cpus_allowed_list")))
        return lists

    proc = subprocess.Popen(["taskset", "-c", str(cpus[0]), sys.executable, "-m", "nbnumba", *LONG], cwd=tmp_path,
                            env=server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_progress(proc)
        busy = [w["pid"] for w in server.status()["workers"] if w["busy"]]
        assert len(busy) == 1
        during = allowed(busy[0])
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert during == {str(cpus[0])}
    wait_until(lambda: server.status()["running"] == 0, what="the job to end")
    assert allowed(busy[0]) == allowed(server.pid) != during


def test_a_landlocked_client_reaches_only_its_files(server, tmp_path):
    """Landlock confines a process invisibly (no /proc field tells), so the server cannot see
    it: the client itself opens the run's files, and is refused where in-process it would be."""
    landlocked = [sys.executable, str(HERE / "landlocked.py")]
    if subprocess.run(landlocked + ["--", "true"]).returncode == 97:
        pytest.skip("this kernel has no Landlock")
    # what the in-process run writes besides the run's files: Numba's cache, its lock in /dev/shm
    package = "%s /dev/shm" % Path(golden.__file__).resolve().parents[1]
    for folder in ("served", "alone"):
        (tmp_path / folder / "denied").mkdir(parents=True)
        (tmp_path / folder / "ok").mkdir()
    script = 'cd ok && exec %s %s "$PWD" %s -- "$@"' % (*landlocked, package)
    rc, _, stderr, files = served_and_alone(server, tmp_path, script, SMALL + ["-floatfile", "../denied/float.bin"])
    assert rc == 9 and files == {}
    assert stderr_lines(stderr) == ["ERROR: unable to write ../denied/float.bin: Permission denied"]
    assert os.listdir(tmp_path / "served" / "denied") == [] and os.listdir(tmp_path / "served" / "ok") == []


def test_the_folder_is_the_one_the_client_is_in(server, tmp_path):
    """Renamed during the run, with a link to another folder in its place: the images go to the
    client's folder, under its new name, never through the link."""
    victim, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    victim.mkdir()
    elsewhere.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "nbnumba", *LONG[:-2], "-phisteps", "4", "-seed", "1"],
                            cwd=victim, env=server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_progress(proc)
        victim.rename(tmp_path / "moved")
        victim.symlink_to(elsewhere)
        proc.stdout.read()
        assert proc.wait(timeout=TIMEOUT) == 0, proc.stderr.read()
    finally:
        proc.kill()
    assert os.listdir(elsewhere) == []
    assert sorted(os.listdir(tmp_path / "moved")) == sorted(OUTPUTS)


def test_status_into_a_closed_pipe(server, tmp_path):
    p = subprocess.run(["sh", "-c", '"$@" | head -1', "sh", sys.executable, "-m", "nbnumba", "serve", "--status"],
                       cwd=tmp_path, env=server.env, capture_output=True, text=True, timeout=TIMEOUT)
    assert p.stdout.startswith("nbnumba server: pid ") and p.stdout.count("\n") == 1
    assert p.stderr == ""


def test_more_workers_than_the_machine_runs_well(tmp_path):
    """--workers 1000 on a small machine: one line says how many, and they start as jobs come."""
    runtime = tmp_path / "run"
    runtime.mkdir()
    env = environment(runtime)
    p = nbnumba(["serve", "--device", "cpu", "--workers", "1000"], runtime, env)
    try:
        assert p.returncode == 0, p.stderr
        cap = p.stderr.splitlines()
        assert len(cap) == 1 and cap[0].startswith("nbnumba serve: --workers 1000 is more than this machine runs "
                                                   "well: ")
        status = json.loads(nbnumba(["serve", "--status", "--json"], runtime, env).stdout)
        assert status["max_workers"] <= len(os.sched_getaffinity(0))
        assert len(status["workers"]) == 1
    finally:
        nbnumba(["serve", "--stop"], runtime, env)


def test_messages_that_are_not_jobs_leave_the_server_serving(server, tmp_path):
    """Bodies of the wrong shape from the user's own processes: each is declined or dropped,
    and the server goes on serving."""
    import socket
    bodies = [b"J[1, 2]", b'J{"argv": 5}', b"Jnull", b'J{"argv": [], "fds": [[1]], "env": {}, "digest": "", '
              b'"process_env": {}, "context": {}, "limits": {"rlimits": {"RLIMIT_AS": ["x", 1]}}}', b"C[]", b"S5"]
    for body in bodies:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(10)
        s.connect(str(server.socket))
        s.send(body)
        try:
            s.recv(4096)            # a DECLINED, a REPORT, or the end of the connection
        except OSError:
            pass
        s.close()
    done = server.status()["done"]
    rc, _, _, files = shell('exec "$@"', SMALL, tmp_path, server.env)
    assert rc == 0 and sorted(files) == sorted(OUTPUTS)
    assert server.status()["done"] == done + 1
