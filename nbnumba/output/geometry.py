"""The run's geometry as DIALS describes an experiment: the `Geometry` record.

nanoBragg.c works in the frame its convention sets (MOSFLM, the default: the beam along +x,
the spindle along +z; `-beam_vector` and friends can point anything anywhere), in metres.
DIALS (dxtbx) always takes the X-rays to travel along -z (its sample-to-source direction is
+z) and usually the rotation axis along +x, in millimetres; NeXus files (McStas axes) have
the beam along +z, and dxtbx turns them into its frame with diag(-1, 1, -1).

So the run's geometry is carried over by a rotation of the whole set-up, `to_lab`: it takes
nanoBragg's beam vector to -z and the spindle axis, where it is perpendicular to the beam
(or the part of it that is), to +x.  For nanoBragg's default frame that is the C's own
DIALS_ORIGIN mapping (x, y, z) -> (z, y, -x).  A rotation keeps every angle and the
handedness, so pixel positions, the crystal's rotation and the diffraction are those of the
run, only written in DIALS's axes.  docs/formats.md says how each field derives from the C's
vectors.
"""
import math
from dataclasses import dataclass

import numpy as np

from nbnumba.constants import RTD
from nbnumba.errors import NBError, Warner
from nbnumba.setup import detector as detector_setup, steps as steps_setup

# the axes tried, in order, for DIALS's +x: the spindle, the fast axis, then nanoBragg's own
_X_CANDIDATES = ("spindle_vector", "fdet_vector")
_PERPENDICULAR = 1e-6     # the smallest usable part of a candidate perpendicular to the beam


@dataclass(frozen=True, eq=False)
class Geometry:
    """The experiment of a run in DIALS's laboratory frame (dxtbx's imgCIF axes) and units.

    Vectors are float64 arrays of 3; lengths in millimetres, angles in degrees.

    Attributes
    ----------
    wavelength : float
        The nominal wavelength in angstroms (the C's ``lambda0``; -sourcefile and
        -dispersion add others around it).
    beam_direction : numpy.ndarray
        Where the X-rays travel: always (0, 0, -1), the opposite of dxtbx's
        ``Beam.get_sample_to_source_direction()``.
    origin : numpy.ndarray
        The outer corner of the first pixel (fast 0, slow 0): the C's ``pix0_vector``, as
        dxtbx's ``Panel.get_origin()``.
    fast_axis, slow_axis : numpy.ndarray
        Unit vectors along increasing fast and slow pixel index: the C's ``fdet_vector`` and
        ``sdet_vector``.  Pixel (f, s) covers origin + [f, f+1) * pixel_size * fast_axis +
        [s, s+1) * pixel_size * slow_axis.
    pixel_size : tuple of float
        (fast, slow) pixel size (the C's square ``pixel_size``).
    image_size : tuple of int
        (fast, slow) pixel count.
    distance : float
        Distance from the sample to the detector plane along the beam (the C's ``distance``).
    beam_centre : tuple of float
        Where the beam meets the detector plane, from the origin along the fast and slow axes
        (the C's ``Fbeam`` and ``Sbeam``); ``beam_centre_px`` in pixels.
    rotation_axis : numpy.ndarray
        The goniometer's axis (the C's ``spindle_vector``): the crystal turns right-handed
        about it as the angle grows.
    phi_start, oscillation : float
        The image's rotation starts at ``phi_start`` and covers ``oscillation`` (the C's
        ``phi0`` and ``osc``; 0 for a still).
    phi_steps : int
        How many phi values the render sampled: ``phi_start + k * oscillation / phi_steps``.
    exposure : float
        The exposure time in seconds (``-exposure``).
    thickness : float
        The sensor thickness (``-detector_thick``; 0, the C's default, is an infinitely thin
        sensor that absorbs every photon at its surface).
    mu : float
        The sensor's attenuation coefficient in 1/mm as the render used it (``-detector_abs``,
        else 1/thickness, as the C sets it); 0 where the thickness is 0.
    curved : bool
        ``-curved_det``: the pixels are not on the plane above (each sits at the distance of
        the closest point of the flat detector; no file format here can say so).
    to_lab : numpy.ndarray
        The 3x3 rotation from nanoBragg's frame to this one: ``v_dials = to_lab @ v_c``
        (for the crystal's vectors too).
    """
    wavelength: float
    beam_direction: np.ndarray
    origin: np.ndarray
    fast_axis: np.ndarray
    slow_axis: np.ndarray
    pixel_size: tuple
    image_size: tuple
    distance: float
    beam_centre: tuple
    rotation_axis: np.ndarray
    phi_start: float
    oscillation: float
    phi_steps: int
    exposure: float
    thickness: float
    mu: float
    curved: bool
    to_lab: np.ndarray

    @property
    def beam_centre_px(self):
        """(fast, slow) beam centre in pixels from the origin (dxtbx's ``get_beam_centre_px``)."""
        return self.beam_centre[0] / self.pixel_size[0], self.beam_centre[1] / self.pixel_size[1]


def _unit(v):
    norm = math.sqrt(float(np.dot(v, v)))
    return v / norm if norm > 0.0 and math.isfinite(norm) else None


def lab_rotation(detector):
    """The rotation `to_lab` (rows: DIALS's x, y and z axes in nanoBragg's frame) for an
    oriented detector record: -z along the beam, +x along the spindle's part perpendicular
    to it (else the fast axis's, else the first of nanoBragg's axes that has one).

    Raises NBError for a beam vector of no direction (the C renders one; no frame has it)."""
    beam = _unit(np.array(detector.beam_vector[1:4], dtype=np.float64))
    if beam is None:
        raise NBError("ERROR: the beam vector (-beam_vector) has no direction: the geometry has no DIALS frame")
    z = -beam
    candidates = [np.array(getattr(detector, name)[1:4], dtype=np.float64) for name in _X_CANDIDATES]
    candidates += list(np.eye(3))
    for v in candidates:
        part = v - np.dot(v, z) * z
        if np.linalg.norm(part) > _PERPENDICULAR * np.linalg.norm(v):
            x = part / np.linalg.norm(part)
            break
    return np.array([x, np.cross(z, x), z])


def geometry(options, detector, steps):
    """The run's `Geometry`, from its options, oriented detector and steps records.

    Parameters
    ----------
    options : nbnumba.args.options.Options
    detector : nbnumba.setup.detector.Detector
    steps : nbnumba.setup.steps.Steps

    Returns
    -------
    Geometry

    Raises
    ------
    nbnumba.NBError
        The beam vector has no direction.
    """
    to_lab = lab_rotation(detector)
    d = detector
    mm = 1000.0

    def lab(v):
        return to_lab @ np.asarray(v[1:4], dtype=np.float64)

    thick = float(steps.detector_thick)
    return Geometry(
        wavelength=options.lambda0 * 1e10,
        beam_direction=np.array([0.0, 0.0, -1.0]),
        origin=lab(d.pix0_vector) * mm,
        fast_axis=lab(d.fdet_vector),
        slow_axis=lab(d.sdet_vector),
        pixel_size=(d.pixel_size * mm, d.pixel_size * mm),
        image_size=(int(d.fpixels), int(d.spixels)),
        distance=d.distance * mm,
        beam_centre=(d.Fbeam * mm, d.Sbeam * mm),
        rotation_axis=lab(d.spindle_vector),
        phi_start=options.phi0 * RTD,
        oscillation=steps.osc * RTD,
        phi_steps=int(steps.phisteps),
        exposure=float(options.exposure),
        thickness=thick * mm,
        mu=float(steps.detector_mu) / mm if thick > 0.0 else 0.0,
        curved=bool(options.curved_detector),
        to_lab=to_lab,
    )


def oriented(options):
    """(oriented detector, steps) records of a run with these Options, made by the stages the
    run's set-up makes them with (setup.detector's raster, frame and orient; setup.steps),
    printing and warning nothing and reading no file: what `geometry` needs, for a run not
    rendered here (nbnumba batch's plan, and the frames it skips)."""
    def quiet(text):
        pass

    raster = detector_setup.raster(options, Warner(quiet))
    frame = detector_setup.frame(options, raster, quiet)
    return (detector_setup.orient(options, raster, frame, quiet, Warner(quiet)),
            steps_setup.steps(options, quiet))
