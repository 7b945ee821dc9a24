"""NeXus NXmx files (HDF5), laid out as DIALS's FormatNXmx and the `nxmx` reader read them.

`fill_nxmx` writes the groups of one NXmx entry into an open h5py file; `nxmx_bytes` returns
a whole file's bytes (h5py writes into a BytesIO), so that it reaches the disk through
outfile.write_output like every other output.  A rotation series of nbnumba batch is one
file written as its frames complete: `create_series` makes the entry with its images not yet
written and a flag per frame (WRITTEN), `write_frame` writes one, `read_series` tells what a
file holds (to continue it).  h5py (and hdf5plugin for bitshuffle) come
with the optional `nexus` extra and are imported only here, when a file is written.

The geometry (an output.geometry.Geometry: dxtbx's imgCIF axes) is written in NeXus's McStas
axes (beam along +z): dxtbx turns them back with diag(-1, 1, -1).  The detector is a chain
of translations: `det_z` (the C's distance along the beam) then the module's `module_offset`
(from the beam's spot to the first pixel's outer corner); the pixel directions depend on it,
so the cumulative transformation's translation is the C's pix0_vector and the two vectors
its fdet and sdet.  The sample's `phi` rotation about the spindle, with `phi_end`, gives
each image's start and end angles.  docs/formats.md lists every field.
"""
import io

import numpy as np

MCSTAS_FROM_IMGCIF = np.diag([-1.0, 1.0, -1.0])
ENTRY, SAMPLE, DETECTOR = "/entry", "/entry/sample", "/entry/instrument/detector"
DATA = ENTRY + "/data/data"
WRITTEN = ENTRY + "/nbnumba/frame_written"     # a series file's per-frame flags (create_series)
# dxtbx refuses a sensor thickness of 0 (its parallax correction needs one) and reads only Si,
# CdTe and GaAs: a run with the C's default, infinitely thin sensor gets 1 nm of silicon, whose
# parallax shift is below 1e-6 mm
THIN_SENSOR_MM = 1e-6
MISSING_EXTRA = ("ERROR: %s needs %s: install the nexus extra (python3 -m pip install 'nbnumba[nexus]', "
                 "or pip install h5py hdf5plugin)")


def require_h5py(flag, compression):
    """(h5py, hdf5plugin or None): the modules a file with this compression needs;
    ImportError with MISSING_EXTRA's line where the nexus extra is not installed."""
    try:
        import h5py
    except ImportError:
        raise ImportError(MISSING_EXTRA % (flag, "h5py")) from None
    if compression != "bitshuffle":
        return h5py, None
    try:
        import hdf5plugin
    except ImportError:
        raise ImportError(MISSING_EXTRA % ("-nexus_compression bitshuffle", "hdf5plugin")) from None
    return h5py, hdf5plugin


def _group(parent, name, nx_class, **attrs):
    g = parent.create_group(name)
    g.attrs["NX_class"] = nx_class
    for key, value in attrs.items():
        g.attrs[key] = value
    return g


def _axis(group, name, values, kind, vector, depends_on, units):
    """One NXtransformations axis: `values` along (translation) or about (rotation) `vector`."""
    ds = group.create_dataset(name, data=np.atleast_1d(np.asarray(values, dtype=np.float64)))
    ds.attrs["transformation_type"] = kind
    ds.attrs["vector"] = np.asarray(vector, dtype=np.float64)
    ds.attrs["depends_on"] = depends_on
    ds.attrs["units"] = units
    return ds


def _translation(vector):
    """(length, unit direction) of a translation vector; (0, x) for none."""
    length = float(np.linalg.norm(vector))
    return (length, vector / length) if length > 0.0 else (0.0, np.array([1.0, 0.0, 0.0]))


def _compression(compression, plugin):
    if compression == "gzip":
        return dict(compression="gzip", compression_opts=4)
    if compression == "bitshuffle":
        return dict(plugin.Bitshuffle(cname="lz4"))
    return {}


def fill_nxmx(h5, plugin, geometry, frames, angles, **fields):
    """Write one NXmx entry holding `frames`, (n, slow, fast) images, into the open h5py file
    `h5` (create_nxmx describes the other arguments)."""
    create_nxmx(h5, plugin, geometry, frames.shape, frames.dtype, angles, **fields)[...] = frames


def create_nxmx(h5, plugin, geometry, shape, dtype, angles, *, kind, description, saturation, data_offset, mask,
                program, version, command_line, start_time, compression):
    """Write one NXmx entry into the open h5py file `h5`, its images not yet written (their
    pixels read 0 until they are); returns the images' dataset, /entry/data/data.

    Parameters
    ----------
    plugin : module or None
        hdf5plugin, for compression "bitshuffle".
    geometry : nbnumba.output.geometry.Geometry
    shape, dtype
        (n, slow, fast) and the type of the images, chunked one image per chunk; `angles`
        their n start angles (degrees); each covers geometry.oscillation.
    kind, description : str
        Which image this is ("noise", "int") and a sentence saying what its values are.
    saturation : int
        The largest value a pixel can hold (NXdetector/saturation_value).
    data_offset : float
        What to add to a value to take the pedestal off (NXdata/data_offset: -ADC offset).
    mask : numpy.ndarray
        (slow, fast) uint32 NXmx pixel mask: nonzero where no pixel was rendered.
    program, version, command_line, start_time : str
    compression : str
        "gzip", "bitshuffle" or "none".
    """
    g = geometry
    h5.attrs["default"] = "entry"
    h5.attrs["creator"] = "%s %s" % (program, version)
    entry = _group(h5, "entry", "NXentry", default="data")
    entry["definition"] = "NXmx"
    entry["start_time"] = start_time
    entry["program_name"] = program
    entry["program_name"].attrs["version"] = version
    entry["program_name"].attrs["configuration"] = command_line
    source = _group(entry, "source", "NXsource")
    source["name"] = "%s simulation (nanoBragg.c)" % program
    source["probe"] = "x-ray"

    data = _group(entry, "data", "NXdata", signal="data")
    ds = data.create_dataset("data", shape=tuple(shape), dtype=dtype, chunks=(1,) + tuple(shape[1:]), fillvalue=0,
                             **_compression(compression, plugin))
    ds.attrs["units"] = "counts"
    ds.attrs["nbnumba_image"] = kind
    ds.attrs["description"] = description
    data["data_offset"] = float(data_offset)

    angles = np.asarray(angles, dtype=np.float64)
    sample = _group(entry, "sample", "NXsample")
    sample["name"] = "simulated crystal"
    sample["depends_on"] = SAMPLE + "/transformations/phi"
    gonio = _group(sample, "transformations", "NXtransformations")
    _axis(gonio, "phi", angles, "rotation", MCSTAS_FROM_IMGCIF @ g.rotation_axis, ".", "deg")
    gonio.create_dataset("phi_end", data=angles + g.oscillation).attrs["units"] = "deg"
    gonio.create_dataset("phi_increment_set", data=np.full(angles.shape, g.oscillation)).attrs["units"] = "deg"

    instrument = _group(entry, "instrument", "NXinstrument")
    instrument["name"] = "%s simulated detector" % program
    beam = _group(instrument, "beam", "NXbeam")
    beam["incident_wavelength"] = g.wavelength
    beam["incident_wavelength"].attrs["units"] = "angstrom"

    det = _group(instrument, "detector", "NXdetector")
    det["description"] = "%s simulated pixel array (no gaps, point spread or readout noise)" % program
    det["depends_on"] = DETECTOR + "/transformations/det_z"
    for name, value, units in (("distance", g.distance, "mm"), ("count_time", g.exposure, "s"),
                               ("frame_time", g.exposure, "s"),
                               ("sensor_thickness", g.thickness if g.thickness > 0 else THIN_SENSOR_MM, "mm"),
                               ("beam_center_x", g.beam_centre_px[0], "pixel"),
                               ("beam_center_y", g.beam_centre_px[1], "pixel")):
        det[name] = float(value)
        det[name].attrs["units"] = units
    if not g.thickness > 0:
        det["sensor_thickness"].attrs["nbnumba_note"] = (
            "the run's sensor is infinitely thin (-detector_thick 0); dxtbx refuses 0, so %g mm stands for it"
            % THIN_SENSOR_MM)
    det["sensor_material"] = "Si"
    det["saturation_value"] = np.int64(saturation)
    det["pixel_mask_applied"] = False
    det.create_dataset("pixel_mask", data=mask, **_compression("gzip", None))

    # the beam's spot on the detector, then the first pixel's corner, then the pixel axes
    distance = g.distance if np.isfinite(g.distance) else 0.0
    transformations = _group(det, "transformations", "NXtransformations")
    _axis(transformations, "det_z", distance, "translation", [0.0, 0.0, 1.0], ".", "mm")
    origin = MCSTAS_FROM_IMGCIF @ g.origin
    length, direction = _translation(origin - distance * np.array([0.0, 0.0, 1.0]))
    module = _group(det, "module", "NXdetector_module")
    module["data_origin"] = np.array([0, 0], dtype=np.int64)
    module["data_size"] = np.array(shape[1:], dtype=np.int64)
    module["data_stride"] = np.array([1, 1], dtype=np.int64)
    offset = DETECTOR + "/module/module_offset"
    _axis(module, "module_offset", length, "translation", direction, DETECTOR + "/transformations/det_z", "mm")
    _axis(module, "fast_pixel_direction", g.pixel_size[0], "translation", MCSTAS_FROM_IMGCIF @ g.fast_axis,
          offset, "mm")
    _axis(module, "slow_pixel_direction", g.pixel_size[1], "translation", MCSTAS_FROM_IMGCIF @ g.slow_axis,
          offset, "mm")
    return ds


def create_series(h5, plugin, geometry, shape, dtype, angles, **fields):
    """create_nxmx for a series written frame by frame (write_frame), with its per-frame flags
    WRITTEN (uint8, 0 until the frame is written), flushed."""
    create_nxmx(h5, plugin, geometry, shape, dtype, angles, **fields)
    flags = _group(h5[ENTRY], "nbnumba", "NXcollection").create_dataset("frame_written",
                                                                          data=np.zeros(shape[0], np.uint8))
    flags.attrs["description"] = ("1 where image i of /entry/data/data is written, 0 where it is not yet "
                                  "(its pixels read 0): nbnumba batch writes the frames as they complete")
    h5.flush()


def write_frame(h5, index, pixels):
    """Write image `index` of a series file, then its flag: each flushed, so the file on disk
    never flags an image it does not hold."""
    h5[DATA][index] = pixels
    h5.flush()
    h5[WRITTEN][index] = 1
    h5.flush()


def read_series(h5):
    """What a series file holds: {"shape", "dtype", "angles", "increments", "kind",
    "command_line", "written" (bool per frame)}; None for a file that is not one (not NXmx,
    or without WRITTEN)."""
    try:
        data, phi, written = h5[DATA], h5[SAMPLE + "/transformations/phi"], h5[WRITTEN]
        return {"shape": data.shape, "dtype": data.dtype, "angles": phi[()], "kind": data.attrs["nbnumba_image"],
                "increments": h5[SAMPLE + "/transformations/phi_increment_set"][()],
                "command_line": h5[ENTRY + "/program_name"].attrs["configuration"], "written": written[()] != 0}
    except (KeyError, TypeError, OSError):
        return None


def nxmx_bytes(geometry, frames, angles, *, compression, **fields):
    """The bytes of an NXmx file holding `frames` (see fill_nxmx for the arguments)."""
    h5py, plugin = require_h5py("-nexusfile", compression)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        fill_nxmx(h5, plugin, geometry, frames, angles, compression=compression, **fields)
    return buffer.getvalue()
