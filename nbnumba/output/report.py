"""What the C prints around the render: its usage text, the set-up summary, the progress meter
and -printout (main(), lines ~1275-1340, ~2400-2450 and ~2990-3040)."""
import math

import numpy as np

from nbnumba.kernels.params import NO_PIXEL
from nbnumba.output.trace import pixel_trace
from nbnumba.cfuncs.stdio import c_dtoi, c_format
from nbnumba.cfuncs.vectors import cross3
from nbnumba.constants import GAUSS, ROUND, RTD, SQUARE, TOPHAT

_SHAPE_NAMES = {SQUARE: "parallelpiped", ROUND: "ellipsoidal", GAUSS: "gaussian", TOPHAT: "tophat-spot"}

def summary(records, out):
    """The set-up summary printed just before the render (lines ~2398-2450); records: setup.records.Setup."""
    options, d, st, cr = records.options, records.detector, records.steps, records.crystal
    g = records.structure_factors.grid
    out(c_format("  %d initialized hkls (all others =%g)\n", (g.hkls, options.default_F)))
    out(c_format("  %s xtal: %.0fx%.0fx%.0f cells\n", (_SHAPE_NAMES[options.xtal_shape], cr.Na, cr.Nb, cr.Nc)))
    out(c_format("  wave=%g meters +/- %g%% in %d steps\n", (options.lambda0, st.dispersion * 100, st.dispsteps)))
    if options.nopolar:
        out("  polarization effect disabled\n")
    else:
        out(c_format("  Kahn polarization factor: %f\n", (options.polarization,)))
    if options.curved_detector:
        out("  curved detector: all pixels same distance from origin\n")
    if options.point_pixel:
        out("  pixel obliquity effect disabled\n")
    out(c_format("  incident fluence: %g photons/m^2\n", (records.exposure.fluence,)))
    out(c_format("  distance=%g detsize=%gx%g  pixel=%g meters (%dx%d pixels)\n",
                 (d.distance, d.detsize_f, d.detsize_s, d.pixel_size, d.fpixels, d.spixels)))
    out(c_format("  sensor is %g m thick in %d layers with mu= %g\n",
                 (st.detector_thick, st.detector_thicksteps, st.detector_mu)))
    out(c_format("  Xbeam=%g Ybeam=%g\n", (d.Xbeam, d.Ybeam)))
    out(c_format("  Fbeam=%g Sbeam=%g\n", (d.Fbeam, d.Sbeam)))
    out(c_format("  Xclose=%g Yclose=%g\n", (d.Xclose, d.Yclose)))
    out(c_format("  Fclose=%g Sclose=%g\n", (d.Fclose, d.Sclose)))
    out(c_format("  DIRECTION_OF_DETECTOR_X-AXIS= %g %g %g\n", d.fdet_vector[1:4]))
    out(c_format("  DIRECTION_OF_DETECTOR_Y-AXIS= %g %g %g\n", d.sdet_vector[1:4]))
    out(c_format("  DIRECTION_OF_DETECTOR_Z-AXIS= %g %g %g\n", d.odet_vector[1:4]))
    out(c_format("  INCIDENT_BEAM_DIRECTION= %g %g %g\n", d.beam_vector[1:4]))
    out(c_format("  spindle ROTATION_AXIS= %g %g %g\n", d.spindle_vector[1:4]))
    b, p = d.beam_vector, d.polar_vector
    normal = cross3(b[1], b[2], b[3], p[1], p[2], p[3])
    out(c_format("  POLARIZATION_PLANE_NORMAL= %g %g %g\n", normal))
    out(c_format("  dials origin= %g %g %g\n", d.dials_origin[1:4]))
    out("  roi: %d < x < %d && %d < y < %d\n" % (d.roi_xmin, d.roi_xmax, d.roi_ymin, d.roi_ymax))
    out(c_format("  hdivrange=%g hdivstep=%g  radians\n", (st.hdivrange, st.hdivstep)))
    out(c_format("  vdivrange=%g vdivstep=%g  radians\n", (st.vdivrange, st.vdivstep)))
    out("  %d divergence steps\n" % records.sources.divsteps)
    out("  %d sources\n" % len(records.sources.table))
    out(c_format("  %d mosaic domains over mosaic spread of %g degrees\n", (st.mosaic_domains, st.mosaic_spread * RTD)))
    out(c_format("  %d phi steps from %g to %g degrees\n",
                 (st.phisteps, options.phi0 * RTD, (options.phi0 + st.osc) * RTD)))
    extras = "".join(t for flag, t in ((options.oversample_thick, " +thick"), (options.oversample_polar, " +polar"),
                                      (options.oversample_omega, " +omega")) if flag)
    oversample = records.sampling.oversample
    out("  %dx%d pixel oversample steps%s\n" % (oversample, oversample, extras))
    if records.mask is not None:
        out("  skipping zero-flagged pixels in %s\n" % options.maskfilename)
    if options.calculate_noise:
        out("\n  noise image paramters:\n")
        out("  seed: %d\n" % options.seed)
        out(c_format("  water droplet size: %g m\n", (options.water_size,)))


def solid_angle(omega_sum, steps, out):
    """The blank line and the solid-angle line the C prints after its render loop."""
    out("\n")
    out(c_format("solid angle subtended by detector = %g steradian ( %g%% sphere)\n",
                 (omega_sum / steps, 100 * omega_sum / steps / 4 / math.pi)))


def _progress_lines(progress_meter, total, rendered_count):
    """The C's "N% done" lines for a render of rendered_count pixels, as (p, line): the line
    printed after the pixel the progress counter shows as p (total: progress_pixels, from
    the ROI).  The C tests every pixel count p; only multiples of total/20 or total/100 can print."""
    if not progress_meter or total // 100 <= 0:
        return []
    p20, p100 = total // 20, total // 100
    candidates = sorted(set(range(0, rendered_count, p20)) | set(range(0, rendered_count, p100)))
    return [(p, "%d%% done\n" % (p * 100 // total)) for p in candidates
            if p % p20 == 0 or ((10 * p < total or 10 * p > 9 * total) and p % p100 == 0)]


class LiveReport:
    """What the serial C prints while it renders, printed as serial_replay.render's chunks
    finish (it is render's `progress`): the progress lines, or -printout's per-pixel blocks,
    which replace them, the -trace_pixel lines and the interpolation warning, which the C
    prints while rendering the pixel where interpolation stops.  The C's progress counter
    counts the rendered pixels (ROI, mask not 0) before the current one."""

    def __init__(self, records, run, out, trace_idx=None):
        """records: the set-up records; run: the target's render (its plan, box and `pixel`, the
        single-pixel render -printout, the trace and the warning use); trace_idx: raster index
        of the -trace_pixel pixel when the C renders it, else None."""
        self.records, self.run, self.out = records, run, out
        self.box, plan = run.box, run.plan
        self.trace_idx = trace_idx
        self.mask_rows = None
        if plan.mask.size and self.box.size:
            box_mask = self.box.window(plan.mask) != 0
            self.mask_rows = box_mask
            self.rows_before = np.concatenate(([0], np.cumsum(box_mask.sum(axis=1))))
        options = records.options
        self.lines = [] if options.printout else _progress_lines(
            options.progress_meter, records.detector.progress_pixels, self._count(self.box.size))
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
        options, fpixels, pixel = self.records.options, self.records.detector.fpixels, self.run.pixel
        count_hi = self._count(t_done)
        events = []     # (progress count of the pixel, 0: during it / 1: after it, text or raster index)
        if options.printout:
            t = np.arange(self.done, t_done)
            if self.mask_rows is not None:
                t = t[self.mask_rows.ravel()[t]]
            first = self._count(self.done)
            for count, idx in enumerate(self.box.raster(t).tolist(), start=first):
                fpixel, spixel = idx % fpixels, idx // fpixels
                if ((fpixel == options.printout_fpixel and spixel == options.printout_spixel)
                        or options.printout_fpixel < 0):
                    events.append((count, 1, idx))
        while self.next_line < len(self.lines) and self.lines[self.next_line][0] < count_hi:
            events.append((self.lines[self.next_line][0], 1, self.lines[self.next_line][1]))
            self.next_line += 1
        if self.trace_idx is not None and self.box.index(self.trace_idx) < t_done:
            lines = pixel_trace(self.records, pixel, self.trace_idx, unrot_idx, interp_cut)
            events.append((self._count(self.box.index(self.trace_idx)), 0, "".join(line + "\n" for line in lines)))
            self.trace_idx = None
        if interp_cut != NO_PIXEL and not self.warned:
            self.warned = True
            events.append((self._count(self.box.index(interp_cut)), 0,
                           _interpolation_warning(pixel, interp_cut, unrot_idx)))
        for _, _, what in sorted(events, key=lambda e: e[:2]):
            if isinstance(what, str):
                self.out(what)
            else:
                _printout(self.records, self.run.plan, pixel, what, unrot_idx, interp_cut, self.out)
        self.done = t_done


def _interpolation_warning(pixel, idx, unrot_idx):
    _, last = pixel(idx, unrot_idx, idx)
    return c_format("WARNING: out of range for three point interpolation: h,k,l,h0,k0,l0: %g,%g,%g,%d,%d,%d \n"
                    "WARNING: further warnings will not be printed! ",
                    (last.oor_h, last.oor_k, last.oor_l, c_dtoi(last.oor_h0), c_dtoi(last.oor_k0), c_dtoi(last.oor_l0)))


def _printout(records, plan, pixel, idx, unrot_idx, interp_cut, out):
    """The C's -printout block of pixel idx."""
    fpixel, spixel = idx % records.detector.fpixels, idx // records.detector.fpixels
    value, last = pixel(idx, unrot_idx, interp_cut)
    pos = (0.0, last.pos1, last.pos2, last.pos3)
    twotheta = math.atan2(math.sqrt(pos[2] * pos[2] + pos[3] * pos[3]), pos[1])
    test = math.sin(twotheta / 2.0) / (records.options.lambda0 * 1e10)
    out(c_format("%4d %4d : stol = %g or %g\n", (fpixel, spixel, last.stol, test)))
    out(c_format("at %g %g %g\n", (pos[1], pos[2], pos[3])))
    out(c_format("hkl= %f %f %f  hkl0= %d %d %d\n",
                 (last.h, last.k, last.l, c_dtoi(last.h0), c_dtoi(last.k0), c_dtoi(last.l0))))
    out(c_format(" F_cell=%g  F_latt=%g   I = %g\n", (last.F_cell, last.F_latt, last.I)))
    out(c_format("I/steps %15.10g\n", (last.I / records.sampling.steps,)))
    out(c_format("polar   %15.10g\n", (last.polar,)))
    out(c_format("omega   %15.10g\n", (last.omega_pixel,)))
    out(c_format("capfrac %15.10g\n", (last.capture_fraction,)))
    out(c_format("pixel   %15.10g\n", (np.float32(value),)))
    out("real-space cell vectors (Angstrom):\n")
    out("     %-10s  %-10s  %-10s\n" % ("a", "b", "c"))
    a, b, c = plan.cells[int(last.lat_carry), int(last.lat_phi), int(last.lat_mos)]
    for i, axis in ((1, "X"), (2, "Y"), (3, "Z")):
        out(c_format("%s: %11.8f %11.8f %11.8f\n", (axis, a[i] * 1e10, b[i] * 1e10, c[i] * 1e10)))
