"""The CUDA render target: physics.render_pixels for one pixel per GPU thread.

Same interface as cpu.CpuRender (serial_replay.render drives it over ranges of the ROI box);
`CudaRender32` is the target for -precision single.  The kernels call the very functions of
physics.py that the CPU kernel calls; nothing of the physics is copied here.

What stays on the device: the plan's arrays (uploaded once per plan and precision and kept
on the plan), and per render a tile of the ROI box (float32 image, uint8 flags, float64
solid angle per pixel), the per-row solid-angle sums and three int64 "first pixel" slots.  A
chunk is one launch of the pixel kernel (each thread records its pixel in the first-executed,
first-out-of-range and first-NaN-index slots with atomicMin) and one launch of a row kernel that adds the
chunk's solid angles to each row's running sum, left to right as the CPU does (so omega_sum
is the CPU's to the bit); 24 bytes come back per chunk.  The image comes back once per tile,
and the row sums once per render.  A tile is the whole box unless its buffers
(BYTES_PER_PIXEL a pixel) would not fit in MEMORY_FRACTION of the device's free memory; then
it is as many rows as do (serial_replay never lets a chunk cross a tile).  NBNUMBA_CUDA_TILE_ROWS=n
caps a tile at n rows (for tests).

Double precision (the default) is the C's arithmetic: float64 plan arrays and float64
literals.  NVVM contracts a*b+c into fused multiply-adds by default (one rounding where the C
rounds twice); numba_internals.no_fma_contraction turns that off for the double kernels
(`double_without_fma`, or a double render refuses to run), so on a GPU the image differs
from the C only where libdevice's sin/cos/exp/atan2 differ from the C library's in the last
place.  Under the CUDA simulator the kernel runs as Python with the C library's math: the
CPU's bits exactly.

Single precision compiles the same physics a second time (`physics32`, numba_internals.retype_functions):
clones of the functions of physics.py and vectors.py made from their own bytecode, in which
every float literal, math.pi and float() are float32, fed with float32 copies of the params
record (params.PARAMS32), src, lattice and Fhkl.  physics.py writes its int-to-float spots as `float(int)` (Fdet,
Sdet, Odet, thick_tic, `h - float(h0)`; bit-identical in double), so every variable of the
render loop types float32; numba promotes int64 op float32 to float64 only at the
interpolation range test (`h - h_min + 3 > h_range`) and pixel_value's division by steps.
Accuracy (float32 clone on the CPU over the 49 golden images): correlation with the C
>= 0.99999999, max |diff|/max <= 2.6e-4 (tilted_twotheta).  NVVM may contract the single
kernel's multiply-adds; fastmath stays off (no flush to zero, IEEE division and sqrt,
full-range sinf/cosf: the sincg arguments reach ~1e3 radians).
"""
import math
import os

import numba
import numpy as np
from numba import cuda

from nbnumba.cfuncs import vectors
from nbnumba.kernels import physics
from nbnumba.errors import NBError
from nbnumba.numba_internals import (MissingInternal, argument_types, guard_loaded, no_fma_contraction, physics_keyed,
                                     retype_functions)
from nbnumba.kernels.params import (LAST, NO_PIXEL, PARAMS32, PIX_EXECUTED, PIX_NAN_INDEX, PIX_OOR, Entry, PixelOut,
                                   Scene)


THREADS = 128          # threads per block of the pixel kernel
# register cap of the pixel kernels: 128 was the fastest cap measured on an H100 for an earlier
# version of the kernel; with it ptxas spills nothing in single precision without interpolation
# (docs/performance.md, benchmarks/cuda_ptxas.py).  Re-tune on a GPU with this variable.
MAX_REGISTERS = int(os.environ.get("NBNUMBA_CUDA_MAX_REGISTERS", "128") or 0) or None
ROW_THREADS = 128      # threads per block of the row-sum kernel
MEMORY_FRACTION = 0.8  # share of the free device memory a tile may take
BYTES_PER_PIXEL = 4 + 1 + 8   # float32 value, uint8 flags, float64 solid angle

guard_loaded()   # numba-cuda's own caching module gets the cache guards (numba_internals.py)


# ---- physics in float32: the same bytecode with float32 literals ----

physics32 = retype_functions(np.float32, (vectors, physics))
render_pixels32 = physics32.render_pixels
render_pixels64 = physics.render_pixels


# ---- kernels ----

def _pixel_kernel(render_pixels, name):
    """The pixel kernel `name` over a render_pixels (float64 or float32 physics): thread i renders box
    pixel t = t_lo + i, (row0 + t // width, x0 + t % width), into slot t - tile_t0 of the tile
    buffers, and records it in firsts[0] (executed), firsts[1] (out of range) and firsts[2]
    (NaN index) by atomicMin."""
    def kernel(params, src, lattice, Fhkl, tricubic, mask, x0, width, row0, tile_t0, t_lo, n, unrot_idx, interp_cut,
               image, flags, omega, firsts):
        i = cuda.grid(1)
        if i >= n:
            return
        t = t_lo + i
        slot = t - tile_t0
        spixel = row0 + t // width
        fpixel = x0 + t % width
        idx = spixel * params[0].fpixels + fpixel
        image[slot] = 0.0
        flags[slot] = 0
        omega[slot] = 0.0
        render_pixels(spixel, fpixel, fpixel + 1, Entry(unrot_idx, interp_cut),
                      Scene(params, src, lattice, Fhkl, mask), PixelOut(image, flags, omega, idx - slot), tricubic,
                      None, None)
        f = flags[slot]
        if f & PIX_EXECUTED:
            cuda.atomic.min(firsts, 0, idx)
        if f & PIX_OOR:
            cuda.atomic.min(firsts, 1, idx)
        if f & PIX_NAN_INDEX:
            cuda.atomic.min(firsts, 2, idx)
    kernel.__name__ = kernel.__qualname__ = name
    options = {} if numba.config.ENABLE_CUDASIM else {"max_registers": MAX_REGISTERS}   # the simulator has none
    return cuda.jit(cache=True, **options)(physics_keyed(kernel))


_render_box64 = _pixel_kernel(render_pixels64, "_render_box64")
_render_box32 = _pixel_kernel(render_pixels32, "_render_box32")


def _alone_kernel(physics_module, name):
    """One thread renders pixel idx alone from the given entry state (as cpu.render_pixel
    does): the C's last loop values into `last` (a LAST record), the trace into tr (or None),
    the pixel's value into value[0]."""
    render_pixels, pixel_value = physics_module.render_pixels, physics_module.pixel_value

    def kernel(params, src, lattice, Fhkl, tricubic, no_mask, idx, unrot_idx, interp_cut, last, tr, value):
        if cuda.grid(1) != 0:
            return
        p = params[0]
        spixel = idx // p.fpixels
        fpixel = idx % p.fpixels
        out = PixelOut(cuda.local.array(1, numba.float32), cuda.local.array(1, numba.uint8),
                       cuda.local.array(1, numba.float64), idx)
        render_pixels(spixel, fpixel, fpixel + 1, Entry(unrot_idx, interp_cut),
                      Scene(params, src, lattice, Fhkl, no_mask), out, tricubic, last, tr)
        rec = last[0]
        value[0] = pixel_value(p, rec.I, rec.capture_fraction, rec.polar, rec.omega_pixel)
    kernel.__name__ = kernel.__qualname__ = name
    return cuda.jit(cache=True)(physics_keyed(kernel))


_render_alone64 = _alone_kernel(physics, "_render_alone64")
_render_alone32 = _alone_kernel(physics32, "_render_alone32")


@cuda.jit(cache=True)
def _row_sums(omega, width, tile_t0, t_lo, t_hi, row0, rows_acc):
    """rows_acc[row0 + r] += the solid angles of box row r's pixels in [t_lo, t_hi), left to
    right from its running value (thread r - t_lo // width per row)."""
    r = t_lo // width + cuda.grid(1)
    if r * width >= t_hi:
        return
    acc = rows_acc[row0 + r]
    for t in range(max(t_lo, r * width), min(t_hi, (r + 1) * width)):
        acc += omega[t - tile_t0]
    rows_acc[row0 + r] = acc


def double_without_fma():
    """Have NVVM compile the double kernels without multiply-add contraction, so that they
    round as the C does (numba_internals.no_fma_contraction); NBError where this Numba
    offers no way to (a double kernel would then differ from the C without a word)."""
    try:
        no_fma_contraction("_render_box64", "_render_alone64")
    except MissingInternal as err:
        raise NBError("ERROR: -device cuda -precision double: %s; -device cpu renders the C's arithmetic, "
                      "-precision single needs no such guarantee" % err, 2) from err


# ---- host side ----

def _device_plan(plan, single):
    """The plan's arrays on the device (uploaded once per plan and precision)."""
    cached = plan.__dict__.setdefault("_nbnumba_cuda", {})
    if single in cached:
        return cached[single]
    ft = np.float32 if single else np.float64

    def up(a, dtype):
        return cuda.to_device(np.ascontiguousarray(a, dtype=dtype))

    F = up(plan.Fhkl, ft)
    params = cuda.to_device(plan.params.astype(PARAMS32) if single else plan.params)
    arrays = (params, up(plan.src, ft), up(plan.lattice, ft), F, F if plan.tricubic is not None else None,
              up(plan.mask, np.uint16))
    cached[single] = arrays
    return arrays


def _tile_rows(width, rows):
    """Rows per tile: the whole box if its buffers fit in MEMORY_FRACTION of free memory."""
    free = cuda.current_context().get_memory_info()[0]
    fit = rows if not math.isfinite(free) else int(free * MEMORY_FRACTION // (width * BYTES_PER_PIXEL))
    cap = int(os.environ.get("NBNUMBA_CUDA_TILE_ROWS", "0") or 0)
    if cap > 0:
        fit = min(fit, cap)
    if fit < 1:
        raise MemoryError("nbnumba: not even one detector row (%d pixels) fits in the GPU's free memory"
                          % width)
    return min(rows, fit)


class CudaRender:
    """One render of a plan on the GPU, in double precision (serial_replay.render drives it)."""

    name = "cuda"
    precision = "double"
    kernel = _render_box64
    alone = _render_alone64

    def __init__(self, plan, box):
        if self.precision == "double":
            double_without_fma()
        self.plan, self.box = plan, box
        self.arrays = _device_plan(plan, self.precision == "single")
        self.image = np.zeros(plan.pixels, dtype=np.float32)
        self.tile_rows = _tile_rows(box.width, box.rows) if box.size else 1
        self.max_chunk = self.tile_rows * max(box.width, 1)
        n = min(self.max_chunk, max(box.size, 1))
        self.d_image = cuda.device_array(n, dtype=np.float32)
        self.d_flags = cuda.device_array(n, dtype=np.uint8)
        self.d_omega = cuda.device_array(n, dtype=np.float64)
        self.d_rows = cuda.to_device(np.zeros(max(plan.spixels, 1)))
        self.d_firsts = cuda.device_array(3, dtype=np.int64)
        self.none = np.full(3, NO_PIXEL, dtype=np.int64)
        self.tile_t0 = 0

    def load(self):
        """Compile the kernel or load it from Numba's cache (the "kernel load" phase)."""
        compile_for = getattr(self.kernel, "compile", None)    # absent under the simulator
        if compile_for is not None:
            zero = np.int64(0)
            compile_for(argument_types(self.arrays + (zero,) * 8 + (
                self.d_image, self.d_flags, self.d_omega, self.d_firsts)))

    def _flush(self):
        """Copy the current tile's image into the host image."""
        box = self.box
        t_end = min(self.tile_t0 + self.max_chunk, box.size)
        if t_end <= self.tile_t0:
            return
        row_a, row_b = self.tile_t0 // box.width, t_end // box.width
        if box.width == self.plan.fpixels:
            lo = (box.y0 + row_a) * box.fpixels
            self.d_image[:t_end - self.tile_t0].copy_to_host(self.image[lo:lo + t_end - self.tile_t0])
        else:
            tile = self.d_image[:t_end - self.tile_t0].copy_to_host().reshape(row_b - row_a, box.width)
            img = self.image.reshape(self.plan.spixels, self.plan.fpixels)
            img[box.y0 + row_a:box.y0 + row_b, box.x0:box.x0 + box.width] = tile

    def render(self, t_lo, t_hi, unrot_idx, interp_cut, count_omega=True):
        """Render box pixels [t_lo, t_hi) (never across a tile); return their (first executed,
        first out-of-range, first NaN-index) pixels from the device's atomics."""
        if t_lo >= self.tile_t0 + self.max_chunk:
            self._flush()
            self.tile_t0 = t_lo - t_lo % self.max_chunk
        box = self.box
        n = t_hi - t_lo
        self.d_firsts.copy_to_device(self.none)
        self.kernel[(n + THREADS - 1) // THREADS, THREADS](
            *self.arrays, box.x0, box.width, box.y0, self.tile_t0, t_lo, n, unrot_idx, interp_cut,
            self.d_image, self.d_flags, self.d_omega, self.d_firsts)
        if count_omega:
            rows = (t_hi - 1) // box.width - t_lo // box.width + 1
            _row_sums[(rows + ROW_THREADS - 1) // ROW_THREADS, ROW_THREADS](
                self.d_omega, box.width, self.tile_t0, t_lo, t_hi, box.y0, self.d_rows)
        return tuple(int(x) for x in self.d_firsts.copy_to_host())

    def flags_of(self, t_lo, t_hi):
        """The PIX_* flags of box pixels [t_lo, t_hi) of the current tile."""
        return self.d_flags[t_lo - self.tile_t0:t_hi - self.tile_t0].copy_to_host()

    def pixel(self, idx, unrot_idx, interp_cut, tr=None):
        """Pixel idx alone on the GPU, from the given entry state: (value, last), last the
        record of the C's last loop values (params.LAST); a trace buffer tr is filled in place."""
        last = cuda.to_device(np.zeros(1, dtype=LAST))
        d_tr = cuda.to_device(tr) if tr is not None else None
        value = cuda.device_array(1, dtype=np.float64)
        no_mask = cuda.to_device(np.zeros(0, dtype=np.uint16))
        self.alone[1, 1](*self.arrays[:5], no_mask, idx, unrot_idx, interp_cut, last, d_tr, value)
        if tr is not None:
            tr[...] = d_tr.copy_to_host()
        return float(value.copy_to_host()[0]), last.copy_to_host().view(np.recarray)[0]

    def finish(self):
        """(float32 image (pixels,), per-row solid-angle sums)."""
        self._flush()
        return self.image, self.d_rows.copy_to_host()[:max(self.plan.spixels, 0)]


class CudaRender32(CudaRender):
    """-precision single: float32 physics and plan arrays."""

    precision = "single"
    kernel = _render_box32
    alone = _render_alone32
