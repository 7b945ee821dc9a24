"""nbnumba batch's data sets (issue 18): a rotation series with -nexusfile is ONE NXmx file of
all its frames, each the data image the frame's own command renders alone, at the angle
that command's own NeXus file gives it (read back with the `nxmx` reader); written as the
frames complete, by this process and from two Dask workers; readable after an interrupt
with the finished frames flagged, and continued by --resume without rendering them again;
rebuilt when it is not the series.  The other data sets are numbered per frame
(series_00001.cbf, which fabio reads).  The refusals are one line.
"""
import json
import os

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")
nxmx = pytest.importorskip("nxmx")
fabio_cbf = pytest.importorskip("fabio.cbfimage")

from golden import CPU  # noqa: E402
from nbnumba import Simulation  # noqa: E402
from nbnumba.batch import parse_plan, random_orientations, render, rotation_series  # noqa: E402
from nbnumba.io.images import read_smv  # noqa: E402
from test_batch import FAST, SERIES, batch, cluster, interrupted, write_hkl  # noqa: E402,F401  (cluster: a fixture)
from test_batch_safety import one_line  # noqa: E402
from test_datasets import dxtbx_models  # noqa: E402

NEXUS = FAST + " -nexusfile series.h5 -cbffile series.cbf"
COUNT = 5
WRITTEN = "/entry/nbnumba/frame_written"


@pytest.fixture(autouse=True)
def cpu_kernel(monkeypatch):
    monkeypatch.setenv("NBNUMBA_DEVICE", "cpu")


def alone(args, folder, indir=None):
    """A frame rendered alone (reading its inputs in indir), its arguments with `-nexusfile
    alone.h5` added: (its noise image, what dxtbx makes of its own NeXus file)."""
    folder.mkdir()
    r = Simulation.from_args(list(args) + ["-nexusfile", "alone.h5"], settings=CPU, indir=indir).run(outdir=folder)
    return r.noiseimage, dxtbx_models((folder / "alone.h5").read_bytes())


def angles(models):
    """Every frame's start angle (degrees) as nxmx reads the file."""
    return models["h5"]["/entry/sample/transformations/phi"][()]


@pytest.fixture(scope="module")
def frames_alone(tmp_path_factory):
    """The series' frames, each rendered alone: [(noise image, its NeXus file's models)]."""
    root = tmp_path_factory.mktemp("alone")
    return [alone(j.args, root / str(j.frame)) for j in rotation_series(NEXUS, 10, 0.25, COUNT)]


def check_series_file(path, frames_alone):
    """The series file at `path` holds every frame alone, at its angle, with one geometry."""
    series = dxtbx_models(path.read_bytes())
    assert series["data"].shape == (COUNT, 64, 64) and series["data"].dtype == np.uint16
    assert list(series["h5"][WRITTEN][()]) == [1] * COUNT
    for i, (noise, single) in enumerate(frames_alone):
        assert np.array_equal(series["data"][i], noise), i
        assert angles(series)[i] == angles(single)[0], i          # as the frame's own file gives it
        for key in ("origin", "fast", "slow", "axis"):
            assert np.array_equal(series[key], single[key]), key
        assert series["wavelength"] == single["wavelength"]
    np.testing.assert_allclose(angles(series), [10, 10.25, 10.5, 10.75, 11], rtol=0, atol=1e-12)
    assert series["scan"] == pytest.approx((10.0, 0.25), abs=1e-12)
    np.testing.assert_allclose(series["h5"]["/entry/sample/transformations/phi_end"][()],
                               angles(series) + 0.25, rtol=0, atol=1e-12)
    assert series["h5"]["/entry/data/data"].chunks == (1, 64, 64)
    assert series["h5"]["/entry/data/data"].compression == "gzip"
    assert series["h5"]["/entry/data/data"].attrs["nbnumba_image"] == "noise"
    assert series["h5"]["/entry/program_name"].attrs["configuration"] == (
        "nbnumba " + NEXUS + " --rotation 10 0.25 5 --seed 1")
    return series


# ---------------------------------------------------------------- the plan

def test_a_rotation_series_shares_one_nexus_file_and_numbers_the_others():
    jobs = rotation_series(NEXUS + " -pngfile look.png", 10, 0.25, COUNT)
    assert {id(j.series) for j in jobs} == {id(jobs[0].series)}
    assert jobs[0].series.name == "series.h5" and jobs[0].series.shape == (COUNT, 64, 64)
    assert jobs[0].series.angles == (10.0, 10.25, 10.5, 10.75, 11.0)
    for j in jobs:      # the frame's own command: no -nexusfile, numbered miniCBF and PNG
        assert "-nexusfile" not in j.args and "nexus" not in j.outputs
        assert j.outputs["cbf"] == "series_%05d.cbf" % j.frame and j.outputs["png"] == "look_%05d.png" % j.frame
        assert j.args[j.args.index("-cbffile", j.args.index("-cbffile") + 1) + 1] == j.outputs["cbf"]
    # an orientation ensemble numbers its NeXus files too
    ensemble = random_orientations(FAST + " -nexusfile e.h5", 2)
    assert [j.outputs["nexus"] for j in ensemble] == ["e_00001.h5", "e_00002.h5"]
    assert ensemble[1].args[ensemble[1].args.index("-nexusfile", ensemble[1].args.index("-nexusfile") + 1) + 1] \
        == "e_00002.h5" and ensemble[1].series is None


# ---------------------------------------------------------------- rendered

def test_series_file_holds_every_frame_alone_and_the_api_shows_it(tmp_path, frames_alone):
    jobs = rotation_series(NEXUS, 10, 0.25, COUNT)
    results = render(jobs, outdir=tmp_path, settings=CPU)
    assert [r.status for r in results] == ["done"] * COUNT
    series = check_series_file(tmp_path / "series.h5", frames_alone)
    for r, (noise, single) in zip(results, frames_alone):
        # per job, what Result gives: the geometry it rendered with, the series file and its index
        assert r.paths["nexus"] == str(tmp_path / "series.h5") and r.nexus_index == r.job.frame - 1
        assert r.geometry.phi_start == angles(series)[r.nexus_index] and r.geometry.oscillation == 0.25
        np.testing.assert_allclose(r.geometry.origin, series["origin"], rtol=0, atol=1e-9)
        assert r.seeds["seed"] == -1                    # -seed 1: the C keeps -abs(1)
        # the numbered miniCBF files: fabio reads the frame's image and its angle
        cbf = fabio_cbf.CbfImage(fname=r.paths["cbf"])
        assert os.path.basename(r.paths["cbf"]) == "series_%05d.cbf" % r.job.frame
        assert np.array_equal(cbf.data, noise)
        assert "Start_angle %.15g deg." % r.geometry.phi_start in cbf.header["_array_data.header_contents"]
    entries = json.loads((tmp_path / "manifest.json").read_text())["jobs"]
    assert [e["outputs"]["nexus"] for e in entries] == [{"file": "series.h5", "index": i} for i in range(COUNT)]
    # resumed, every frame is complete: nothing renders, the file is untouched, the geometry the same
    before = (tmp_path / "series.h5").stat()
    again = render(jobs, outdir=tmp_path, settings=CPU, resume=True)
    assert [r.status for r in again] == ["skipped"] * COUNT
    after = (tmp_path / "series.h5").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    for r, first in zip(again, results):
        assert r.geometry.phi_start == first.geometry.phi_start
        assert np.array_equal(r.geometry.origin, first.geometry.origin) and r.paths == first.paths


def test_series_file_from_two_workers(cluster, tmp_path, frames_alone):
    jobs = rotation_series(NEXUS, 10, 0.25, COUNT)
    results = render(jobs, outdir=tmp_path, client=cluster, settings=CPU)
    assert [r.status for r in results] == ["done"] * COUNT and len({r.worker for r in results}) == 2
    check_series_file(tmp_path / "series.h5", frames_alone)


def test_an_interrupted_series_file_is_readable_and_resume_completes_it(tmp_path):
    write_hkl(tmp_path)
    count = 20
    (tmp_path / "s.plan").write_text("--rotation 0 0.5 %d %s -nexusfile s.h5\n" % (count, SERIES))
    out, _ = interrupted("s.plan", tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    done = [e["frame"] for e in manifest["jobs"] if e["status"] == "done"]
    assert len(done) >= 3 and manifest["counts"]["pending"] >= 1
    assert "series: %s: %d of %d frames" % (tmp_path / "s.h5", len(done), count) in out.splitlines()
    # closed properly: nxmx reads it; the frames done are flagged and hold their images, the others 0
    stopped = dxtbx_models((tmp_path / "s.h5").read_bytes())
    flags = stopped["h5"][WRITTEN][()]
    assert [i + 1 for i in np.flatnonzero(flags)] == done
    jobs = rotation_series(SERIES + " -nexusfile s.h5", 0, 0.5, count)
    alone_images = {}
    for j in jobs[:max(done) + 1]:
        alone_images[j.frame], _ = alone(j.args, tmp_path / ("alone%d" % j.frame), indir=tmp_path)
        if j.frame in done:
            assert np.array_equal(stopped["data"][j.frame - 1], alone_images[j.frame]), j.frame
        else:
            assert not stopped["data"][j.frame - 1].any(), j.frame
    inode = (tmp_path / "s.h5").stat().st_ino
    stamps = {f: (tmp_path / ("noiseimage_%05d.img" % f)).stat().st_mtime_ns for f in done}
    resumed = batch("s.plan", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    lines = resumed.stdout.splitlines()
    assert lines[0].endswith("%d done, %d skipped, 0 failed" % (count - len(done), len(done)))
    assert lines[1] == "series: %s: %d of %d frames" % (tmp_path / "s.h5", count, count)
    assert (tmp_path / "s.h5").stat().st_ino == inode              # continued, not rebuilt
    assert stamps == {f: (tmp_path / ("noiseimage_%05d.img" % f)).stat().st_mtime_ns for f in done}
    complete = dxtbx_models((tmp_path / "s.h5").read_bytes())
    assert complete["h5"][WRITTEN][()].all()
    for frame, image in alone_images.items():
        assert np.array_equal(complete["data"][frame - 1], image), frame
    for j in jobs:
        assert np.array_equal(complete["data"][j.frame - 1], read_smv(str(tmp_path / j.outputs["noise"])).data)
    np.testing.assert_allclose(angles(complete), np.arange(count) * 0.5, rtol=0, atol=1e-12)


def test_a_file_that_is_not_the_series_is_rebuilt(tmp_path):
    (tmp_path / "s.plan").write_text("--rotation 0 1 3 %s -nexusfile s.h5 -nonoise -nopgm\n" % FAST)
    assert batch("s.plan", cwd=tmp_path).returncode == 0
    first = (tmp_path / "s.h5").read_bytes()
    # another file in its place: a single image's NeXus file (no per-frame flags)
    Simulation.from_args(FAST + " -nonoise -nexusfile s.h5", settings=CPU).run(outdir=tmp_path)
    resumed = batch("s.plan", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "nbnumba batch: s.h5 is not this series (its shape, angles or plan line differ): it is written again, " \
           "every frame" in resumed.stderr.splitlines()
    assert resumed.stdout.splitlines()[0].endswith("3 done, 0 skipped, 0 failed")
    rebuilt, before = dxtbx_models((tmp_path / "s.h5").read_bytes()), dxtbx_models(first)
    assert np.array_equal(rebuilt["data"], before["data"]) and rebuilt["h5"][WRITTEN][()].all()
    assert rebuilt["h5"]["/entry/data/data"].attrs["nbnumba_image"] == "int"


# ---------------------------------------------------------------- refused

BASE = "-default_F 1 -N 1 -detpixels 8 -nonoise -nopgm"


@pytest.mark.parametrize("plan, line", [
    ("--rotation 0 1 2 %s -nexusfile s.h5\n--rotation 5 1 2 %s -floatfile b.bin -intfile b.img -nexusfile s.h5\n"
     % (BASE, BASE), "nbnumba batch: plan line 1 and plan line 2 both write s.h5"),
    ("%s -floatfile a.bin -intfile s.h5\n--rotation 0 1 2 %s -nexusfile s.h5\n" % (BASE, BASE),
     "nbnumba batch: plan line 1 and plan line 2 both write s.h5"),
    ("--rotation 0 1 2 %s -nexusfile manifest.json\n" % BASE,
     "nbnumba batch: plan line 1 writes manifest.json, the batch's own manifest.json: name the series file "
     "otherwise"),
    ("--rotation 0 1 2 %s -curved_det -nexusfile s.h5\n" % BASE,
     "nbnumba batch: plan line 1: ERROR: -nexusfile cannot carry -curved_det: NXmx describes flat detector modules, "
     "and -curved_det puts every pixel at the same distance from the crystal"),
])
def test_series_files_refused_in_one_line(tmp_path, plan, line):
    (tmp_path / "plan").write_text(plan)
    assert one_line(batch("plan", "--outdir", "out", cwd=tmp_path)) == line
    assert not (tmp_path / "out").exists()


def test_a_line_seen_twice_gets_a_series_of_its_own():
    jobs = parse_plan(("--rotation 0 1 2 %s -nexusfile s.h5\n" % BASE) * 2, "p")
    assert jobs[0].series is jobs[1].series and jobs[2].series is jobs[3].series
    assert jobs[0].series is not jobs[2].series and jobs[2].series.name == "s.h5"
