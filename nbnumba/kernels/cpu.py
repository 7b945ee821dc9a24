"""The CPU render target: physics.render_pixels over ranges of the ROI box, in parallel.

The ROI box is the rectangle of pixels the C's loop visits (columns x0..x0+width-1 of rows
row0...); box pixel t is (row0 + t // width, x0 + t % width), so box order is raster order.
serial_replay.render hands the target ranges [t_lo, t_hi) of box pixels in order (see there).
Parallel tasks of up to SEGMENT pixels of one row, handed out a few at a time, so any range
keeps every thread busy.
"""
import contextlib
import threading

import numba
import numpy as np
from numba import njit, prange

from nbnumba.numba_internals import argument_types, physics_keyed
from nbnumba.kernels.params import LAST, NO_PIXEL, PIX_EXECUTED, PIX_NAN_INDEX, PIX_OOR, Entry, PixelOut, Scene
from nbnumba.kernels.physics import pixel_value, render_pixels

SEGMENT = 64                      # pixels of one row a parallel task renders (parameters load once per task)
TASKS_PER_GRAB = 4                # tasks a thread takes at a time (numba's parallel chunk size)

_LAUNCHES = threading.Lock()


def _launch_guard():
    """What a parallel kernel launch runs under: Numba's workqueue threading layer aborts the
    process when two threads launch at once (the OpenMP and TBB layers do not), so there, and
    until a launch has told which layer runs, launches take turns."""
    try:
        layer = numba.threading_layer()
    except ValueError:          # no parallel launch yet
        return _LAUNCHES
    return _LAUNCHES if layer == "workqueue" else contextlib.nullcontext()


@njit(parallel=True, cache=True, error_model="numpy")
@physics_keyed
def _render_box(params, src, lattice, Fhkl, tricubic, mask, x0, width, row0, t_lo, t_hi, unrot_idx, interp_cut,
                image, flags, omega):
    """Box pixels t_lo..t_hi-1 into the full-size image, flags and omega (per-pixel solid
    angle), as parallel tasks of up to SEGMENT pixels of one row."""
    first_row = t_lo // width
    segments = (width + SEGMENT - 1) // SEGMENT
    tasks = ((t_hi - 1) // width - first_row + 1) * segments
    entry = Entry(unrot_idx, interp_cut)
    scene = Scene(params, src, lattice, Fhkl, mask)
    out = PixelOut(image, flags, omega, 0)
    for task in prange(tasks):
        r = first_row + task // segments
        lo = max(r * width + task % segments * SEGMENT, t_lo)
        hi = min(r * width + task % segments * SEGMENT + SEGMENT, (r + 1) * width, t_hi)
        if lo < hi:
            render_pixels(row0 + r, x0 + lo - r * width, x0 + hi - r * width, entry, scene, out, tricubic, None, None)


@njit(cache=True, error_model="numpy")
def _account(flags, omega, fpixels, x0, width, row0, t_lo, t_hi, omega_rows, count_omega):
    """In raster order over box pixels t_lo..t_hi-1: the first executed, the first out-of-range
    and the first NaN-index pixel (raster indices, NO_PIXEL if none), and, if count_omega, each
    pixel's solid angle added to its row's running sum (left to right, as the C adds them)."""
    first_exec = NO_PIXEL
    first_oor = NO_PIXEL
    first_nan = NO_PIXEL
    for r in range(t_lo // width, (t_hi - 1) // width + 1):
        spixel = row0 + r
        base = spixel * fpixels + x0 - r * width
        acc = omega_rows[spixel]
        for t in range(max(t_lo, r * width), min(t_hi, (r + 1) * width)):
            f = flags[base + t]
            if f & PIX_EXECUTED and first_exec == NO_PIXEL:
                first_exec = base + t
            if f & PIX_OOR and first_oor == NO_PIXEL:
                first_oor = base + t
            if f & PIX_NAN_INDEX and first_nan == NO_PIXEL:
                first_nan = base + t
            acc += omega[base + t]
        if count_omega:
            omega_rows[spixel] = acc
    return first_exec, first_oor, first_nan


@njit(cache=True, error_model="numpy")
@physics_keyed
def _render_one(fpixel, spixel, unrot_idx, interp_cut, params, src, lattice, Fhkl, tricubic, last, tr):
    idx = spixel * params[0].fpixels + fpixel
    out = PixelOut(np.zeros(1, dtype=np.float32), np.zeros(1, dtype=np.uint8), np.zeros(1), idx)
    render_pixels(spixel, fpixel, fpixel + 1, Entry(unrot_idx, interp_cut),
                  Scene(params, src, lattice, Fhkl, np.zeros(0, dtype=np.uint16)), out, tricubic, last, tr)
    rec = last[0]
    return pixel_value(params[0], rec.I, rec.capture_fraction, rec.polar, rec.omega_pixel)


class CpuRender:
    """One render of a plan on the CPU (serial_replay.render drives it): the image, flags and
    per-pixel solid angles are full-size host arrays the kernel writes in place; omega_rows
    the per-row sums."""

    name = "cpu"
    precision = "double"
    max_chunk = NO_PIXEL

    def __init__(self, plan, box):
        self.plan = plan
        self.box = box
        self.image = np.zeros(plan.pixels, dtype=np.float32)
        self.flags = np.zeros(plan.pixels, dtype=np.uint8)
        self.omega = np.zeros(plan.pixels)
        self.omega_rows = np.zeros(max(plan.spixels, 0))

    def _args(self):
        p = self.plan
        return p.params, p.src, p.lattice, p.Fhkl, p.tricubic, p.mask

    def load(self):
        """Compile the kernels, or load them from Numba's cache (the "kernel load" phase)."""
        zero = np.int64(0)
        _render_box.compile(argument_types(self._args() + (
            zero, zero, zero, zero, zero, zero, zero, self.image, self.flags, self.omega)))
        _account.compile(argument_types((
            self.flags, self.omega, zero, zero, zero, zero, zero, zero, self.omega_rows, False)))

    def render(self, t_lo, t_hi, unrot_idx, interp_cut, count_omega=True):
        """Render box pixels [t_lo, t_hi); return their (first executed, first out-of-range,
        first NaN-index) pixels (NO_PIXEL where there is none)."""
        b = self.box
        old = numba.set_parallel_chunksize(TASKS_PER_GRAB)
        try:
            with _launch_guard():
                _render_box(*self._args(), b.x0, b.width, b.y0, t_lo, t_hi, unrot_idx, interp_cut,
                            self.image, self.flags, self.omega)
        finally:
            numba.set_parallel_chunksize(old)
        firsts = _account(self.flags, self.omega, self.plan.fpixels, b.x0, b.width, b.y0, t_lo, t_hi,
                          self.omega_rows, count_omega)
        return tuple(int(x) for x in firsts)

    def pixel(self, idx, unrot_idx, interp_cut, tr=None):
        """Pixel idx alone, from the given entry state: render_pixel's (value, last)."""
        return render_pixel(self.plan, idx, unrot_idx, interp_cut, tr)

    def flags_of(self, t_lo, t_hi):
        """The PIX_* flags of box pixels [t_lo, t_hi) as the last render left them."""
        return self.flags[self.box.raster(np.arange(t_lo, t_hi))]

    def finish(self):
        """(float32 image (pixels,), per-row solid-angle sums)."""
        return self.image, self.omega_rows


def render_pixel(plan, idx, unrot_idx, interp_cut, tr=None):
    """Pixel idx alone, serially, from the given entry state: (value, last), last the record
    of the loop's last values (params.LAST) for -printout, the interpolation warning and
    -trace_pixel (which passes a trace buffer as tr)."""
    last = np.zeros(1, dtype=LAST)
    value = _render_one(idx % plan.fpixels, idx // plan.fpixels, unrot_idx, interp_cut, plan.params, plan.src,
                        plan.lattice, plan.Fhkl, plan.tricubic, last, tr)
    return value, last.view(np.recarray)[0]
