"""Render a plan on a target (kernels/targets.py) in chunks while replaying the state the
serial C carries from pixel to pixel.

A target renders every pixel independently from an entry state.  The serial C carries two
things between pixels (docs/quirks.md); `render` restores them exactly, at any thread count:
- phi carryover: the first pixel whose phi sweep runs starts from the unrotated lattice,
  every later pixel from the lattice the sweep leaves (the kernels' unrot_idx);
- interpolation switch-off: after the first out-of-range tricubic neighbourhood the C
  interpolates no more (the kernels' interp_cut).
The ROI box is rendered in chunks, in raster order.  Each chunk reports its first executed
and first out-of-range pixel, computed where the render ran (no per-pixel data comes back):
the chunk that holds the first executed pixel re-renders that pixel alone if the guess
(the first active pixel) was wrong, the chunk that holds the first out-of-range pixel
re-renders the pixels after it, and later chunks start from the corrected state.  Between
chunks the caller prints progress and a signal can stop the run (interrupt.py): chunks are
sized from the measured speed to take about CHUNK_SECONDS.
"""
import time
from contextlib import contextmanager

import numpy as np

from nbnumba import interrupt
from nbnumba.errors import NBError
from nbnumba.kernels.params import NO_PIXEL, PIX_NAN_INDEX, PIX_OOR
from nbnumba.settings import Settings
from nbnumba.setup.detector import RoiBox

CHUNK_SECONDS = 0.15                  # aim of a chunk's duration
FIRST_CHUNK = 4096                    # pixels in the first chunk (its time calibrates the next)
GROWTH = 8                            # a chunk is at most this many times the previous one


def first_active_pixel(plan, box):
    """Raster index of the first box pixel not masked off, or -1."""
    if not box.size:
        return -1
    if not plan.mask.size:
        return box.raster(0)
    hits = np.flatnonzero(box.window(plan.mask))
    return int(box.raster(int(hits[0]))) if hits.size else -1


def chunks(total, tile=NO_PIXEL, fixed=0):
    """Ranges (t_lo, t_hi) of box pixels covering [0, total) in order, each sized from the
    speed of the previous ones to take about CHUNK_SECONDS, never crossing a multiple of
    `tile` (a target's buffer size); fixed > 0 fixes the size (Settings.chunk_pixels)."""
    size = fixed if fixed > 0 else FIRST_CHUNK
    t = 0
    while t < total:
        hi = min(total, t + size, (t // tile + 1) * tile)
        start = time.perf_counter()
        yield t, hi
        elapsed = time.perf_counter() - start
        if not fixed:
            rate = (hi - t) / max(elapsed, 1e-6)
            size = int(min(max(rate * CHUNK_SECONDS, 1), size * GROWTH))
        t = hi


class RenderResult:
    def __init__(self, image, omega_sum, unrot_idx, interp_cut, render):
        self.image = image            # float32 (pixels,)
        self.omega_sum = omega_sum    # the C's omega_sum
        self.unrot_idx = unrot_idx    # the pixels' entry state (physics.render_pixels),
        self.interp_cut = interp_cut  # to render one of them again
        self.render = render          # the target's render object (device, precision, ...)


def _after_rerender(run, box, bit, first, pixel, rerendered_first, t_hi):
    """The chunk's first pixel with flag `bit` once `pixel` (the chunk's first executed pixel,
    so no earlier pixel has the flag) has been rendered again: rerendered_first is the first
    pixel with the flag the re-render reported (that pixel, or NO_PIXEL)."""
    if rerendered_first != NO_PIXEL:
        return pixel
    if first != pixel:
        return first
    t = box.index(pixel) + 1
    hits = np.flatnonzero(run.flags_of(t, t_hi) & bit)
    return int(box.raster(t + int(hits[0]))) if hits.size else NO_PIXEL


def prepare(plan, target, settings=None):
    """The target's render of `plan` (target from targets.select_target) as `settings` (a
    settings.Settings) say, its kernels compiled or loaded from Numba's cache: pass it to
    `render`."""
    p = plan.p
    run = target(plan, RoiBox(plan.fpixels, plan.spixels, p.roi_xmin, p.roi_xmax, p.roi_ymin, p.roi_ymax),
                 settings)
    run.load()
    return run


@contextmanager
def _threads(count):
    """Numba's thread count for this thread's parallel kernels in the block (None: as it is;
    at most the NUMBA_NUM_THREADS Numba started with)."""
    if count is None:
        yield
        return
    import numba
    before = numba.get_num_threads()
    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def render(run, progress=None, settings=None):
    """Render `run.plan` as the serial C would (run from `prepare`).

    progress(t_done, unrot_idx, interp_cut), if given, is called after each chunk with the
    number of box pixels done and the entry state so far (interp_cut NO_PIXEL while
    interpolation has not switched off).  settings (a settings.Settings) gives the chunk
    size and the CPU threads."""
    settings = settings if settings is not None else Settings()
    with _threads(settings.threads):
        return _render(run, progress, settings.chunk_pixels)


def _render(run, progress, chunk_pixels):
    plan, box = run.plan, run.box
    unrot = first_active_pixel(plan, box)   # right unless that pixel's sweep never runs (dmin)
    executed_seen = False
    cut = NO_PIXEL
    interpolating = bool(plan.p.interpolate)
    for t_lo, t_hi in chunks(box.size, run.max_chunk, chunk_pixels):
        first_exec, first_oor, first_nan = run.render(t_lo, t_hi, unrot, cut)
        if not executed_seen and first_exec != NO_PIXEL:
            executed_seen = True
            if first_exec != unrot:
                # pixels before it ran no sweep: only its own entry state was wrong
                unrot = first_exec
                te = box.index(unrot)
                _, oor_e, nan_e = run.render(te, te + 1, unrot, cut, count_omega=False)
                first_oor = _after_rerender(run, box, PIX_OOR, first_oor, unrot, oor_e, t_hi)
                first_nan = _after_rerender(run, box, PIX_NAN_INDEX, first_nan, unrot, nan_e, t_hi)
        if interpolating and cut == NO_PIXEL and first_oor != NO_PIXEL:
            cut = first_oor
            tc = box.index(cut)
            if tc + 1 < t_hi:
                run.render(tc + 1, t_hi, unrot, cut, count_omega=False)
        if first_nan != NO_PIXEL and first_nan <= cut:    # (pixels after the cut were rendered again without it)
            spixel, fpixel = divmod(first_nan, box.fpixels)
            raise NBError("ERROR: pixel %d %d: a NaN Miller index reaches the tricubic interpolation (from a "
                          "zero, infinite or NaN -lambda/-distance/-cell/-mat or detector vector): nanoBragg.c "
                          "crashes there; -nointerpolate avoids it" % (fpixel, spixel))
        if progress is not None:
            progress(t_hi, unrot, cut)
        interrupt.checkpoint()
    image, omega_rows = run.finish()
    omega_sum = 0.0
    for row_sum in omega_rows.tolist():     # rows in order, each summed left to right
        omega_sum += row_sum
    return RenderResult(image, omega_sum, unrot, cut, run)
