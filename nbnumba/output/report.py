"""What the C prints around the render: its usage text, the set-up summary, the progress meter
and -printout (main(), lines ~1275-1340, ~2400-2450 and ~2990-3040)."""
import math

import numpy as np

from nbnumba.kernels.cpu import render_pixel
from nbnumba.kernels.serial_replay import NO_LIMIT
from nbnumba.output.trace import pixel_trace
from nbnumba.args.options import RTD

_SHAPE_NAMES = {0: "parallelpiped", 1: "ellipsoidal", 2: "gaussian", 3: "tophat-spot"}

USAGE_OPTIONS = """\
\t-mat filename.mat\tmosflm-style matrix file containing three reciprocal unit cell vectors
\t-hkl filename.hkl\ttext file containing h, k, l and F for P1 unit cell
\t-misset 10 20 30 \talternative to mat file: crystal rotations about x,y,z axes (degrees)
\t-misset random   \talternative to mat file: random orientation
\t-cell a b c al be ga\talternative to mat file: specify crystal unit cell (Angstroms and degrees)
\t-default_F       \talternative to -hkl: assign all unspecified structure factors (default: 0)
\t-distance        \tdistance from origin to detector center in mm
\t-detsize         \tdetector size in mm.  may also use -detsize_f -detsize_s
\t-detpixels       \tdetector size in pixels.  may also use -detpixels_x -detpixels_y
\t-pixel           \tdetector pixel size in mm.
\t-img header.img  \tattempt to initialize camera parameters from an ADSC img header
\t-mask mask.img   \tuse ADSC img file full of 0 or non-0 values as a mask
\t-detector_absorb \tdetector sensor material attenuation depth (um) (default: "inf" to save time)
\t-detector_thick  \tdetector sensor thickness (um)
\t-detector_thicksteps\tnumber of layers of detector sensor material. Default: 1
\t-Xbeam           \timage fast coordinate of direct-beam spot (mm). (default: center)
\t-Ybeam           \timage slow coordinate of direct-beam spot (mm). (default: center)
\t-mosflm          \tuse MOSFLM's direct-beam convention, same as -denzo. (default: adxv)
\t-xds             \tuse XDS detector origin convention. (default: adxv)
\t-ORGX  -ORGY     \tXDS-convention beam center
\t-twotheta        \trotation of detector about spindle axis (deg). (default: 0)
\t-N               \tnumber of unit cells in all directions. may also use -Na -Nb or -Nc
\t-xtalsize        \talternative to -N: specify crystal full width (mm)
\t-square_xtal     \tspecify parallelpiped crystal shape (default)
\t-round_xtal      \tspecify ellipsoidal crystal shape (sort of)
\t-gauss_xtal      \tGaussian-shaped spots: no inter-Bragg maxima
\t-tophat_spots    \tclip lattice transform at fwhm: no inter-Bragg maxima
\t-oversample      \tnumber of sub-pixels per pixel. use this if xtalsize/lambda > distance/pixel
\t-oversample_thick \tre-calculate thickness effect for sub-pixels (not the default)
\t-oversample_polar \tre-calculate polarization effect for sub-pixels (not the default)
\t-oversample_omega \tre-calculate solid-angle effect for sub-pixels (not the default)
\t-lambda          \tincident x-ray wavelength in Angstrom. may also use -energy in eV
\t-mosaic          \tisotropic mosaic spread in degrees (use 90 for powder)
\t-mosaic_domains  \tnumber of randomly-oriented mosaic domains to render
\t-dispersion      \tspectral dispersion: delta-lambda/lambda in percent
\t-dispsteps       \tnumber of wavelengths in above range
\t-hdivrange       \thorizontal angular spread of source points in mrad
\t-vdivrange       \tvertical angular spread of source points in mrad
\t-hdivstep        \tnumber of source points in the horizontal
\t-vdivstep        \tnumber of source points in the vertical
\t-square_div      \tfull divergence grid (default: round off corners)
\t-phi             \tstarting rotation value about spindle axis in degrees
\t-osc             \trotation range about spindle axis in degrees
\t-phisteps        \tnumber of rotation steps to render
\t-water           \tadd contribution of x microns of water surrounding crystal
\t-floatfile       \tname of binary output file (4-byte floats)
\t-intfile         \tname of noiseless smv-formatted output file (not on absolute scale by default)
\t-scale           \tscale factor to apply to intfile (default: autoscale)
\t-adc             \toffset to apply to output img file pixels (default: %g)
\t-polar           \tspecify Kahn polarization factor (default: %g)
\t-noisefile       \tname of photon-scale smv-formatted output file (with Poisson noise)
\t-pgmfile         \tname of 8-bit portable greymap format output file
\t-pgmscale        \trelative scale of pgm file (default: auto)
\t-nopgm           \tdo not write pgm file
\t-roi             \tonly render part of the image: xmin xmax ymin ymax
\t-printout        \tprint pixel values out to the screen
\t-seed            \tspecify random-number seed for noisefile (default, initialize with time)
\t-mosaic_seed     \tspecify random-number seed for mosaic domain generation (default: 1234567)
\t-misset_seed     \tspecify random-number seed for crystal orentaiton when -misset random (default, same as -seed)
\t-fluence         \tincident beam intensity for photon-counting statistics (photons/m^2)
\t-flux            \talternative to -fluence, specify flux, along with -beamsize and -exposure (photons/s)
\t-beamsize        \talternative to -fluence, specify beam size, along with -flux and -exposure (default: %g mm)
\t-exposure        \talternative to -fluence, specify flux, along with -flux and -beamsize (default: %g s)
\t-nonoise         \tdisable generating the noisefile
\t-noprogress      \tturn off the progress meter
\t-nopolar         \tturn off the polarization correction
\t-nointerpolate   \tdisable inter-Bragg peak structure factor interpolation
\t-interpolate     \tforce inter-Bragg peak structure factor interpolation (default: on if < 3 cells wide)
\t-point_pixel     \tturn off the pixel solid angle correction
\t-curved_det      \tall pixels same distance from crystal
\t-fdet_vector     \tunit vector of increasing fast-axis detector pixel coordinate (default: %g %g %g)
\t-sdet_vector     \tunit vector of increasing slow-axis detector pixel coordinate (default: %g %g %g)
\t-odet_vector     \tunit vector of increasing detector distance (default: %g %g %g)
\t-beam_vector     \tunit vector of x-ray beam direction (default: %g %g %g)
\t-polar_vector    \tunit vector of x-ray E-vector polarization (default: %g %g %g)
\t-spindle_axis    \tunit vector of right-handed phi rotation axis (default: %g %g %g)
\t-pix0_vector     \tvector from crystal to first pixel in image (default: beam centered on detector)
"""


def usage(s, out):
    """The C's usage text (printed before its exit 9), with its current defaults."""
    out("usage: nanoBragg -mat auto.mat -hkl Fs.hkl\n")
    out("options:\n")
    vals = [s.adc_offset, 1.0, s.beamsize * 1000, s.exposure]
    for v in (s.fdet_vector, s.sdet_vector, s.odet_vector, s.beam_vector, s.polar_vector, s.spindle_vector):
        vals.extend(v[1:4])
    out(USAGE_OPTIONS % tuple(vals))


def summary(s, out):
    """The set-up summary printed just before the render (lines ~2398-2450)."""
    out("  %d initialized hkls (all others =%g)\n" % (s.hkl.hkls, s.default_F))
    out("  %s xtal: %.0fx%.0fx%.0f cells\n" % (_SHAPE_NAMES[s.xtal_shape], s.Na, s.Nb, s.Nc))
    out("  wave=%g meters +/- %g%% in %d steps\n" % (s.lambda0, s.dispersion * 100, s.dispsteps))
    if s.nopolar:
        out("  polarization effect disabled\n")
    else:
        out("  Kahn polarization factor: %f\n" % s.polarization)
    if s.curved_detector:
        out("  curved detector: all pixels same distance from origin\n")
    if s.point_pixel:
        out("  pixel obliquity effect disabled\n")
    out("  incident fluence: %g photons/m^2\n" % s.fluence)
    out("  distance=%g detsize=%gx%g  pixel=%g meters (%dx%d pixels)\n"
        % (s.distance, s.detsize_f, s.detsize_s, s.pixel_size, s.fpixels, s.spixels))
    out("  sensor is %g m thick in %d layers with mu= %g\n" % (s.detector_thick, s.detector_thicksteps, s.detector_mu))
    out("  Xbeam=%g Ybeam=%g\n" % (s.Xbeam, s.Ybeam))
    out("  Fbeam=%g Sbeam=%g\n" % (s.Fbeam, s.Sbeam))
    out("  Xclose=%g Yclose=%g\n" % (s.Xclose, s.Yclose))
    out("  Fclose=%g Sclose=%g\n" % (s.Fclose, s.Sclose))
    out("  DIRECTION_OF_DETECTOR_X-AXIS= %g %g %g\n" % tuple(s.fdet_vector[1:4]))
    out("  DIRECTION_OF_DETECTOR_Y-AXIS= %g %g %g\n" % tuple(s.sdet_vector[1:4]))
    out("  DIRECTION_OF_DETECTOR_Z-AXIS= %g %g %g\n" % tuple(s.odet_vector[1:4]))
    out("  INCIDENT_BEAM_DIRECTION= %g %g %g\n" % tuple(s.beam_vector[1:4]))
    out("  spindle ROTATION_AXIS= %g %g %g\n" % tuple(s.spindle_vector[1:4]))
    b, p = s.beam_vector, s.polar_vector
    normal = (b[2] * p[3] - b[3] * p[2], b[3] * p[1] - b[1] * p[3], b[1] * p[2] - b[2] * p[1])
    out("  POLARIZATION_PLANE_NORMAL= %g %g %g\n" % normal)
    out("  dials origin= %g %g %g\n" % tuple(s.dials_origin[1:4]))
    out("  roi: %d < x < %d && %d < y < %d\n" % (s.roi_xmin, s.roi_xmax, s.roi_ymin, s.roi_ymax))
    out("  hdivrange=%g hdivstep=%g  radians\n" % (s.hdivrange, s.hdivstep))
    out("  vdivrange=%g vdivstep=%g  radians\n" % (s.vdivrange, s.vdivstep))
    out("  %d divergence steps\n" % s.divsteps)
    out("  %d sources\n" % len(s.sources))
    out("  %d mosaic domains over mosaic spread of %g degrees\n" % (s.mosaic_domains, s.mosaic_spread * RTD))
    out("  %d phi steps from %g to %g degrees\n" % (s.phisteps, s.phi0 * RTD, (s.phi0 + s.osc) * RTD))
    extras = "".join(t for flag, t in ((s.oversample_thick, " +thick"), (s.oversample_polar, " +polar"),
                                      (s.oversample_omega, " +omega")) if flag)
    out("  %dx%d pixel oversample steps%s\n" % (s.oversample, s.oversample, extras))
    if s.maskimage is not None:
        out("  skipping zero-flagged pixels in %s\n" % s.maskfilename)
    if s.calculate_noise:
        out("\n  noise image paramters:\n")
        out("  seed: %d\n" % s.seed)
        out("  water droplet size: %g m\n" % s.water_size)


def _progress_lines(s, rendered_count):
    """The C's "N% done" lines for a render of rendered_count pixels, as (p, line): the line
    printed after the pixel the progress counter shows as p (progress_pixels from the ROI).

    The C tests every pixel count p; only multiples of total/20 or total/100 can print."""
    total = s.progress_pixels
    if not s.progress_meter or total // 100 <= 0:
        return []
    p20, p100 = total // 20, total // 100
    candidates = sorted(set(range(0, rendered_count, p20)) | set(range(0, rendered_count, p100)))
    return [(p, "%d%% done\n" % (p * 100 // total)) for p in candidates
            if p % p20 == 0 or ((10 * p < total or 10 * p > 9 * total) and p % p100 == 0)]


class LiveReport:
    """What the serial C prints while it renders, printed as dispatch.render's chunks finish
    (call it with the chunk's end, dispatch.render's `progress`): the progress lines, or
    -printout's per-pixel blocks, which replace them, and the interpolation warning, which the
    C prints while rendering the pixel where interpolation stops.  The C's progress counter
    counts the rendered pixels (ROI, mask not 0) before the current one."""

    def __init__(self, s, plan, box, out, trace_idx=None):
        """trace_idx: raster index of the -trace_pixel pixel when the C renders it (its
        TRACE_PY lines are printed while it renders), else None."""
        self.s, self.plan, self.box, self.out = s, plan, box, out
        self.trace_idx = trace_idx
        self.mask_rows = None
        if plan.mask.size and box.size:
            box_mask = plan.mask.reshape(plan.spixels, plan.fpixels)[box.y0:box.y0 + box.rows,
                                                                     box.x0:box.x0 + box.width] != 0
            self.mask_rows = box_mask
            self.rows_before = np.concatenate(([0], np.cumsum(box_mask.sum(axis=1))))
        self.lines = [] if s.printout else _progress_lines(s, self._count(box.size))
        self.next_line = 0
        self.done = 0              # box pixels reported
        self.warned = False

    def _count(self, t):
        """Rendered pixels among box pixels [0, t)."""
        if self.mask_rows is None:
            return t
        row, col = divmod(t, self.box.width)
        partial = int(self.mask_rows[row, :col].sum()) if col else 0
        return int(self.rows_before[row]) + partial

    def __call__(self, t_done, unrot_idx, interp_cut):
        count_hi = self._count(t_done)
        events = []     # (progress count of the pixel, 0: during it / 1: after it, text or raster index)
        if self.s.printout:
            t = np.arange(self.done, t_done)
            if self.mask_rows is not None:
                t = t[self.mask_rows.ravel()[t]]
            first = self._count(self.done)
            for count, idx in enumerate(self.box.raster(t).tolist(), start=first):
                fpixel, spixel = idx % self.s.fpixels, idx // self.s.fpixels
                if (fpixel == self.s.printout_fpixel and spixel == self.s.printout_spixel) or self.s.printout_fpixel < 0:
                    events.append((count, 1, idx))
        while self.next_line < len(self.lines) and self.lines[self.next_line][0] < count_hi:
            events.append((self.lines[self.next_line][0], 1, self.lines[self.next_line][1]))
            self.next_line += 1
        if self.trace_idx is not None and self.box.index(self.trace_idx) < t_done:
            events.append((self._count(self.box.index(self.trace_idx)), 0,
                           "".join(line + "\n" for line in pixel_trace(self.s, self.plan, self.trace_idx, unrot_idx,
                                                                        interp_cut))))
            self.trace_idx = None
        if interp_cut != NO_LIMIT and not self.warned:
            self.warned = True
            events.append((self._count(self.box.index(interp_cut)), 0,
                           _interpolation_warning(self.plan, interp_cut, unrot_idx)))
        for _, _, what in sorted(events, key=lambda e: e[:2]):
            if isinstance(what, str):
                self.out(what)
            else:
                _printout(self.s, self.plan, what, unrot_idx, interp_cut, self.out)
        self.done = t_done


def _interpolation_warning(plan, idx, unrot_idx):
    _, last = render_pixel(plan, idx, unrot_idx, idx)
    return ("WARNING: out of range for three point interpolation: h,k,l,h0,k0,l0: %g,%g,%g,%d,%d,%d \n"
            "WARNING: further warnings will not be printed! "
            % (last.oor_h, last.oor_k, last.oor_l, last.oor_h0, last.oor_k0, last.oor_l0))


def _printout(s, plan, idx, unrot_idx, interp_cut, out):
    fpixel, spixel = idx % s.fpixels, idx // s.fpixels
    value, last = render_pixel(plan, idx, unrot_idx, interp_cut)
    pos = (0.0, last.pos1, last.pos2, last.pos3)
    twotheta = math.atan2(math.sqrt(pos[2] * pos[2] + pos[3] * pos[3]), pos[1])
    test = math.sin(twotheta / 2.0) / (s.lambda0 * 1e10)
    out("%4d %4d : stol = %g or %g\n" % (fpixel, spixel, last.stol, test))
    out("at %g %g %g\n" % (pos[1], pos[2], pos[3]))
    out("hkl= %f %f %f  hkl0= %d %d %d\n" % (last.h, last.k, last.l, last.h0, last.k0, last.l0))
    out(" F_cell=%g  F_latt=%g   I = %g\n" % (last.F_cell, last.F_latt, last.I))
    out("I/steps %15.10g\n" % (last.I / s.steps))
    out("polar   %15.10g\n" % last.polar)
    out("omega   %15.10g\n" % last.omega_pixel)
    out("capfrac %15.10g\n" % last.capture_fraction)
    out("pixel   %15.10g\n" % np.float32(value))
    out("real-space cell vectors (Angstrom):\n")
    out("     %-10s  %-10s  %-10s\n" % ("a", "b", "c"))
    a, b, c = plan.cells[int(last.lat_carry), int(last.lat_phi), int(last.lat_mos)]
    for i, axis in ((1, "X"), (2, "Y"), (3, "Z")):
        out("%s: %11.8f %11.8f %11.8f\n" % (axis, a[i] * 1e10, b[i] * 1e10, c[i] * 1e10))
