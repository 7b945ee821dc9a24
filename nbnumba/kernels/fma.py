"""fma(a, b, c): a*b + c rounded once, in compiled code (CPU and CUDA: LLVM's llvm.fma, the
processor's fused multiply-add instruction) and as Python (the CUDA simulator).

A module of its own: the float32 clones (numba_internals.retype_functions) copy the functions
of the modules they are made from, and this one must stay the function Numba overloads.
"""
from numba import types
from numba.core.extending import intrinsic, overload


def fma(a, b, c):
    """a*b + c rounded once: C99's fmaf()/fma() (the GPU's and the CPU's instruction in compiled
    code).  As Python (the CUDA simulator) it is exact for float32 arguments whenever the
    result is a float32 (a*b + c with c = -fl(a*b) is: two_prod)."""
    return type(a)(float(a) * float(b) + float(c))


@intrinsic
def _llvm_fma(typingctx, a, b, c):
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return a(a, b, c), codegen


@overload(fma)
def _fma_compiled(a, b, c):
    return lambda a, b, c: _llvm_fma(a, b, c)
