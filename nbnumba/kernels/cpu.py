"""The CPU render targets: physics.render_pixels over ranges of the ROI box, in parallel, in
double (CpuRender, the C's arithmetic) or with the float32 physics of physics32.py
(CpuRender32, -precision single: what the CUDA single kernel computes, checkable on any machine).

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

from nbnumba.kernels import physics
from nbnumba.kernels.params import LAST, NO_PIXEL, PIX_EXECUTED, PIX_NAN_INDEX, PIX_OOR, Entry, PixelOut, Scene
from nbnumba.kernels.physics32 import single
from nbnumba.numba_internals import argument_types, physics_keyed

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


def _box_kernel(render_pixels, name):
    """The parallel kernel `name` over a render_pixels (physics.py's, or the float32 physics of
    physics32.py): box pixels t_lo..t_hi-1 into the full-size image, flags and omega
    (per-pixel solid angle), as parallel tasks of up to SEGMENT pixels of one row."""
    def kernel(params, src, lattice, Fhkl, tricubic, mask, x0, width, row0, t_lo, t_hi, unrot_idx, interp_cut,
               image, flags, omega):
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
                render_pixels(row0 + r, x0 + lo - r * width, x0 + hi - r * width, entry, scene, out, tricubic, None,
                              None)
    kernel.__name__ = kernel.__qualname__ = name
    return njit(parallel=True, cache=True, error_model="numpy")(physics_keyed(kernel))


_render_box64 = _box_kernel(physics.render_pixels, "_render_box64")
_render_box32 = _box_kernel(single.render_pixels, "_render_box32")


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


def _alone_kernel(physics_module, name):
    """The kernel `name` that renders pixel (spixel, fpixel) alone, serially, from the given
    entry state with a physics module's render_pixels: the pixel's value; the C's last loop
    values go into `last` (a LAST record), the trace into tr (or None)."""
    render_pixels, pixel_value = physics_module.render_pixels, physics_module.pixel_value

    def kernel(fpixel, spixel, unrot_idx, interp_cut, params, src, lattice, Fhkl, tricubic, last, tr):
        idx = spixel * params[0].fpixels + fpixel
        out = PixelOut(np.zeros(1, dtype=np.float32), np.zeros(1, dtype=np.uint8), np.zeros(1), idx)
        render_pixels(spixel, fpixel, fpixel + 1, Entry(unrot_idx, interp_cut),
                      Scene(params, src, lattice, Fhkl, np.zeros(0, dtype=np.uint16)), out, tricubic, last, tr)
        rec = last[0]
        return pixel_value(params[0], rec.I, rec.capture_fraction, rec.polar, rec.omega_pixel)
    kernel.__name__ = kernel.__qualname__ = name
    return njit(cache=True, error_model="numpy")(physics_keyed(kernel))


_render_alone64 = _alone_kernel(physics, "_render_alone64")
_render_alone32 = _alone_kernel(single, "_render_alone32")


class CpuRender:
    """One render of a plan on the CPU (serial_replay.render drives it): the image, flags and
    per-pixel solid angles are full-size host arrays the kernel writes in place; omega_rows
    the per-row sums."""

    name = "cpu"
    precision = "double"
    max_chunk = NO_PIXEL
    kernel = staticmethod(_render_box64)     # (a Numba dispatcher would bind self)
    alone = staticmethod(_render_alone64)

    def __init__(self, plan, box, settings=None):
        self.plan = plan
        self.box = box
        self.arrays = plan.arrays(self.precision == "single")
        self.image = np.zeros(plan.pixels, dtype=np.float32)
        self.flags = np.zeros(plan.pixels, dtype=np.uint8)
        self.omega = np.zeros(plan.pixels)
        self.omega_rows = np.zeros(max(plan.spixels, 0))

    def load(self):
        """Compile the kernels, or load them from Numba's cache (the "kernel load" phase)."""
        zero = np.int64(0)
        self.kernel.compile(argument_types(self.arrays + (
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
                self.kernel(*self.arrays, b.x0, b.width, b.y0, t_lo, t_hi, unrot_idx, interp_cut,
                            self.image, self.flags, self.omega)
        finally:
            numba.set_parallel_chunksize(old)
        firsts = _account(self.flags, self.omega, self.plan.fpixels, b.x0, b.width, b.y0, t_lo, t_hi,
                          self.omega_rows, count_omega)
        return tuple(int(x) for x in firsts)

    def pixel(self, idx, unrot_idx, interp_cut, tr=None):
        """Pixel idx alone, serially, from the given entry state: (value, last), last the
        record of the loop's last values (params.LAST) for -printout, the interpolation
        warning and -trace_pixel (which passes a trace buffer as tr)."""
        last = np.zeros(1, dtype=LAST)
        fpixels = self.plan.fpixels
        value = self.alone(idx % fpixels, idx // fpixels, unrot_idx, interp_cut, *self.arrays[:5], last, tr)
        return value, last.view(np.recarray)[0]

    def flags_of(self, t_lo, t_hi):
        """The PIX_* flags of box pixels [t_lo, t_hi) as the last render left them."""
        return self.flags[self.box.raster(np.arange(t_lo, t_hi))]

    def finish(self):
        """(float32 image (pixels,), per-row solid-angle sums)."""
        return self.image, self.omega_rows


class CpuRender32(CpuRender):
    """-precision single on the CPU: the float32 physics (physics32.py) that the CUDA single
    kernel runs, for anyone to check single precision without a GPU."""

    precision = "single"
    kernel = staticmethod(_render_box32)
    alone = staticmethod(_render_alone32)
