#!/usr/bin/env python3
"""Registers, spills and local-memory instructions of nbnumba's CUDA pixel kernels, offline.

    python benchmarks/cuda_ptxas.py [--cc 9.0] [--ptxas PATH] [--cuobjdump PATH] [--caps 0,168,128,96]

Needs NVVM (the `cuda` extra's toolkit wheels, or a CUDA toolkit) and ptxas; no GPU.  Each
variant of the pixel kernel (double/single precision, with and without the tricubic
interpolation path; kernels/cuda.py) is compiled to PTX for compute capability --cc, then
assembled by `ptxas -v` at each register cap of --caps (0: no cap; the driver applies
kernels/cuda.py's MAX_REGISTERS the same way when it links).  With cuobjdump, the SASS of
the uncapped build is counted too: all instructions and local-memory loads/stores (spill
traffic).  Numba asks the current device for its compute capability while it compiles the
kernels' device functions; with no GPU this script answers --cc for it.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cc", default="9.0")
    ap.add_argument("--ptxas", default=shutil.which("ptxas"))
    ap.add_argument("--cuobjdump", default=shutil.which("cuobjdump"))
    ap.add_argument("--caps", default="0,168,128,96")
    a = ap.parse_args()
    if not a.ptxas:
        sys.exit("no ptxas: pass --ptxas PATH (CUDA toolkit, or the nvidia-cuda-nvcc wheel's bin/)")
    cc = tuple(int(x) for x in a.cc.split("."))
    import numba.cuda.dispatcher
    numba.cuda.dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)
    from numba import cuda, types as nt
    from numba import from_dtype
    from nbnumba.kernels import cuda as kernels
    from nbnumba.kernels.params import PARAMS, PARAMS32
    kernels.double_without_fma()      # as a double render does before it compiles

    def signature(ft, interpolating):
        i64 = nt.int64
        f1, f2, f3 = nt.Array(ft, 1, "C"), nt.Array(ft, 2, "C"), nt.Array(ft, 3, "C")
        rec = nt.Array(from_dtype(PARAMS if ft == nt.float64 else PARAMS32), 1, "C")
        return (rec, f2, f1, f3, f3 if interpolating else nt.none,
                nt.Array(nt.uint16, 1, "C"), *(i64,) * 8, nt.Array(nt.float32, 1, "C"),
                nt.Array(nt.uint8, 1, "C"), nt.Array(nt.float64, 1, "C"), nt.Array(i64, 1, "C"))

    arch = "sm_%d%d" % cc
    folder = tempfile.mkdtemp(prefix="nbptx_")
    print(f"| kernel | register cap | registers | stack frame | spill stores | spill loads | SASS | local ld/st |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kernel, ft in (("double", kernels._render_box64, nt.float64), ("single", kernels._render_box32, nt.float32)):
        for interpolating in (False, True):
            label = name + (", tricubic" if interpolating else "")
            ptx, _ = cuda.compile_ptx(kernel.py_func, signature(ft, interpolating), cc=cc)
            path = os.path.join(folder, "kernel.ptx")
            with open(path, "w") as f:
                f.write(ptx)
            for cap in (int(x) for x in a.caps.split(",")):
                cubin = os.path.join(folder, "kernel.cubin")
                cmd = [a.ptxas, "-v", "-arch=" + arch, path, "-o", cubin] + (["-maxrregcount=%d" % cap] if cap else [])
                info = subprocess.run(cmd, capture_output=True, text=True).stderr
                kernel_info = info[info.find("_render_box"):]
                regs = re.search(r"Used (\d+) registers", kernel_info).group(1)
                frame, stores, loads = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                                                 r"(\d+) bytes spill loads", kernel_info).groups()
                sass = local = ""
                if a.cuobjdump and not cap:
                    text = subprocess.run([a.cuobjdump, "-sass", cubin], capture_output=True, text=True).stdout
                    lines = [x for x in text.splitlines() if re.match(r"\s*/\*[0-9a-f]{4,}\*/", x)]
                    sass = str(len(lines))
                    local = str(sum(1 for x in lines if re.search(r"\b(LDL|STL)\b", x)))
                print(f"| {label} | {cap or 'none'} | {regs} | {frame} B | {stores} B | {loads} B | {sass} | {local} |")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
