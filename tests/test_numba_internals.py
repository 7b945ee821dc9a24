"""nbnumba's reaches into Numba internals (nbnumba/numba_internals.py) do what they say,
with the Numba installed: the float32 clone of the physics computes in float32, the double
CUDA kernel compiles without multiply-add contraction, the kernels' cache key follows the
physics sources, and the command's start-up skips SciPy's BLAS.  (The cache guards are
tests/test_numba_cache.py.)"""
import os
import re
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
from numba import from_dtype, njit, typeof
from numba import types as nt
from numba.extending import register_jitable

from nbnumba.cfuncs import vectors
from nbnumba.errors import NBError
from nbnumba import numba_internals
from nbnumba.kernels import physics
from nbnumba.kernels.params import PARAMS, PARAMS32, Entry, PixelOut, Scene

HERE = os.path.dirname(os.path.abspath(numba_internals.__file__))


def render_signature(ft, dtype, tricubic):
    """The argument types of physics.render_pixels in the render kernels (last and tr None)."""
    a = np.zeros(1, dtype=np.dtype(ft.name))
    scene = Scene(np.zeros(1, dtype=dtype), a.reshape(1, 1), a, a.reshape(1, 1, 1), np.zeros(0, dtype=np.uint16))
    out = PixelOut(np.zeros(1, dtype=np.float32), np.zeros(1, dtype=np.uint8), np.zeros(1), 0)
    return (nt.int64,) * 3 + (typeof(Entry(0, 0)), typeof(scene), typeof(out),
                              nt.Array(ft, 3, "C") if tricubic else nt.none, nt.none, nt.none)


def double_work(fn, signature):
    """(double-precision arithmetic instructions, double-precision math functions called) in
    the optimised LLVM IR of fn compiled for the CPU."""
    d = njit(fn)
    d.compile(signature)
    ir = d.inspect_llvm(signature)
    ops = re.findall(r"= (?:fadd|fsub|fmul|fdiv|frem) (?:\w+ )*double ", ir)
    calls = set(re.findall(r"call [^@\n]*@(llvm\.\w+\.f64|sin|cos|tan|exp|log|atan2|sqrt|pow)\(", ir))
    return len(ops), calls


@pytest.fixture(scope="module")
def physics32():
    """The float32 clones of the physics, as kernels/cuda.py makes them."""
    return numba_internals.retype_functions(np.float32, (vectors, physics))


def test_float32_clone_computes_in_float32(physics32):
    """No double-precision sin/cos/exp/atan2/sqrt, and double arithmetic only where an int64
    meets a float32: in pixel_value (I / steps, then its corrections), the C's
    `floatimage[imgidx] += test` onto 0 after it and, with interpolation, the grid-range test.
    Counted against those functions compiled alone (the counts follow Numba's and LLVM's code
    generation); the float64 physics has hundreds."""
    ops32, calls32 = double_work(physics32.render_pixels, render_signature(nt.float32, PARAMS32, False))
    ops64, calls64 = double_work(physics.render_pixels, render_signature(nt.float64, PARAMS, False))
    pixel_value, tricubic_in_range = physics32.pixel_value, physics32.tricubic_in_range
    record32 = nt.Array(from_dtype(PARAMS32), 1, "C")
    pixel_value_ops, _ = double_work(lambda params, I, c, p, o: pixel_value(params[0], I, c, p, o),
                                     (record32,) + (nt.float32,) * 4)
    range_ops, _ = double_work(lambda params, h, k, l: tricubic_in_range(params[0], h, k, l),
                               (record32,) + (nt.float32,) * 3)
    assert pixel_value_ops >= 1 and range_ops >= 1
    assert calls32 == set()
    assert ops32 <= pixel_value_ops + 1
    assert {"llvm.sin.f64", "llvm.exp.f64"} <= calls64 and ops64 > 100
    # with the tricubic path: still no double math
    ops32t, calls32t = double_work(physics32.render_pixels, render_signature(nt.float32, PARAMS32, True))
    assert calls32t == set() and ops32t <= pixel_value_ops + 1 + range_ops


def test_clones_keep_their_registration_options():
    @register_jitable(inline="always")
    def doubled(x):
        return 2.0 * x

    assert numba_internals.jit_options(doubled) == {"inline": "always"}
    assert numba_internals.jit_options(physics.sincg) == {}
    module = types.ModuleType("scratch_module")
    doubled.__module__ = module.__name__
    module.doubled = doubled
    clones = numba_internals.retype_functions(np.float32, (module,))
    assert clones.doubled is not doubled and numba_internals.jit_options(clones.doubled) == {"inline": "always"}
    assert type(clones.doubled(np.float32(1.5))) is np.float32     # 2.0 became float32(2.0)


def test_registry_missing_warns_once(monkeypatch, capsys):
    """Without the typing registry's private names the clones are registered without their
    originals' options: {} and one warning line, not a silent {}."""
    from numba.core.typing import templates
    monkeypatch.setattr(numba_internals, "_warned", set())
    monkeypatch.delattr(templates.builtin_registry, "globals")
    assert numba_internals.jit_options(physics.sincg) == {}
    assert numba_internals.jit_options(physics.sinc3) == {}
    err = capsys.readouterr().err
    assert err.count("nbnumba: warning: cannot read register_jitable's options from Numba's typing registry") == 1


@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", reason="the simulator has no NVVM to wrap")
def test_double_cuda_kernel_refuses_without_nvvm_compile_ir(monkeypatch):
    """Without NVVM's compile call to wrap, no_fma_contraction raises, and a double-precision
    CUDA render refuses to start (one line, exit code 2) rather than contract multiply-adds."""
    from numba.cuda.cudadrv import nvvm
    from nbnumba.kernels import cuda as kernels
    monkeypatch.delattr(nvvm, "compile_ir", raising=False)     # (absent from numba.cuda before 0.6x)
    with pytest.raises(numba_internals.MissingInternal, match="compile_ir"):
        numba_internals.no_fma_contraction("_render_box64")
    with pytest.raises(NBError) as refused:
        kernels.CudaRender(plan=None, box=None)
    assert refused.value.code == 2 and "\n" not in refused.value.message
    assert refused.value.message.startswith("ERROR: -device cuda -precision double: ")
    assert "multiply-add contraction" in refused.value.message


def test_cache_key_follows_the_physics_sources(tmp_path):
    for name in numba_internals.PHYSICS_SOURCES:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(os.path.join(HERE, name), tmp_path / name)
    assert numba_internals.physics_digest(tmp_path) == numba_internals.DIGEST
    with open(tmp_path / "kernels" / "physics.py", "a") as f:
        f.write("\n# an edit\n")
    assert numba_internals.physics_digest(tmp_path) != numba_internals.DIGEST
    from nbnumba.kernels import cpu
    assert cpu._render_box.py_func.__qualname__.endswith("_" + numba_internals.DIGEST)


def python_c(code):
    """What `python -c code` prints (it must succeed)."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def test_start_cpu_target_skips_scipy_blas():
    assert python_c("import sys; from nbnumba.numba_internals import start_cpu_target; start_cpu_target(); "
                    "import numba.np.arraymath as a; print(a._HAVE_BLAS, 'scipy.linalg' in sys.modules)"
                    ) == ["False", "False"]


def test_scipy_imports_normally_after_start_cpu_target():
    pytest.importorskip("scipy.linalg")     # SciPy is not among nbnumba's requirements
    assert python_c("from nbnumba.numba_internals import start_cpu_target; start_cpu_target(); "
                    "import scipy.linalg.cython_blas, scipy.linalg; print(scipy.linalg.norm([3.0, 4.0]))"
                    ) == ["5.0"]


def nvvm_available():
    try:
        from numba.cuda.cudadrv import nvvm
        nvvm.NVVM()
        return True
    except Exception:
        return False


@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or not nvvm_available(),
                    reason="needs libNVVM (a CUDA toolkit), not the simulator")
def test_double_kernel_compiles_without_fma_contraction():
    """Offline PTX for sm_90: the double kernel's only fused multiply-adds are libdevice's own;
    the same kernel under another name (not covered by no_fma_contraction) gets more."""
    from numba import cuda
    import numba.cuda.dispatcher as dispatcher
    saved = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
    try:   # Numba asks the current device for its compute capability while compiling device functions
        from nbnumba.kernels import cuda as kernels
        kernels.double_without_fma()      # as a double render does before it compiles
        i64 = nt.int64
        sig = (nt.Array(from_dtype(PARAMS), 1, "C"), nt.Array(nt.float64, 2, "C"), nt.Array(nt.float64, 1, "C"),
               nt.Array(nt.float64, 3, "C"), nt.none, nt.Array(nt.uint16, 1, "C"), *(i64,) * 8,
               nt.Array(nt.float32, 1, "C"), nt.Array(nt.uint8, 1, "C"), nt.Array(nt.float64, 1, "C"),
               nt.Array(i64, 1, "C"))
        plain, _ = cuda.compile_ptx(kernels._render_box64.py_func, sig, cc=(9, 0))
        other = kernels._pixel_kernel(kernels.render_pixels64, "_contractible_box64")
        contracted, _ = cuda.compile_ptx(other.py_func, sig, cc=(9, 0))
    finally:
        dispatcher.get_current_device = saved
    assert plain.count("fma.rn.f64") < contracted.count("fma.rn.f64")


def test_argument_types_match_numba_typeof_and_are_kept_per_layout():
    record = np.zeros(1, dtype=PARAMS)
    readonly = np.zeros((3, 4))
    readonly.flags.writeable = False
    args = (record, np.zeros((3, 4)), readonly, np.zeros((3, 4), order="F"), np.zeros((3, 4))[:, ::2],
            np.zeros(5, dtype=np.float32), np.int64(0), 1.5, False)
    assert numba_internals.argument_types(args) == tuple(typeof(a) for a in args)
    assert numba_internals.argument_types(args) == tuple(typeof(a) for a in args)    # from the memo
