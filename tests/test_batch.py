"""nbnumba batch: plans and their generators, a rotation series on a Dask LocalCluster of two
worker processes (every frame byte for byte the frame rendered alone by `python -m nbnumba`,
also when a worker is killed mid-series), --resume, an interrupted series resumed, a failed
job reported without stopping the others, and the Python API's arrays.

The Dask tests need `dask[distributed]` (the `batch` extra, which CI installs) and skip
without it; the command's default on this kind of machine renders in its own process.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from golden import CPU, cli_env
from nbnumba import Simulation
from nbnumba.batch import PlanError, parse_plan, random_orientations, render, rotation_series
from nbnumba.batch.plan import job

FAST = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 64 -pixel 0.4 "
        "-seed 1")
# about 0.15 s a frame on one thread: workers are still busy when one is killed
SERIES = ("-hkl tiny.hkl -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 96 -pixel 0.3 "
          "-oversample 4 -phisteps 20 -seed 1")
FRAMES = 6



def write_hkl(folder):
    lines = ["%d %d %d %g" % (h, k, l, 10 + abs(h) + 2 * abs(k) + 3 * abs(l))
             for h in range(-4, 5) for k in range(-4, 5) for l in range(-4, 5)]
    (folder / "tiny.hkl").write_text("\n".join(lines) + "\n")


def batch(*args, cwd, **popen):
    """`python -m nbnumba batch ARGS` in cwd: the finished process, or with popen a Popen."""
    argv = [sys.executable, "-m", "nbnumba", "batch", *map(str, args)]
    if popen:
        return subprocess.Popen(argv, cwd=cwd, env=cli_env(), text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    return subprocess.run(argv, cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=300)


def outputs(folder, job_entry):
    return {name: (folder / name).read_bytes() for name in job_entry.outputs.values()}


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """The series' frames, each rendered alone by `python -m nbnumba FRAME-ARGS` in its own
    folder: {frame: {file name: bytes}}."""
    root = tmp_path_factory.mktemp("alone")
    write_hkl(root)
    frames = {}
    for j in rotation_series(SERIES, 0, 0.5, FRAMES):
        folder = root / str(j.frame)
        folder.mkdir()
        (folder / "tiny.hkl").write_bytes((root / "tiny.hkl").read_bytes())
        subprocess.run([sys.executable, "-m", "nbnumba", *j.args], cwd=folder, env=cli_env(), check=True,
                       capture_output=True, timeout=300)
        frames[j.frame] = outputs(folder, j)
    return frames


@pytest.fixture
def cluster(monkeypatch):
    """A Dask Client of a LocalCluster of two worker processes of one Numba thread each."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")        # the workers' environment, at their start
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


# ---------------------------------------------------------------- plans and generators

def test_a_rotation_frame_is_the_base_with_its_phi_names_and_seed():
    jobs = parse_plan("# a series\n\n--rotation 10 0.1 3 -default_F 100 -N 5 -intfile s.img -nopgm  # frames\n",
                      "p")
    assert [(j.line, j.frame, j.info["phi"]) for j in jobs] == [(3, 1, "10"), (3, 2, "10.1"), (3, 3, "10.2")]
    assert jobs[2].args == ["-default_F", "100", "-N", "5", "-intfile", "s.img", "-nopgm",
                            "-floatfile", "floatimage_00003.bin", "-intfile", "s_00003.img",
                            "-noisefile", "noiseimage_00003.img", "-seed", "309580411", "-phi", "10.2", "-osc", "0.1"]
    assert jobs[2].outputs == {"float": "floatimage_00003.bin", "int": "s_00003.img", "noise": "noiseimage_00003.img"}
    # the noise seeds are row i of default_rng(--seed): the same with a longer series, other with another seed
    longer = rotation_series("-default_F 100 -N 5 -nopgm -intfile s.img", 10, "0.1", 4)
    assert [j.info["seed"] for j in longer[:3]] == [1099128569, 2041105244, 309580411]
    assert rotation_series("-default_F 100", 0, 1, 1, seed=2)[0].info["seed"] != 1099128569
    # a base with -seed keeps it; one without noise needs none
    assert "-seed" not in rotation_series("-default_F 100 -nonoise", 0, 1, 2)[1].args
    kept = rotation_series(FAST, 0, 1, 2)[1].args
    assert kept.count("-seed") == 1 and kept[kept.index("-seed") + 1] == "1"


def test_an_ensemble_frame_ends_with_the_cs_random_orientation():
    jobs = random_orientations(FAST + " -nopgm -nonoise", 2, seed=1)
    assert jobs[1].args[-4:] == ["-misset", "random", "-misset_seed", "1621709874"]
    assert jobs[1].outputs == {"float": "floatimage_00002.bin", "int": "intimage_00002.img"}
    assert [j.info["misset_seed"] for j in parse_plan("--random-orientations 2 --seed 1 " + FAST)] == [
        1016164991, 1621709874]


@pytest.mark.parametrize("plan, message", [
    ("--spin 3 -default_F 1", "p line 1: unknown option --spin"),
    ("--rotation 0 1", "p line 1: --rotation needs 3 values, once"),
    ("--rotation 0 x 3 -default_F 1", "p line 1: 'x' is not a number"),
    ("--rotation 0 1 0 -default_F 1", "the count must be a whole number from 1 to 100000, not '0'"),
    ("--rotation 0 1 2 --random-orientations 2 -default_F 1", "cannot share a line"),
    ("--seed 3 -default_F 1", "p line 1: --seed goes with --rotation or --random-orientations"),
    ("--rotation 0 1 2 -default_F 1 -misset random", "-misset random needs -misset_seed in a rotation series"),
    ("--rotation 0 1 2 -default_F 1 -device gpu", "p line 1: ERROR: device must be one of auto, cpu, cuda"),
    ("-default_F 1 'open", "p line 1: No closing quotation"),
])
def test_plans_refused_name_their_line(plan, message):
    with pytest.raises(PlanError) as err:
        parse_plan(plan, "p")
    assert message in err.value.message and err.value.code == 2


def test_two_jobs_writing_one_file_are_refused(tmp_path):
    (tmp_path / "plan").write_text("-default_F 1 -N 1 -detpixels 8\n-default_F 2 -N 1 -detpixels 8 -floatfile b.bin\n")
    result = batch("plan", "--outdir", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "nbnumba batch: plan line 1 and plan line 2 both write intimage.img"
    assert not (tmp_path / "out").exists()


def test_input_files_are_read_from_where_the_batch_starts(tmp_path):
    j = job(["-hkl", "in.hkl", "-mat", "/abs/a.mat", "-default_F", "1", "-floatfile", "f.bin"])
    assert j.run_args(str(tmp_path), str(tmp_path)) == j.args
    moved = j.run_args(str(tmp_path), str(tmp_path / "out"))
    assert moved == ["-hkl", str(tmp_path / "in.hkl"), "-mat", "/abs/a.mat", "-default_F", "1", "-floatfile", "f.bin"]


# ---------------------------------------------------------------- on Dask workers

def test_rotation_series_on_two_workers_is_every_frame_alone(cluster, alone, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_hkl(tmp_path)                                 # read from here, written to frames/
    results = render(rotation_series(SERIES, 0, 0.5, FRAMES), outdir="frames", client=cluster, settings=CPU)
    assert [r.status for r in results] == ["done"] * FRAMES
    assert len({r.worker for r in results}) == 2
    for r in results:
        assert outputs(tmp_path / "frames", r.job) == alone[r.job.frame], r.job.frame
        header = (tmp_path / "frames" / r.job.outputs["int"]).read_bytes()[:512]
        assert b"PHI=%s;" % r.job.info["phi"].encode() in header
    manifest = json.loads((tmp_path / "frames" / "manifest.json").read_text())
    assert manifest["counts"] == {"done": FRAMES, "skipped": 0, "failed": 0, "pending": 0}
    assert [e["args"] for e in manifest["jobs"]] == [r.args for r in results]
    assert results[0].args[1] == str(tmp_path / "tiny.hkl")


def test_a_worker_killed_mid_series_loses_no_frame(cluster, alone, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_hkl(tmp_path)
    killed = []

    def kill_a_busy_worker(result):         # at the first frame done: SIGKILL a worker holding frames
        if not killed:
            victim, held = max(cluster.processing().items(), key=lambda item: len(item[1]))
            pid = cluster.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)
            killed.append((pid, len(held)))

    results = render(rotation_series(SERIES, 0, 0.5, FRAMES), outdir="frames", client=cluster,
                     on_result=kill_a_busy_worker, settings=CPU)
    (pid, held), = killed
    assert held >= 1 and [r.status for r in results] == ["done"] * FRAMES
    for r in results:
        assert outputs(tmp_path / "frames", r.job) == alone[r.job.frame], r.job.frame


# ---------------------------------------------------------------- the command

def test_resume_skips_every_complete_image(tmp_path):
    (tmp_path / "s.plan").write_text("--rotation 0 0.5 4 " + FAST + "\n")
    first = batch("s.plan", "--outdir", "out", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].endswith("4 done, 0 skipped, 0 failed")
    files = {p.name: p.stat() for p in (tmp_path / "out").iterdir() if not p.name.startswith("manifest.json")}
    assert len(files) == 16
    again = batch("s.plan", "--outdir", "out", "--resume", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].endswith("0 done, 4 skipped, 0 failed")
    for name, before in files.items():
        after = (tmp_path / "out" / name).stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), name
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"]["skipped"] == 4


def interrupted(plan, cwd):
    """`nbnumba batch PLAN` in cwd, sent SIGINT once its third noise image is there: its
    (stdout, stderr), once it has died of the signal."""
    proc = batch(plan, cwd=cwd, popen=True)
    deadline = time.monotonic() + 120
    while not (cwd / "noiseimage_00003.img").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGINT, err
    return out, err


def test_an_interrupted_series_resumes_where_it_stopped(alone, tmp_path):
    write_hkl(tmp_path)
    (tmp_path / "s.plan").write_text("--rotation 0 0.5 30 " + SERIES + "\n")
    out, err = interrupted("s.plan", tmp_path)
    assert "nbnumba batch: interrupted:" in out and "(--resume continues)" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    done = [e for e in manifest["jobs"] if e["status"] == "done"]
    assert len(done) >= 3 and manifest["counts"]["pending"] >= 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    resumed = batch("s.plan", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[0].endswith(
        "%d done, %d skipped, 0 failed" % (30 - len(done), len(done)))
    for j in rotation_series(SERIES, 0, 0.5, FRAMES):
        assert outputs(tmp_path, j) == alone[j.frame], j.frame


def test_a_failed_job_is_reported_and_the_others_complete(tmp_path):
    (tmp_path / "p").write_text("%s -floatfile a.bin -intfile a.img -nonoise -nopgm\n"
                                "%s -hkl missing.hkl -dump b.dump -floatfile b.bin -intfile b.img -nonoise -nopgm\n"
                                "%s -floatfile c.bin -intfile c.img -nonoise -nopgm\n" % (FAST, FAST, FAST))
    result = batch("p", "--outdir", "out", "--retries", "1", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith("2 done, 0 skipped, 1 failed")
    assert lines[1].startswith("failed: p line 2: ") and "missing.hkl" in lines[1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.bin", "a.img", "c.bin", "c.img",
                                                                     "manifest.json", "manifest.json.lock"]
    entry = json.loads((tmp_path / "out" / "manifest.json").read_text())["jobs"][1]
    assert entry["status"] == "failed" and "missing.hkl" in entry["lines"][-1]


# ---------------------------------------------------------------- from Python

def test_without_an_outdir_the_images_come_back_as_arrays(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    jobs = [FAST + " -phi %d" % phi for phi in (0, 3)]
    results = render(jobs, settings=CPU)
    assert list(tmp_path.iterdir()) == []
    for r, args in zip(results, jobs):
        alone = Simulation.from_args(args, settings=CPU).run()
        assert r.status == "done" and r.paths is None
        assert np.array_equal(r.arrays["float"].view(np.uint32), alone.image.view(np.uint32))
        assert np.array_equal(r.arrays["noise"], alone.noiseimage)


def test_ensemble_records_the_misset_the_c_draws(tmp_path):
    results = render(random_orientations(FAST + " -nonoise -nopgm", 2, seed=1), outdir=tmp_path, settings=CPU)
    # nanoBragg.c prints for -misset random -misset_seed 1016164991 and 1621709874 (%f: 6 decimals)
    assert [[round(x, 6) for x in r.misset] for r in results] == [[84.316203, -26.704995, -115.965618],
                                                                   [3.083337, 1.858093, -8.391605]]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [e["misset_deg"] for e in manifest["jobs"]] == [r.misset for r in results]
    assert [e["misset_seed"] for e in manifest["jobs"]] == [1016164991, 1621709874]


def test_import_stays_light():
    code = "import sys, nbnumba.batch; print(sorted({'numba', 'distributed', 'dask'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(),
                          check=True).stdout == "[]\n"
