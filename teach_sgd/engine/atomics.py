"""Hardware atomics for nopython code, as numba intrinsics that emit LLVM atomic instructions.

Each function takes a 1-D numpy array and an index, and compiles to one instruction on x86-64
(`lock cmpxchg`, `lock xadd`, `xchg`, or a plain `mov` for acquire loads / release stores).

Orderings, and why:
- cas / fetch_add / exchange are sequentially consistent: they are the synchronisation points of the
  algorithms (publishing a version, taking a batch, counting a reference).
- load is *acquire*: whatever was written before the matching release/seq_cst store is visible after it
  (e.g. a version's parameters, once its pointer is read). It also stops LLVM from hoisting the read out of
  a spin loop (a plain load there may be hoisted, and the loop never sees the flag change).
- store is *release*: used for telemetry counters that other threads read while the loop runs, so the
  compiler cannot sink the store out of the loop, and for control flags.
- fence_acquire / fence_release are the two halves of a seqlock on a weakly ordered CPU (ARM): x86 keeps
  loads in order and stores in order by itself, ARM does not, so each use says which order it needs.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _element_pointer(context, builder, arr_type, arr_value, idx_type, idx_value):
    ary = context.make_array(arr_type)(context, builder, arr_value)
    idx = context.cast(builder, idx_value, idx_type, types.intp)
    return cgutils.get_item_pointer(context, builder, arr_type, ary, [idx], wraparound=False)


def _check_array(arr):
    if not isinstance(arr, types.Array) or arr.ndim != 1:
        raise TypeError("atomics work on 1-D arrays")


@intrinsic
def cas(typingctx, arr, idx, expected, desired):
    """Compare-and-swap arr[idx]: if it equals `expected`, write `desired`. Returns the value seen
    (the swap happened iff that equals `expected`)."""
    _check_array(arr)
    dtype = arr.dtype
    sig = dtype(arr, idx, expected, desired)

    def codegen(context, builder, signature, args):
        ptr = _element_pointer(context, builder, signature.args[0], args[0], signature.args[1], args[1])
        exp = context.cast(builder, args[2], signature.args[2], dtype)
        new = context.cast(builder, args[3], signature.args[3], dtype)
        pair = builder.cmpxchg(ptr, exp, new, "seq_cst", "seq_cst")
        return builder.extract_value(pair, 0)

    return sig, codegen


def _rmw(op):
    def rmw(typingctx, arr, idx, value):
        _check_array(arr)
        dtype = arr.dtype
        sig = dtype(arr, idx, value)

        def codegen(context, builder, signature, args):
            ptr = _element_pointer(context, builder, signature.args[0], args[0], signature.args[1], args[1])
            val = context.cast(builder, args[2], signature.args[2], dtype)
            return builder.atomic_rmw(op, ptr, val, "seq_cst")

        return sig, codegen

    return rmw


fetch_add = intrinsic(_rmw("add"))
fetch_add.__doc__ = "Atomically arr[idx] += value (integers); returns the old value."
fetch_fadd = intrinsic(_rmw("fadd"))
fetch_fadd.__doc__ = "Atomically arr[idx] += value (floats); returns the old value."
exchange = intrinsic(_rmw("xchg"))
exchange.__doc__ = "Atomically write arr[idx] = value; returns the value it replaced."


@intrinsic
def load(typingctx, arr, idx):
    """Acquire load of arr[idx]."""
    _check_array(arr)
    sig = arr.dtype(arr, idx)

    def codegen(context, builder, signature, args):
        ptr = _element_pointer(context, builder, signature.args[0], args[0], signature.args[1], args[1])
        align = context.get_abi_sizeof(context.get_data_type(signature.args[0].dtype))
        return builder.load_atomic(ptr, "acquire", align)

    return sig, codegen


@intrinsic
def store(typingctx, arr, idx, value):
    """Release store arr[idx] = value."""
    _check_array(arr)
    sig = types.void(arr, idx, value)

    def codegen(context, builder, signature, args):
        dtype = signature.args[0].dtype
        ptr = _element_pointer(context, builder, signature.args[0], args[0], signature.args[1], args[1])
        val = context.cast(builder, args[2], signature.args[2], dtype)
        align = context.get_abi_sizeof(context.get_data_type(dtype))
        builder.store_atomic(val, ptr, "release", align)
        return context.get_dummy_value()

    return sig, codegen


def _fence(ordering):
    def fence(typingctx):
        sig = types.void()

        def codegen(context, builder, signature, args):
            builder.fence(ordering)
            return context.get_dummy_value()

        return sig, codegen

    return fence


fence_acquire = intrinsic(_fence("acquire"))
fence_acquire.__doc__ = ("No load or store after it happens before any load before it (a reader's fence: what "
                         "it read is read before the check that follows).")
fence_release = intrinsic(_fence("release"))
fence_release.__doc__ = ("No load or store before it happens after any store after it (a writer's fence: "
                         "what it wrote before is visible before what it writes next).")


@intrinsic
def voidptr(typingctx, arr):
    """The data pointer of an array as void* (for the pthread mutex that lives in a byte buffer)."""
    _check_array(arr)
    sig = types.voidptr(arr)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.bitcast(ary.data, ir.IntType(8).as_pointer())

    return sig, codegen
