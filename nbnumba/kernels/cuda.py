"""The CUDA render kernel: physics.render_pixels for one pixel per GPU thread.

Same target interface as cpu.py (`render_range`, see dispatch.render); `SINGLE` is the
target for -precision single.  The kernels call the very functions of physics.py that the
CPU kernel calls; nothing of the physics is copied here.

Device memory, per plan and precision: fp, ip, vec, src, lattice, Fhkl and the mask are
uploaded once and kept on the plan (`plan._nbnumba_cuda`), so dispatch.render's up to three
render_range calls upload nothing again.  A call renders the ROI box (columns ROI_XMIN..XMAX
of the rows that hold pixels of [first_idx, last_idx]) in tiles of whole rows: one launch of
the pixel kernel over the tile (a thread per pixel, THREADS per block), one launch of a row
kernel that sums each row's solid angles on the device, then one copy back of the tile's
image, flags and row sums.  A tile is the whole box unless its buffers (BYTES_PER_PIXEL a
pixel) would not fit in MEMORY_FRACTION of the device's free memory; then it is as many
rows as do.  NBNUMBA_CUDA_TILE_ROWS=n caps a tile at n rows (for tests).

Double precision (the default) is the C's arithmetic: float64 plan arrays, float64 `last`,
float64 literals.  The row sums add the pixels' solid angles left to right from 0.0, as
the CPU kernel does, so omega_sum is the CPU's to the bit.  NVVM contracts a*b+c into fused
multiply-adds by default (one rounding where the C rounds twice); _no_fma_contraction turns
that off for the double kernel, so on a GPU the image differs from the C only where
libdevice's sin/cos/exp/atan2 differ from the C library's in the last place.  Under the
CUDA simulator the kernel runs as Python with the C library's math: the CPU's bits exactly.

Single precision compiles the same physics a second time (`physics32`, _retyped_physics):
clones of the functions of physics.py and vectors.py made from their own bytecode, in which
every float literal, math.pi and float() are float32, fed with float32 copies of fp, vec,
src, lattice and Fhkl and a float32 `last`.  physics.py writes its int-to-float spots as
`float(int)` (Fdet, Sdet, Odet, thick_tic, `h - float(h0)`; bit-identical in double), so every
variable of the render loop types float32; numba promotes int64 op float32 to float64 only
at the interpolation range test (`h - h_min + 3 > h_range`) and pixel_value's division by
steps.  Accuracy (float32 clone on the CPU over the 49 golden images): correlation with
the C >= 0.99999999, max |diff|/max <= 2.6e-4 (tilted_twotheta).
NVVM may contract the single kernel's multiply-adds; fastmath stays off (no flush to zero,
IEEE division and sqrt, full-range sinf/cosf: the sincg arguments reach ~1e3 radians).
"""
import math
import os
import types

import numpy as np
from numba import cuda, float32, float64
from numba.extending import register_jitable

from nbnumba.kernels import physics, vectors
from nbnumba.kernels.cache import guard_loaded, physics_keyed
from nbnumba.kernels.layout import IP_FPIXELS, IP_ROI_XMAX, IP_ROI_XMIN, IP_ROI_YMAX, IP_ROI_YMIN, N_LAST

THREADS = 128          # threads per block of the pixel kernel
ROW_THREADS = 128      # threads per block of the row-sum kernel
NOT_RENDERED = 0xFF    # device flags of a pixel the kernel skipped (not in range, or masked)
MEMORY_FRACTION = 0.8  # share of the free device memory a tile may take
BYTES_PER_PIXEL = 4 + 1 + 8   # float32 value, uint8 flags, float64 solid angle
BYTES_PER_ROW = 8             # float64 row sum

guard_loaded()   # issue 7 (kernels/cache.py): numba-cuda's own caching module gets nbnumba's cache guards


# ---- physics in float32: the same bytecode with float32 literals ----

def _jit_options(fn):
    """register_jitable's options of fn (inline=...), read back from numba's registry."""
    try:
        from numba.core.typing.templates import builtin_registry
        for f, ty in builtin_registry.globals:
            if f is fn:
                tmpl = ty.templates[0]
                opts = {k: v for k, v in tmpl._jit_options.items() if k not in ("nopython", "no_cpython_wrapper")}
                if tmpl._inline.value != "never":
                    opts["inline"] = tmpl._inline.value
                return opts
    except Exception:   # pragma: no cover - numba internals moved: plain register_jitable
        pass
    return {}


def _retyped_physics(ftype, modules=(vectors, physics)):
    """Clones of every function of `modules` whose float literals, math.pi and float()
    are ftype; each clone is register_jitable and calls the other clones."""
    fmath = types.ModuleType("math_" + np.dtype(ftype).name)
    fmath.__dict__.update(math.__dict__)
    fmath.pi = ftype(math.pi)
    fmath.e = ftype(math.e)
    originals = [fn for m in modules for fn in vars(m).values()
                 if isinstance(fn, types.FunctionType) and fn.__module__ == m.__name__]
    clones = {}
    spaces = {}
    for m in modules:
        g = dict(vars(m))
        g["math"] = fmath
        g["float"] = ftype
        spaces[m.__name__] = g
    for fn in originals:
        code = fn.__code__
        consts = tuple(ftype(c) if type(c) is float else c for c in code.co_consts)
        clone = types.FunctionType(code.replace(co_consts=consts), spaces[fn.__module__], fn.__name__,
                                   fn.__defaults__, fn.__closure__)
        clone.__qualname__ = fn.__qualname__
        clone.__doc__ = fn.__doc__
        clones[fn] = clone
    for g in spaces.values():
        for name, value in list(g.items()):
            if isinstance(value, types.FunctionType) and value in clones:
                g[name] = clones[value]
    for fn, clone in clones.items():
        opts = _jit_options(fn)
        (register_jitable(**opts)(clone) if opts else register_jitable(clone))
    return types.SimpleNamespace(**spaces[physics.__name__])


physics32 = _retyped_physics(np.float32)
render_pixels32 = physics32.render_pixels
render_pixels64 = physics.render_pixels


# ---- kernels ----

@cuda.jit(cache=True)
@physics_keyed
def _render_tile64(fp, ip, vec, src, lattice, Fhkl, mask, x0, width, row0, n,
                   first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega):
    """Pixel kernel, float64: thread t renders pixel (row0 + t // width, x0 + t % width) into
    slot t of the tile's buffers; flags[t] stays NOT_RENDERED if the pixel is not rendered."""
    t = cuda.grid(1)
    if t >= n:
        return
    spixel = row0 + t // width
    fpixel = x0 + t % width
    last = cuda.local.array(N_LAST, float64)
    flags[t] = NOT_RENDERED
    omega[t] = render_pixels64(spixel, fpixel, fpixel + 1, first_idx, last_idx, unrot_idx, interp_cut,
                               fp, ip, vec, src, lattice, Fhkl, mask, image, flags,
                               spixel * ip[IP_FPIXELS] + fpixel - t, last, None)


@cuda.jit(cache=True)
@physics_keyed
def _render_tile32(fp, ip, vec, src, lattice, Fhkl, mask, x0, width, row0, n,
                   first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega):
    """Pixel kernel, float32 physics (physics32, float32 plan arrays, float32 `last`)."""
    t = cuda.grid(1)
    if t >= n:
        return
    spixel = row0 + t // width
    fpixel = x0 + t % width
    last = cuda.local.array(N_LAST, float32)
    flags[t] = NOT_RENDERED
    omega[t] = render_pixels32(spixel, fpixel, fpixel + 1, first_idx, last_idx, unrot_idx, interp_cut,
                               fp, ip, vec, src, lattice, Fhkl, mask, image, flags,
                               spixel * ip[IP_FPIXELS] + fpixel - t, last, None)


@cuda.jit(cache=True)
def _row_sums(omega, width, rows, out):
    """out[r] = the tile's row r of solid angles summed left to right from 0.0 (the CPU's order)."""
    r = cuda.grid(1)
    if r >= rows:
        return
    acc = 0.0
    base = r * width
    for j in range(width):
        acc += omega[base + j]
    out[r] = acc


# ---- NVVM: no multiply-add contraction in the double kernel ----

def _no_fma_contraction():
    """NVVM fuses a*b+c into one fma by default (-fma=1), which the C does not do (gcc -O3
    for baseline x86-64 has no fma instruction to contract into).  numba has no public option for it, so
    wrap libNVVM's compile call: IR of this module's double kernel compiles with fma=0.
    A numba without that internal simply keeps contraction (results differ from the C in
    the last place more often; nothing else changes)."""
    try:
        from numba.cuda.cudadrv import nvvm
    except Exception:   # pragma: no cover - the simulator, or no CUDA bindings at all
        return
    orig = getattr(nvvm, "compile_ir", None)
    if orig is None:
        return
    if getattr(orig, "_nbnumba_no_fma", False):
        return

    def compile_ir(llvmir, **options):
        irs = [llvmir] if isinstance(llvmir, (str, bytes)) else llvmir
        if not options.get("fastmath") and "fma" not in options and any(
                isinstance(ir, str) and "_render_tile64" in ir for ir in irs):
            options["fma"] = False
        return orig(llvmir, **options)

    compile_ir._nbnumba_no_fma = True
    compile_ir.__wrapped__ = orig
    nvvm.compile_ir = compile_ir


_no_fma_contraction()


# ---- host side ----

def _device_plan(plan, single):
    """The plan's arrays on the device (uploaded once per plan and precision)."""
    cached = plan.__dict__.setdefault("_nbnumba_cuda", {})
    if single in cached:
        return cached[single]
    ft = np.float32 if single else np.float64

    def up(a, dtype):
        return cuda.to_device(np.ascontiguousarray(a, dtype=dtype))

    arrays = (up(plan.fp, ft), up(plan.ip, np.int64), up(plan.vec, ft), up(plan.src, ft),
              up(plan.lattice, ft), up(plan.Fhkl, ft), up(plan.mask, np.uint16))
    cached[single] = arrays
    return arrays


def _tile_rows(width, rows):
    """Rows per tile: the whole box if its buffers fit in MEMORY_FRACTION of free memory."""
    free = cuda.current_context().get_memory_info()[0]
    per_row = width * BYTES_PER_PIXEL + BYTES_PER_ROW
    fit = rows if not math.isfinite(free) else int(free * MEMORY_FRACTION // per_row)
    cap = int(os.environ.get("NBNUMBA_CUDA_TILE_ROWS", "0") or 0)
    if cap > 0:
        fit = min(fit, cap)
    if fit < 1:
        raise MemoryError("nbnumba: not even one detector row (%d pixels) fits in the GPU's free memory"
                          % width)
    return min(rows, fit)


def render_range(plan, first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega_rows, precision="double"):
    """Target interface (see dispatch.render): render a raster range of plan into image."""
    single = precision == "single"
    fpixels, spixels = plan.fpixels, plan.spixels
    ip = plan.ip
    x0 = max(0, int(ip[IP_ROI_XMIN]))
    x1 = min(fpixels - 1, int(ip[IP_ROI_XMAX]))
    y0 = max(0, int(ip[IP_ROI_YMIN]))
    y1 = min(spixels - 1, int(ip[IP_ROI_YMAX]))
    # rows that can hold a pixel of [first_idx, last_idx]
    y0 = max(y0, int(first_idx) // fpixels)
    y1 = min(y1, int(min(last_idx, fpixels * spixels - 1)) // fpixels)
    width = x1 - x0 + 1
    if width <= 0 or y1 < y0:
        return
    d_fp, d_ip, d_vec, d_src, d_lat, d_F, d_mask = _device_plan(plan, single)
    kernel = _render_tile32 if single else _render_tile64
    rows = y1 - y0 + 1
    tile = _tile_rows(width, rows)
    d_image = cuda.device_array(tile * width, dtype=np.float32)
    d_flags = cuda.device_array(tile * width, dtype=np.uint8)
    d_omega = cuda.device_array(tile * width, dtype=np.float64)
    d_rows = cuda.device_array(tile, dtype=np.float64)
    img2 = image.reshape(spixels, fpixels)
    flg2 = flags.reshape(spixels, fpixels)
    for row0 in range(y0, y1 + 1, tile):
        nrows = min(tile, y1 + 1 - row0)
        n = nrows * width
        kernel[(n + THREADS - 1) // THREADS, THREADS](
            d_fp, d_ip, d_vec, d_src, d_lat, d_F, d_mask, x0, width, row0, n,
            first_idx, last_idx, unrot_idx, interp_cut, d_image, d_flags, d_omega)
        _row_sums[(nrows + ROW_THREADS - 1) // ROW_THREADS, ROW_THREADS](d_omega, width, nrows, d_rows)
        t_image = d_image[:n].copy_to_host().reshape(nrows, width)
        t_flags = d_flags[:n].copy_to_host().reshape(nrows, width)
        t_rows = d_rows[:nrows].copy_to_host()
        done = t_flags != NOT_RENDERED
        img_view = img2[row0:row0 + nrows, x0:x1 + 1]
        flg_view = flg2[row0:row0 + nrows, x0:x1 + 1]
        img_view[done] = t_image[done]
        flg_view[done] = t_flags[done]
        omega_rows[row0:row0 + nrows] += t_rows


class _Single:
    """The target for -precision single (dispatch.select_target)."""
    @staticmethod
    def render_range(plan, first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega_rows):
        render_range(plan, first_idx, last_idx, unrot_idx, interp_cut, image, flags, omega_rows, "single")


SINGLE = _Single()
