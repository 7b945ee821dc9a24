"""nbnumba batch on a shared machine, and its answers to odd input (issue 17):

- the worker processes it starts listen on 127.0.0.1 only, speak TLS with credentials no one
  else holds (a Dask client without them cannot connect, nor one with credentials of its own),
  and serve no HTTP; a --scheduler cluster takes its TLS settings from Dask's configuration;
- no image is lost or mixed up: an image named like the manifest or its lock is refused, a
  second batch into a locked output folder is refused, a job that reads what another job
  writes (an image, the Fdump cache) is refused, and an Fdump cache read from before the batch
  is recorded with its sha256;
- worker processes are capped by cores, memory and jobs, with one line saying so;
- every refused input is one line and exit status 2, never a traceback, and refused within a
  bounded amount of work (line length, job count, plan size; a linear-time line splitter).
"""
import hashlib
import itertools
import json
import os
import random
import re
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest

from golden import cli_env
from nbnumba import NBError, NBWarning, Simulation, memory
from nbnumba.batch import PlanError, execute, manifest, parse_plan, plan, render
from test_batch import FAST, batch, write_hkl

SMALL = "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 16 -pixel 1.6 -seed 1"


@pytest.fixture(autouse=True)
def cpu_kernel(monkeypatch):
    monkeypatch.setenv("NBNUMBA_DEVICE", "cpu")


def one_line(result, code=2):
    """The only stderr line of a refused batch (its exit status `code`, no traceback)."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------- the worker processes

def _listeners(processes):
    """{(pid, host, port)} of the TCP sockets these processes listen on."""
    return {(p.pid, c.laddr.ip, c.laddr.port) for p in processes for c in p.net_connections("inet")
            if c.status == "LISTEN"}


def _handshake(port):
    """The DER certificate a TLS server on 127.0.0.1:port presents to a client that has no
    certificate, and the error the server answers that client's first byte with."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, context.wrap_socket(raw) as tls:
        certificate = tls.getpeercert(binary_form=True)
        try:
            tls.sendall(b"\0" * 8)
            answer = tls.recv(8)
        except (ssl.SSLError, OSError) as err:
            answer = err
    return certificate, answer


def _http_reply(port):
    """What a plain HTTP request to 127.0.0.1:port gets back (b"" for nothing)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        try:
            return s.recv(64)
        except OSError:
            return b""


def test_worker_processes_expose_nothing_another_account_can_use(tmp_path):
    pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    before = _listeners([me] + me.children(recursive=True))
    client = execute._local_cluster(2)
    try:
        client.wait_for_workers(2, timeout=120)
        # the batch's own client runs a job on it
        done = client.submit(execute.worker.run, SMALL.split(), str(tmp_path), pure=False).result()
        assert done["worker"].split(":")[1] != str(os.getpid()) and (tmp_path / "intimage.img").exists()
        listeners = _listeners([me] + me.children(recursive=True)) - before
        # the scheduler and two nannies here, one worker in each worker process
        assert len(listeners) == 5 and len({pid for pid, _, _ in listeners}) == 3
        assert {host for _, host, _ in listeners} == {"127.0.0.1"}
        pem = client.security.tls_scheduler_cert
        ours = ssl.PEM_cert_to_DER_cert(pem)
        for _, _, port in listeners:
            certificate, answer = _handshake(port)
            assert certificate == ours, port                # TLS, with the cluster's own certificate
            assert isinstance(answer, (ssl.SSLError, OSError)) or answer == b"", (port, answer)
            assert not _http_reply(port).startswith(b"HTTP/"), port
        # no HTTP server anywhere: Dask lists none, and none of the listeners above answers HTTP
        info = client.scheduler_info()
        assert info["services"] == {} and [w["services"] for w in info["workers"].values()] == [{}, {}]
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        # another process connects a Client: plain, over TCP, and with credentials of its own
        for how in ("plain", "tcp", "own credentials"):
            intruder = subprocess.run([sys.executable, "-c", INTRUDER, address, how], capture_output=True, text=True,
                                      timeout=300, env=cli_env())
            assert (intruder.returncode, intruder.stdout) == (0, "refused\n"), (how, intruder.stdout, intruder.stderr)
    finally:
        execute._close(client)


# a process without the cluster's credentials tries to run code on it (a fresh process for each
# attempt: a Client that failed to connect leaves Dask unable to make another in its process)
INTRUDER = """
import os, sys, distributed
address, how = sys.argv[1:]
try:
    client = distributed.Client(address.replace("tls://", "tcp://") if how == "tcp" else address, timeout=5,
                                security=distributed.Security.temporary() if how == "own credentials" else None)
except (OSError, TypeError):
    print("refused")
else:
    print("ran as pid", client.run_on_scheduler(os.getpid))
"""


def test_a_scheduler_takes_its_tls_settings_from_dask_configuration(tmp_path):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    security = distributed.Security.temporary()
    files = {}
    for name, pem in (("ca.pem", security.tls_ca_file), ("cert.pem", security.tls_client_cert),
                      ("key.pem", security.tls_client_key)):
        (tmp_path / name).write_text(pem)
        files[name] = str(tmp_path / name)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                       protocol="tls://", security=security)
    try:
        (tmp_path / "p").write_text(SMALL + "\n")
        refused = batch("p", "--outdir", "out", "--scheduler", cluster.scheduler_address, cwd=tmp_path)
        assert one_line(refused).startswith("nbnumba batch: cannot reach the Dask scheduler at "
                                            + cluster.scheduler_address)
        env = dict(cli_env(), DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION="True",
                   DASK_DISTRIBUTED__COMM__TLS__CA_FILE=files["ca.pem"],
                   DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT=files["cert.pem"],
                   DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY=files["key.pem"])
        done = subprocess.run([sys.executable, "-m", "nbnumba", "batch", "p", "--outdir", "out", "--scheduler",
                               cluster.scheduler_address], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0].endswith("1 done, 0 skipped, 0 failed")
    finally:
        cluster.close()


# ---------------------------------------------------------------- no lost or mixed-up images

@pytest.mark.parametrize("name", ["manifest.json", "manifest.json.lock", "./sub/../manifest.json"])
def test_an_image_named_like_the_batchs_own_files_is_refused(tmp_path, name):
    (tmp_path / "p").write_text(f"{SMALL} -nonoise -nopgm\n{SMALL} -nonoise -nopgm -floatfile b.bin -intfile {name}\n")
    result = batch("p", "--outdir", "out", cwd=tmp_path)
    assert one_line(result) == (f"nbnumba batch: p line 2 writes {name}, the batch's own "
                                f"{os.path.basename(name)}: name the image otherwise")
    assert not (tmp_path / "out").exists()


def test_a_second_batch_into_a_locked_folder_is_refused(tmp_path):
    (tmp_path / "p").write_text(SMALL + "\n")
    out = tmp_path / "out"
    held = manifest.lock(str(out))      # as a running batch holds it
    try:
        result = batch("p", "--outdir", "out", cwd=tmp_path)
        assert one_line(result) == (f"nbnumba batch: another nbnumba batch is writing into {out} (it holds "
                                    "manifest.json.lock); wait for it to end, or choose another --outdir")
        assert sorted(p.name for p in out.iterdir()) == ["manifest.json.lock"]
        with pytest.raises(NBError, match="another nbnumba batch is writing into"):
            render([SMALL], outdir=str(out))
    finally:
        os.close(held)
    assert batch("p", "--outdir", "out", cwd=tmp_path).returncode == 0


def test_two_batches_at_once_one_is_refused(tmp_path):
    (tmp_path / "long").write_text("--rotation 0 1 60 " + FAST + "\n")
    (tmp_path / "short").write_text(SMALL + "\n")
    first = batch("long", "--outdir", "out", "--workers", "1", cwd=tmp_path, popen=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "out" / "manifest.json").exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.01)
    first.send_signal(signal.SIGSTOP)           # the first batch holds the lock while the second starts
    try:
        second = batch("short", "--outdir", "out", cwd=tmp_path)
    finally:
        first.send_signal(signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert one_line(second).startswith("nbnumba batch: another nbnumba batch is writing into ")
    entries = json.loads((tmp_path / "out" / "manifest.json").read_text())["jobs"]
    assert len(entries) == 60 and {e["status"] for e in entries} == {"done"}


def test_a_job_reading_the_fdump_another_job_writes_is_refused(tmp_path):
    write_hkl(tmp_path)
    (tmp_path / "p").write_text(f"# an HKL job, then one that would read its Fdump.bin\n"
                                f"{SMALL} -hkl tiny.hkl -floatfile a.bin -intfile a.img -nonoise -nopgm\n"
                                f"{SMALL} -floatfile b.bin -intfile b.img -nonoise -nopgm\n")
    result = batch("p", "--outdir", "out", cwd=tmp_path)
    assert one_line(result) == ("nbnumba batch: p line 3 reads out/Fdump.bin, which p line 2 writes: its image "
                                "would depend on which runs first (give each its own -dump, or run them as two "
                                "batches)")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("lines, message", [
    # -dump names are taken from the folder the batch starts in, Fdump.bin from the output folder
    (["-hkl tiny.hkl -dump f.bin", "-dump f.bin"], "p line 2 reads f.bin, which p line 1 writes"),
    (["-floatfile x.img", "-img out/x.img"], "p line 2 reads out/x.img, which p line 1 writes"),
    (["-hkl tiny.hkl", "-intfile Fdump.bin"], "p line 1 and p line 2 both write out/Fdump.bin"),
])
def test_jobs_that_depend_on_each_others_files_are_refused(tmp_path, monkeypatch, lines, message):
    write_hkl(tmp_path)
    monkeypatch.chdir(tmp_path)
    text = "".join(f"{SMALL} -floatfile f{i}.bin -intfile i{i}.img -nonoise -nopgm {line}\n"
                   for i, line in enumerate(lines))
    with pytest.raises(PlanError) as err:
        execute.Batch(parse_plan(text, "p"), outdir=str(tmp_path / "out"), source="p")
    assert err.value.message.startswith(message)


def test_jobs_with_their_own_fdump_or_sharing_an_hkl_file_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_hkl(tmp_path)
    jobs = parse_plan(f"--rotation 0 1 3 {SMALL} -hkl tiny.hkl\n{SMALL} -floatfile a.bin -intfile a.img "
                      "-dump own.bin -nonoise -nopgm\n", "p")
    results = render(jobs, outdir="out")
    assert [r.status for r in results] == ["done"] * 4
    assert (tmp_path / "out" / "Fdump.bin").exists() and not (tmp_path / "own.bin").exists()


def test_an_fdump_there_before_the_batch_is_recorded_and_read_as_alone(tmp_path):
    write_hkl(tmp_path)
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "tiny.hkl").write_bytes((tmp_path / "tiny.hkl").read_bytes())
    subprocess.run([sys.executable, "-m", "nbnumba", *SMALL.split(), "-hkl", "tiny.hkl"], cwd=alone, check=True,
                   env=cli_env(), capture_output=True, timeout=300)
    dump = (alone / "Fdump.bin").read_bytes()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "Fdump.bin").write_bytes(dump)
    (tmp_path / "p").write_text(f"{SMALL} -default_F 0 -phi 1 -floatfile a.bin -intfile a.img -nonoise -nopgm\n")
    result = batch("p", "--outdir", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entry, = json.loads((tmp_path / "out" / "manifest.json").read_text())["jobs"]
    assert entry["fdump"] == str(tmp_path / "out" / "Fdump.bin")
    assert entry["fdump_sha256"] == hashlib.sha256(dump).hexdigest()
    subprocess.run([sys.executable, "-m", "nbnumba", *entry["args"]], cwd=alone, check=True, env=cli_env(),
                   capture_output=True, timeout=300)
    for name in ("a.bin", "a.img"):
        assert (tmp_path / "out" / name).read_bytes() == (alone / name).read_bytes(), name


# ---------------------------------------------------------------- how many worker processes

def test_workers_are_capped_by_cores_memory_and_jobs(monkeypatch):
    lines = []
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(4)))
    monkeypatch.setattr(memory, "available_memory", lambda: 64 * 2**30)
    assert execute.capped_workers(20, 100, lines.append) == 4
    assert execute.capped_workers(3, 2, lines.append) == 2          # never more than the jobs, silently
    monkeypatch.setattr(memory, "available_memory", lambda: 3 * 2**30 // 2)
    assert execute.capped_workers(4, 100, lines.append) == 3
    monkeypatch.setattr(memory, "available_memory", lambda: 100 * 2**20)
    assert execute.capped_workers(2, 100, lines.append) == 1
    assert lines == ["20 worker processes are more than this machine runs well: 4 (4 cores)",
                     "4 worker processes are more than this machine runs well: 3 (1.5 GiB of memory available "
                     "(about 512 MiB each))",
                     "2 worker processes are more than this machine runs well: 1 (0.1 GiB of memory available "
                     "(about 512 MiB each))"]


def test_render_says_when_it_caps_the_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    with pytest.warns(NBWarning, match=r"^3 worker processes are more than this machine runs well: 1 \(1 core\)$"):
        results = render([SMALL + " -phi %d" % phi for phi in range(2)], workers=3)
    assert {r.worker for r in results} == {"%s:%d" % (socket.gethostname(), os.getpid())}


def test_twenty_workers_for_ten_frames_on_two_cores(tmp_path):
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs 2 cores")
    pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    (tmp_path / "p").write_text("--rotation 0 1 10 " + SMALL + "\n")
    argv = [sys.executable, "-m", "nbnumba", "batch", "p", "--workers", "20"]
    result = subprocess.run(argv, cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=300,
                            preexec_fn=lambda: os.sched_setaffinity(0, cores[:2]))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("nbnumba batch: 20 worker processes are more than this machine runs well: ")
    workers = {e["worker"] for e in json.loads((tmp_path / "manifest.json").read_text())["jobs"]}
    assert 1 <= len(workers) <= 2
    assert result.stdout.splitlines()[0].endswith("10 done, 0 skipped, 0 failed")


def test_one_job_never_starts_a_worker_process(tmp_path):
    (tmp_path / "p").write_text(SMALL + "\n")
    proc = batch("p", "--workers", "2", cwd=tmp_path, popen=True)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "nbnumba batch: 1 jobs from p, in this process, into " + str(tmp_path) in err.splitlines()
    entry, = json.loads((tmp_path / "manifest.json").read_text())["jobs"]
    assert entry["worker"] == "%s:%d" % (socket.gethostname(), proc.pid)


@pytest.mark.parametrize("keyword, value", [("retries", -1), ("workers", -3), ("workers", 0), ("workers", 1.5),
                                            ("retries", True)])
def test_render_refuses_counts_that_are_not_whole(tmp_path, keyword, value):
    with pytest.raises(ValueError, match=f"^{keyword} must be a whole number of at least "):
        render([SMALL], outdir=str(tmp_path), **{keyword: value})
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- one line for odd input

def test_a_plan_that_is_not_utf8(tmp_path):
    (tmp_path / "p").write_bytes(SMALL.encode() + b"\n" + SMALL.encode() + b" -floatfile \xff.bin\n")
    result = batch("p", cwd=tmp_path)
    assert one_line(result) == "nbnumba batch: p line 2 is not UTF-8 text (byte 0xff); a plan is UTF-8 text"


@pytest.mark.parametrize("text, message", [
    ("[]", "{manifest} is not a batch manifest"),
    ("null", "{manifest} is not a batch manifest"),
    ('{"jobs": 5}', "{manifest} is not a batch manifest"),
    ("{not json", "{manifest} is not a batch manifest"),
    ('{"jobs": [{"args": ["-N", 5], "status": "done"}]}', "job 1 of {manifest} is not a batch job"),
    ('{"jobs": [{"args": ["-N"]}, {"args": [["-N"]], "status": "done"}]}', "job 2 of {manifest} is not a batch job"),
    ('{"jobs": [{"args": ["-N"], "outputs": {"int": 5}}]}', "job 1 of {manifest} is not a batch job"),
])
def test_resume_with_a_manifest_of_the_wrong_shape(tmp_path, text, message):
    (tmp_path / "p").write_text(SMALL + "\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text(text)
    result = batch("p", "--outdir", "out", "--resume", cwd=tmp_path)
    line = one_line(result)
    assert line.startswith("nbnumba batch: --resume: " + message.format(manifest=tmp_path / "out" / "manifest.json"))
    assert (tmp_path / "out" / "manifest.json").read_text() == text
    assert not (tmp_path / "out" / "intimage.img").exists()


@pytest.mark.parametrize("seed", ["\u0661", "\u00b2", "-1", "1e3"])
def test_a_seed_that_is_not_ascii_digits(tmp_path, seed):
    (tmp_path / "p").write_text(f"--random-orientations 2 --seed {seed} {SMALL}\n", encoding="utf-8")
    result = batch("p", cwd=tmp_path)
    assert one_line(result) == f"nbnumba batch: p line 1: --seed needs a whole number of at least 0, not '{seed}'"


def test_a_batch_started_in_a_deleted_folder(tmp_path):
    (tmp_path / "p").write_text(SMALL + "\n")
    gone = tmp_path / "gone"
    gone.mkdir()
    argv = [sys.executable, "-m", "nbnumba", "batch", str(tmp_path / "p"), "--outdir", str(tmp_path / "out")]
    proc = subprocess.Popen(argv, cwd=gone, env=cli_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: os.rmdir(gone))
    out, err = proc.communicate(timeout=300)
    assert not gone.exists()
    line = one_line(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    assert line == ("nbnumba batch: cannot find the current folder (No such file or directory): was it deleted? "
                    "The jobs read their files from it")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("word, what", [("-h", "help"), ("--help", "help"), ("-help", "help"),
                                        ("--version", "version")])
def test_a_line_that_renders_nothing_is_refused(tmp_path, word, what):
    (tmp_path / "p").write_text(f"{SMALL}\n{SMALL} -floatfile b.bin {word}\n")
    result = batch("p", "--outdir", "out", cwd=tmp_path)
    assert one_line(result) == (f"nbnumba batch: p line 2: {word} prints the {what} and renders nothing; remove "
                                "it from the batch")
    with pytest.raises(PlanError, match="^p line 1: -h prints the help"):
        parse_plan(f"--rotation 0 1 2 {SMALL} -h", "p")
    with pytest.raises(PlanError, match="^job 2: --version prints the version"):
        render([SMALL, SMALL + " --version"])


def test_from_args_takes_str_or_a_sequence_of_str():
    with pytest.raises(TypeError, match="^from_args takes a string or a sequence of strings, not bytes$"):
        Simulation.from_args(SMALL.encode())
    with pytest.raises(TypeError, match="^from_args takes a string or a sequence of strings, not list$"):
        Simulation.from_args(["-N", 5])
    assert Simulation.from_args(tuple(SMALL.split())).setup().options.Na == 5


# ---------------------------------------------------------------- bounded work

def test_a_long_line_is_refused_before_it_is_split(monkeypatch):
    def split_line(line):
        raise AssertionError("split a line of %d characters" % len(line))
    monkeypatch.setattr(plan, "split_line", split_line)
    with pytest.raises(PlanError) as err:
        parse_plan("-default_F 1 '" + "x" * (2 * 2**20) + "'\n", "p")
    assert err.value.message == "p line 1 is longer than 65536 characters"


def test_a_two_megabyte_line_and_a_huge_plan(tmp_path):
    (tmp_path / "long").write_text(SMALL + " -floatfile '" + "x" * (2 * 2**20) + "'\n")
    assert one_line(batch("long", cwd=tmp_path)) == "nbnumba batch: long line 1 is longer than 65536 characters"
    with open(tmp_path / "huge", "wb") as f:
        f.truncate(plan.MAX_PLAN_BYTES + 1)         # NUL bytes: valid UTF-8, too many of them
    assert one_line(batch("huge", cwd=tmp_path)) == "nbnumba batch: huge is larger than 64 MiB; split it into batches"


def test_a_hundred_thousand_identical_lines_are_read_once(tmp_path, monkeypatch):
    (tmp_path / "p").write_text((SMALL + "\n") * 100000)
    assert one_line(batch("p", cwd=tmp_path)) == "nbnumba batch: p line 1 and p line 2 both write floatimage.bin"
    reads = []
    real_read = plan._read
    monkeypatch.setattr(plan, "_read", lambda args: reads.append(args) or real_read(args))
    jobs = parse_plan((SMALL + "\n") * 1000, "p")
    assert len(jobs) == 1000 and len(reads) == 1 and jobs[999].line == 1000 and jobs[999] is not jobs[0]


def test_more_jobs_than_a_batch_holds(tmp_path):
    with pytest.raises(PlanError) as err:
        parse_plan(f"--rotation 0 1 100001 {SMALL}", "p")
    assert err.value.message == "p line 1: the count must be a whole number from 1 to 100000, not '100001'"
    (tmp_path / "p").write_text(f"--rotation 0 1 60000 {SMALL}\n--rotation 0 1 60000 {SMALL} -intfile b.img\n")
    assert one_line(batch("p", cwd=tmp_path)) == ("nbnumba batch: p line 2: the plan has more than 100000 jobs; "
                                                  "split it into batches, each with its own --outdir")


def test_lines_split_as_shlex_splits_them():
    alphabet = ["a", "b", " ", "\t", "'", '"', "\\", "#", "\r"]

    def both(line):
        answers = []
        for split in (lambda text: shlex.split(text, comments=True), plan.split_line):
            try:
                answers.append(split(line))
            except ValueError as err:
                answers.append(str(err))
        return answers

    rng = random.Random(17)
    lines = ["".join(t) for n in range(5) for t in itertools.product(alphabet, repeat=n)]
    lines += ["".join(rng.choice(alphabet) for _ in range(rng.randint(5, 24))) for _ in range(20000)]
    for line in lines:
        mine, theirs = both(line)
        assert mine == theirs, repr(line)
    assert plan.split_line('-floatfile "a b\\"c\\d" x\\ y \'\' z#c d') == ['-floatfile', 'a b"c\\d', 'x y', '', 'z']


def test_security_doc_cites_real_tests():
    """Every test docs/security.md names (`test_...`, or `test_file.py::test_...`) exists."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "docs", "security.md")) as f:
        cited = set(re.findall(r"`(?:\w+\.py::)?(test_\w+)`", f.read()))
    defined = set()
    for name in os.listdir(os.path.join(root, "tests")):
        if name.endswith(".py"):
            with open(os.path.join(root, "tests", name)) as f:
                defined.update(re.findall(r"^def (test_\w+)\(", f.read(), re.M))
    assert len(cited) >= 10 and cited <= defined, sorted(cited - defined)
