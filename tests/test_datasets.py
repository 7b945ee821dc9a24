"""-nexusfile, -cbffile, -pngfile and Result.geometry/save, read back by the real readers.

The NeXus files are read with the `nxmx` package (DIALS's NXmx reader library) and turned into
a detector, goniometer and scan with dxtbx's own formulas (dxtbx/nexus/__init__.py:
get_dxtbx_detector, get_dxtbx_goniometer, get_dxtbx_scan, restated below); the miniCBF files
with fabio, and their header as dxtbx's FormatCBFMini reads it.  The geometry they give is
compared with the reference: the pix0, fdet and sdet vectors and the wavelength nanoBragg.c
printed in each golden case's trace (TRACE_C pix0_vector_meters, fdet_vec, sdet_vec,
lambda_angstroms), and the data with the SMV pixels the C wrote for the case.
"""
import io
import os
import shlex
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")
nxmx = pytest.importorskip("nxmx")
fabio_cbf = pytest.importorskip("fabio.cbfimage")
pytest.importorskip("hdf5plugin")         # registers the bitshuffle filter for reading

from golden import INPUTS, cases, cli_env, reference_file, reference_trace, trace_values  # noqa: E402
from nbnumba.errors import NBError  # noqa: E402
from nbnumba.io.images import SMV_HEADER_BYTES, read_smv, value_of  # noqa: E402
from nbnumba.io.png import SIGNATURE, read_png  # noqa: E402
from nbnumba.output import datasets  # noqa: E402
from nbnumba.output.geometry import geometry  # noqa: E402
from nbnumba.simulation import Simulation  # noqa: E402

MCSTAS_TO_IMGCIF = np.diag([-1.0, 1.0, -1.0])
MM = 1e-6                    # the geometry must agree within 1e-6 mm
SMALL = ("-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -distance 100 -detpixels 48 -pixel 0.1 "
         "-seed 7 -phi 10 -osc 0.5 -phisteps 2")
CASES = {c["name"]: c for c in cases()}


@pytest.fixture(autouse=True)
def cpu_kernel(monkeypatch):
    monkeypatch.setenv("NBNUMBA_DEVICE", "cpu")


def set_up(case, folder):
    """The set-up records of a golden case (run in `folder`, holding its inputs)."""
    for name in case["inputs"]:
        shutil.copy(INPUTS / name, folder / name)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return Simulation.from_args(case["args"], warn=lambda line: None, read_fdump=True).setup()
    finally:
        os.chdir(cwd)


def smv_pixels(name, su):
    """The int image nanoBragg.c wrote for the case, (slow, fast)."""
    raw = reference_file(name, su.options.intfilename)
    d = su.detector
    return np.frombuffer(raw[SMV_HEADER_BYTES:], dtype=np.uint16).reshape(d.spixels, d.fpixels)


def c_vectors(name, su):
    """(pix0 in mm, fdet, sdet) as nanoBragg.c traced them for the case (the port's, which the
    golden tests hold to the C's images, for the one case without a trace)."""
    trace = reference_trace(name)
    if trace is None:
        d = su.detector
        return d.pix0_vector[1:4] * 1000.0, d.fdet_vector[1:4], d.sdet_vector[1:4]
    t = trace_values(trace, "TRACE_C")
    return np.array(t["pix0_vector_meters"]) * 1000.0, np.array(t["fdet_vec"]), np.array(t["sdet_vec"])


def c_wavelength(name, su):
    """The nominal wavelength: the run's lambda0, which is the SMV header's (the trace's is the
    first source's, which -dispersion and -sourcefile move)."""
    header = reference_file(name, su.options.intfilename)[:SMV_HEADER_BYTES].decode("latin-1")
    assert su.options.lambda0 * 1e10 == pytest.approx(value_of(header, "WAVELENGTH"), rel=1e-6)
    return su.options.lambda0 * 1e10


def dxtbx_models(data):
    """What dxtbx makes of an NXmx file (its get_dxtbx_* formulas on nxmx's objects):
    origin, fast, slow (imgCIF, mm), wavelength (A), rotation axis, (start, width) of the scan,
    the data and the entry's h5py file (to read more)."""
    h5 = h5py.File(io.BytesIO(data), "r")
    entry = nxmx.NXmx(h5).entries[0]
    detector = entry.instruments[0].detectors[0]
    module = detector.modules[0]
    rotations = [t for t in nxmx.get_dependency_chain(module.fast_pixel_direction.depends_on)
                 if t.transformation_type == "rotation"]
    R = nxmx.get_cumulative_transformation(rotations)[0, :3, :3] if rotations else np.identity(3)
    fast = MCSTAS_TO_IMGCIF @ R @ module.fast_pixel_direction.vector
    slow = MCSTAS_TO_IMGCIF @ R @ module.slow_pixel_direction.vector
    A = nxmx.get_cumulative_transformation(nxmx.get_dependency_chain(module.fast_pixel_direction.depends_on))
    origin = MCSTAS_TO_IMGCIF @ A[0, :3, 3]
    wavelength = float(entry.instruments[0].beams[0].incident_wavelength.to("angstrom").magnitude)
    sample = entry.samples[0]
    axes = nxmx.get_rotation_axes(nxmx.get_dependency_chain(sample.depends_on))
    axis = MCSTAS_TO_IMGCIF @ axes.axes[0]
    phi = sample.depends_on
    scan = (float(phi[0].to("degree").magnitude),
            float(np.median(phi.end[()] - phi[()]).to("degree").magnitude))
    nxdata = entry.data[0]
    return dict(origin=origin, fast=fast, slow=slow, wavelength=wavelength, axis=axis, scan=scan,
                data=nxdata[nxdata.signal][()], detector=detector, module=module, h5=h5)


def nexus_cases():
    return [n for n in CASES if n != "curved_detector"]


@pytest.mark.parametrize("name", nexus_cases())
def test_nexus_geometry_is_the_c_geometry_for_every_golden_case(name, tmp_path):
    su = set_up(CASES[name], tmp_path)
    ints = smv_pixels(name, su)
    got = dxtbx_models(datasets.nexus_file(su, ints.ravel(), None))
    g = geometry(su.options, su.detector, su.steps)
    back = g.to_lab.T          # DIALS's frame -> nanoBragg's
    pix0, fdet, sdet = c_vectors(name, su)
    np.testing.assert_allclose(back @ got["origin"], pix0, rtol=0, atol=MM)
    np.testing.assert_allclose(back @ got["fast"], fdet, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back @ got["slow"], sdet, rtol=0, atol=1e-9)
    # the beam: DIALS takes it along -z (NXmx's +z); the frame puts the C's beam there
    d = su.detector
    np.testing.assert_allclose(g.to_lab @ d.beam_vector[1:4], [0, 0, -1], rtol=0, atol=1e-12)
    assert got["wavelength"] == c_wavelength(name, su)
    np.testing.assert_allclose(back @ got["axis"], d.spindle_vector[1:4], rtol=0, atol=1e-12)
    o = su.options
    assert got["scan"] == pytest.approx((o.phi0 * 180 / np.pi, su.steps.osc * 180 / np.pi), abs=1e-12)
    assert got["data"].shape == (1, d.spixels, d.fpixels) and got["data"].dtype == np.uint16
    assert np.array_equal(got["data"][0], ints)
    det = got["detector"]
    assert det.saturation_value == 65535 and det.sensor_material == "Si"
    assert det.sensor_thickness.to("mm").magnitude == (g.thickness if g.thickness > 0 else 1e-6)
    assert got["h5"]["/entry/data/data"].attrs["nbnumba_image"] == "int"
    assert got["h5"]["/entry/data/data_offset"][()] == -o.adc_offset


def test_nexus_refuses_curved_detector_in_one_line(tmp_path):
    su = set_up(CASES["curved_detector"], tmp_path)
    with pytest.raises(NBError, match=r"^ERROR: -nexusfile cannot carry -curved_det"):
        datasets.refuse_inexpressible(su.options, su.detector, su.steps, ["-nexusfile"])


def cbf_geometry(text_header):
    """What dxtbx's FormatCBFMini makes of a miniCBF header (fabio's PilatusHeader parses it):
    origin, fast, slow in imgCIF mm; fast +x, slow -y, beam along -z."""
    h = fabio_cbf.PilatusHeader(text_header)
    px, py = h["Pixel_size"]
    bx, by = h["Beam_xy"]
    distance = h["Detector_distance"] * 1000.0
    fast, slow = np.array([1.0, 0, 0]), np.array([0, -1.0, 0])
    origin = np.array([0, 0, -1.0]) * distance - fast * bx * px * 1000 - slow * by * py * 1000
    return h, origin, fast, slow


@pytest.mark.parametrize("name", list(CASES))
def test_cbf_for_every_golden_case_fabio_reads_it_or_it_is_refused(name, tmp_path):
    su = set_up(CASES[name], tmp_path)
    g = geometry(su.options, su.detector, su.steps)
    if not datasets.standard_axes(g):
        with pytest.raises(NBError) as refused:
            datasets.refuse_inexpressible(su.options, su.detector, su.steps, ["-cbffile"])
        message = refused.value.message
        assert message.startswith("ERROR: -cbffile cannot carry this geometry (") and "use -nexusfile" in message
        named = message.split("(", 1)[1].split(")")[0]
        words = shlex.split(CASES[name]["args"])
        assert any(w in named for w in words if w.startswith("-") and len(w) > 2), (named, words)
        return
    ints = smv_pixels(name, su)
    path = tmp_path / "image_00001.cbf"
    path.write_bytes(datasets.cbf_file(su, ints.ravel(), None))
    image = fabio_cbf.CbfImage(fname=str(path))
    assert image.data.dtype == np.int32 and np.array_equal(image.data, ints)
    assert image.header["_array_data.header_convention"] == "GENERIC_MINI"
    h, origin, fast, slow = cbf_geometry(image.header["_array_data.header_contents"])
    pix0, fdet, sdet = c_vectors(name, su)
    back = g.to_lab.T
    np.testing.assert_allclose(back @ origin, pix0, rtol=0, atol=MM)
    np.testing.assert_allclose(back @ fast, fdet, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back @ slow, sdet, rtol=0, atol=1e-9)
    o = su.options
    same = dict(rel=1e-14, abs=1e-14)      # the header's 15 digits
    assert h["Wavelength"] == pytest.approx(c_wavelength(name, su), **same)
    assert h["Start_angle"] == pytest.approx(o.phi0 * 180 / np.pi, **same)
    assert h["Angle_increment"] == pytest.approx(su.steps.osc * 180 / np.pi, **same)
    assert h["Exposure_time"] == h["Exposure_period"] == o.exposure and h["Count_cutoff"] == 65535
    assert h["Pixel_size"] == pytest.approx((su.detector.pixel_size,) * 2, **same)
    assert ("sensor" in h) == (su.steps.detector_thick > 0)
    if su.steps.detector_thick > 0:
        assert h["sensor"] == ("Silicon", pytest.approx(su.steps.detector_thick, **same))
    assert int(image.header["X-Binary-Size-Fastest-Dimension"]) == su.detector.fpixels


def run(args, folder, env=None):
    return subprocess.run([sys.executable, "-m", "nbnumba", *shlex.split(args)], cwd=folder, capture_output=True,
                          text=True, env=dict(cli_env(), **(env or {})))


def test_command_writes_the_same_image_in_every_format(tmp_path):
    out = run(SMALL + " -nexusfile image_00001.h5 -cbffile image_00001.cbf -pngfile image.png", tmp_path)
    (tmp_path / "plain").mkdir()
    plain = run(SMALL, tmp_path / "plain")
    assert out.returncode == 0 and plain.returncode == 0
    assert out.stdout == plain.stdout                  # the new files print nothing
    assert out.stderr == plain.stderr
    for name in ("floatimage.bin", "intimage.img", "noiseimage.img", "image.pgm"):
        assert (tmp_path / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name
    noise = read_smv(str(tmp_path / "noiseimage.img")).data
    nexus = dxtbx_models((tmp_path / "image_00001.h5").read_bytes())
    assert np.array_equal(nexus["data"][0], noise)
    assert nexus["h5"]["/entry/data/data"].attrs["nbnumba_image"] == "noise"
    assert nexus["h5"]["/entry/data/data"].compression == "gzip"
    assert nexus["scan"] == pytest.approx((10.0, 0.5), abs=1e-12)
    program = nexus["h5"]["/entry/program_name"]
    assert program[()] == b"nbnumba" and program.attrs["configuration"] == "nbnumba " + SMALL + \
        " -nexusfile image_00001.h5 -cbffile image_00001.cbf -pngfile image.png"
    cbf = fabio_cbf.CbfImage(fname=str(tmp_path / "image_00001.cbf"))
    assert np.array_equal(cbf.data, noise)
    picture = read_png(str(tmp_path / "image.png"))
    assert picture.shape == (48, 48, 3)


def test_png_is_a_picture_with_the_beam_centre_marked(tmp_path):
    # a 16 x 24 mm detector of 0.1 mm pixels; the beam at fast 12.05 mm, slow 20.05 mm (pixels 120, 200)
    args = SMALL.replace("-detpixels 48", "-detpixels_f 160 -detpixels_s 240") + \
        " -mosflm -Xbeam 20.0 -Ybeam 12.0 -pngfile beam.png -nonoise"
    out = run(args, tmp_path)
    assert out.returncode == 0, out.stderr
    data = (tmp_path / "beam.png").read_bytes()
    assert data.startswith(SIGNATURE)
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour) == (160, 240, 8, 2)     # 8-bit RGB, fast x slow
    rgb = read_png(str(tmp_path / "beam.png"))
    fbeam, sbeam = (12.0 + 0.05) / 0.1, (20.0 + 0.05) / 0.1       # MOSFLM: Fbeam = Ybeam + half a pixel
    assert tuple(rgb[int(sbeam), int(fbeam)]) == (255, 0, 0)
    red = (rgb[:, :, 0] == 255) & (rgb[:, :, 1] == 0) & (rgb[:, :, 2] == 0)
    assert red.sum() == 2 * (2 * 2 + 1) - 1                         # a cross of arm 2 (160 // 64)
    gray = ~red
    assert np.array_equal(rgb[gray][:, 0], rgb[gray][:, 1]) and np.array_equal(rgb[gray][:, 0], rgb[gray][:, 2])
    assert rgb[gray][:, 0].min() < 128 < rgb[gray][:, 0].max()     # spots darker than the background


@pytest.mark.parametrize("extra, flag, names", [
    ("-curved_det -nexusfile x.h5", "-nexusfile", "-curved_det"),
    ("-twotheta 10 -cbffile x.cbf", "-cbffile", "-twotheta"),
    ("-dials -cbffile x.cbf -pngfile x.png", "-cbffile", "-dials"),
    ("-detector_rotz 1 -nexusfile x.h5 -cbffile x.cbf", "-cbffile", "-detector_rotz"),
])
def test_refusals_are_one_line_and_touch_no_file(tmp_path, extra, flag, names):
    for name in INPUTS.iterdir():
        shutil.copy(name, tmp_path / name.name)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = run(SMALL.replace("-default_F 100", "-hkl cubic.hkl") + " " + extra, tmp_path)
    assert out.returncode == 9
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: " + flag) and names in lines[0], out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before      # not even Fdump.bin


@pytest.mark.parametrize("module, extra, flag", [("h5py", "", "-nexusfile"),
                                                  ("hdf5plugin", "-nexus_compression bitshuffle",
                                                   "-nexus_compression bitshuffle")])
def test_nexusfile_without_the_nexus_extra_says_what_to_install(tmp_path, module, extra, flag):
    blocker = tmp_path / "blocker"
    (blocker / module).mkdir(parents=True)
    (blocker / module / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = cli_env()
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), env["PYTHONPATH"]])
    out = subprocess.run([sys.executable, "-m", "nbnumba", *shlex.split(SMALL), "-nexusfile", "x.h5",
                          *shlex.split(extra)], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 9
    assert out.stderr.splitlines() == ["ERROR: %s needs %s: install the nexus extra (python3 -m pip install "
                                       "'nbnumba[nexus]', or pip install h5py hdf5plugin)" % (flag, module)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


@pytest.fixture(scope="module")
def result():
    return Simulation.from_args(SMALL + " -roi 5 40 3 44 -nexus_compression bitshuffle").run()


def test_geometry_is_dials_frame_of_the_c_vectors(result):
    g = result.geometry
    d = result.setup.detector
    # nanoBragg's default (MOSFLM) frame: DIALS's (x, y, z) is the C's (z, y, -x), its DIALS_ORIGIN
    assert np.array_equal(g.to_lab, [[0, 0, 1], [0, 1, 0], [-1, 0, 0]])
    np.testing.assert_allclose(g.origin, d.dials_origin[1:4], rtol=0, atol=1e-12)
    assert list(g.fast_axis) == [1, 0, 0] and list(g.slow_axis) == [0, -1, 0]
    assert list(g.rotation_axis) == [1, 0, 0] and list(g.beam_direction) == [0, 0, -1]
    assert g.image_size == (48, 48) and g.pixel_size == pytest.approx((0.1, 0.1), rel=1e-15)
    assert g.beam_centre == pytest.approx((2.5, 2.5), rel=1e-14)    # (4.8 + 0.1) / 2 + 0.05 mm
    assert g.beam_centre_px == pytest.approx((25.0, 25.0), rel=1e-14)
    assert (g.wavelength, g.distance, g.phi_start, g.oscillation, g.phi_steps) == \
        pytest.approx((6.2, 100.0, 10.0, 0.5, 2), rel=1e-14)
    assert (g.exposure, g.thickness, g.mu, g.curved) == (1.0, 0.0, 0.0, False)


def test_save_round_trips_every_format(result, tmp_path):
    for name in ("x.img", "x.bin", "x.pgm", "x.h5", "x.nxs", "x.cbf", "x.png"):
        result.save(tmp_path / name)
    assert np.array_equal(read_smv(str(tmp_path / "x.img")).data, result.noiseimage)
    assert np.array_equal(np.fromfile(tmp_path / "x.bin", dtype=np.float32).reshape(48, 48), result.image)
    assert (tmp_path / "x.pgm").read_bytes().endswith(result.pgm.tobytes())
    for name in ("x.h5", "x.nxs"):
        nexus = dxtbx_models((tmp_path / name).read_bytes())
        assert np.array_equal(nexus["data"][0], result.noiseimage)
        ds = nexus["h5"]["/entry/data/data"]
        assert "32008" in ds._filters                                   # bitshuffle (-nexus_compression)
        mask = nexus["detector"].pixel_mask[()]
        assert mask.sum() == 48 * 48 - 36 * 42 and mask[3:45, 5:41].sum() == 0   # -roi 5 40 3 44
    assert np.array_equal(fabio_cbf.CbfImage(fname=str(tmp_path / "x.cbf")).data, result.noiseimage)
    assert read_png(str(tmp_path / "x.png")).shape == (48, 48, 3)
    with pytest.raises(NBError, match="cannot tell the format of .*x.tif"):
        result.save(tmp_path / "x.tif")


def test_save_pgm_after_nopgm_is_the_pgm_the_c_writes(tmp_path):
    with_pgm = Simulation.from_args(SMALL + " -nonoise").run()
    without = Simulation.from_args(SMALL + " -nonoise -nopgm").run()
    assert without.pgm is None
    with_pgm.save(tmp_path / "a.pgm")
    without.save(tmp_path / "b.pgm")
    assert (tmp_path / "a.pgm").read_bytes() == (tmp_path / "b.pgm").read_bytes()
    assert (tmp_path / "a.pgm").read_bytes().startswith(b"P5\n48 48\n# pixels scaled by ")


def test_save_refuses_what_the_command_refuses(tmp_path):
    curved = Simulation.from_args(SMALL + " -curved_det -nonoise").run()
    with pytest.raises(NBError, match="^ERROR: -nexusfile cannot carry -curved_det"):
        curved.save(tmp_path / "x.h5")
    with pytest.raises(NBError, match=r"^ERROR: -cbffile cannot carry this geometry \(-curved_det\)"):
        curved.save(tmp_path / "x.cbf")
    assert list(tmp_path.iterdir()) == []
    assert curved.geometry.curved


@pytest.mark.parametrize("extra, message", [
    ("-detpixels -10 -pngfile x.png", "ERROR: -pngfile: the detector has -10 x -10 pixels, no image to write"),
    ("-beam_vector 0 0 0 -nexusfile x.h5", "ERROR: -nexusfile: the beam vector (-beam_vector) has no direction"),
    ("-distance nan -cbffile x.cbf", "ERROR: -cbffile: the run's geometry is not finite or has no spindle axis"),
    ("-spindle_axis 0 0 0 -nexusfile x.h5", "ERROR: -nexusfile: the run's geometry is not finite or has no spindle"),
])
def test_geometries_without_a_picture_or_frame_are_refused_at_set_up(extra, message):
    sim = Simulation.from_args(SMALL + " " + extra, warn=lambda line: None)
    with pytest.raises(NBError) as refused:
        sim.setup()
    assert refused.value.message.startswith(message)
