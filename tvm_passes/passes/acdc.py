"""ACDC stacks lowered per layer: `fold` into one dense 1x1 conv / matmul, or kept `factored`.

The importers emit each ACDC stack (methods.md §2) as a call to a private function tagged
{"sedge.op": "ACDC"} whose generic body runs every factor as two dense N x N matmuls with DCT
matrices: 2 L N^2 MACs per vector where the dense layer it replaces costs N^2 (24x for
SECL's 12 factors). ChooseLowering (lowering.py) has marked each call with the lowering the
cost model (tvm_passes/acdc_cost.py) prices cheapest on the target, or the one --lowering
forced; this pass carries it out:

- `fold`: replaces the call with one dense layer. The folded matrix W (C x O) and bias b are
  the stack applied to the identity (and to zero, for b) in float64, riffle and per-factor
  biases included, then rounded to float32 once. SECL's channel repeat before the stack
  (slices / concat / tile of the input channels) and its group sum after it (reshape + sum
  of N/O consecutive channels) are folded into W as well: a gather matrix E (C x N) in front,
  a 0/1 sum matrix R (N x O) behind. W is computed by one TE kernel per layer shape from the
  layer's weights A, D (and bias), which are inputs of `main` (the package ships them; their
  values are not known at compile time): the kernel depends on weights only, so `lift-params`
  moves it to `main_transform_params`, run once at load. Per inference the layer is
      y = conv2d(x_nhwc, W^T as O x C x 1 x 1, NHWC) + b    (4-D input, CPU: the channels-last
                                                             conv path, packing, schedules)
      y = matmul(x, W) + b                                  (otherwise)
- `factored`: the whole stack as one fast-DCT kernel on the (vectors, N) rows, where the
  target has that kernel (CPUs, N a power of two); elsewhere the call is left alone and
  InlineConstructs gives it the generic body. From N = 8 on it is kernels/dct_batched.py
  (blocks of vectors across the SIMD lanes, each block through every factor in cache, a real
  FFT of radix-8 butterflies, A, D, the riffle and the biases folded into its passes), which
  measured faster than kernels/dct.py's at every vector count, one included; N = 2 and 4 keep
  kernels/dct.py's (radix-2, the transform axis across the lanes at one vector).

Where it does not apply the call is returned unchanged: a symbolic shape, a dtype other than
float32, an odd N.
"""
import numpy as np
import tvm
from tvm import relax, te, tirx

from sedge.tvm_passes.acdc_cost import has_fast_dct
from sedge.tvm_passes.kernels import OPAQUE, dct, dct_batched
from sedge.tvm_passes.lowering import marked_construct
from sedge.tvm_passes.passes import bound_value, mutate_functions, op_name, static_shape
from sedge.tvm_passes.schedules.cpu import cpu_spec

CONSTRUCT = "ACDC"
FOLD_KERNEL = "sedge_acdc_fold"
DCT_KERNEL = "sedge_acdc_fast_dct"
# the load-time fold runs the fast DCT from this N on: below it the N x N matrices cost little
# at load (N = 256, 12 factors: ~0.4 s) and compile in a fraction of the time (the fast kernel
# has 4 L log2 N passes: wrn-40-2-acdc compiled in 48 s with it at N <= 128, 9 s without)
FAST_FOLD_MIN_N = 512


def dct_matrix64(N: int) -> np.ndarray:
    """Orthonormal DCT-II matrix M (N x N) in float64: DCT(v) = M v (scipy norm='ortho')."""
    k, i = np.arange(N)[:, None], np.arange(N)[None, :]
    M = np.cos(np.pi * (2 * i + 1) * k / (2 * N)) * np.sqrt(2.0 / N)
    M[0] /= np.sqrt(2.0)
    return M


def riffle_order(N: int) -> np.ndarray:
    """riffle(h)[k] = h[order[k]]: out[2i] = h[i], out[2i+1] = h[N/2 + i]."""
    return np.arange(N).reshape(2, N // 2).T.reshape(N)


def fold_numpy(a, d, bias=None, gather=None, group_sum=None):
    """(W (C x O), b (O,)) in float64 with stack(x) == x @ W + b: the reference of the kernel below.

    gather: source channel of each of the N stack inputs (SECL's repeat), None for identity;
    group_sum: O when N/O consecutive stack outputs are summed (SECL's O < C), else None."""
    a, d = np.asarray(a, np.float64), np.asarray(d, np.float64)
    L, N = a.shape
    M, order = dct_matrix64(N), riffle_order(N)
    X = np.eye(N) if gather is None else np.eye(int(max(gather)) + 1)[:, gather]
    b = np.zeros(N)
    for layer in range(L):
        X = ((X * a[layer]) @ M.T * d[layer]) @ M[:, order]
        b = ((b * a[layer]) @ M.T * d[layer]) @ M[:, order]
        if bias is not None:
            b = b + np.asarray(bias, np.float64)[layer][order]
    if group_sum:
        X, b = X.reshape(len(X), group_sum, -1).sum(-1), b.reshape(group_sum, -1).sum(-1)
    return X, b


def _fold_te(a, d, bias, index, tw, tw_inv, phase, C: int, O: int):
    """TE: (W^T (O x C) float32, b (O,) float32) of the stack, every product in float64.

    The stack runs on C + 1 rows: row c the gathered identity (stack input j is source
    channel index[j], SECL's repeat), the last row zero, so that it comes out as the bias b and
    W's rows are the others minus b. The stack is the fast DCT kernel in float64 (O(L C N log N)
    at load, where N x N products cost O(L C N^2)). The group sum of N/O consecutive outputs
    (SECL's O < C) is a reduction over N/O."""
    N = int(a.shape[1])
    f64 = "float64"
    rows = te.compute((C + 1, N), lambda c, j: tirx.if_then_else(
        tirx.all(c < C, index[j] == c), tirx.const(1.0, f64), tirx.const(0.0, f64)), name="fold_identity")
    y = dct.acdc_stack(rows, a, d, bias, tw, tw_inv, phase, N, C + 1)
    group = N // O
    t = te.reduce_axis((0, group), "t")
    w = te.compute((O, C), lambda o, c: te.sum(y[c, o * group + t] - y[C, o * group + t], axis=t), name="w64")
    tb = te.reduce_axis((0, group), "tb")
    b = te.compute((O,), lambda o: te.sum(y[C, o * group + tb], axis=tb), name="b64")
    # rounded to float32 once, at the end
    return [te.compute((O, C), lambda o, c: w[o, c].astype("float32"), name="w"),
            te.compute((O,), lambda o: b[o].astype("float32"), name="b")]


def _add_riffled_bias(b, bias, layer, N):
    """b + bias[layer] in the riffle's order (the importer's take(bias, order))."""
    half = N // 2
    return te.compute((1, N), lambda z, m: b[z, m] + bias[
        layer, tirx.if_then_else(m % 2 == 0, m // 2, half + m // 2)].astype("float64"), name=f"bias{layer}")


def _fold_te_matrices(a, d, bias, gather, reduce, ct, mi):
    """TE: (W^T (O x C) float32, b (O,) float32) of the stack with N x N DCT matrices, every
    product in float64 (O(L C N^2) at load): for N the radix-2 kernel does not take.

    gather (C x N), reduce (N x O): the 0/1 repeat and group-sum matrices; ct = M^T, mi = M
    with the riffle's column order (the importer's constants), all float64."""
    L, N = int(a.shape[0]), int(a.shape[1])
    C, O = int(gather.shape[0]), int(reduce.shape[1])
    f64 = "float64"

    def factor(X, rows, layer, tag):
        k = te.reduce_axis((0, N), f"k{tag}")
        h = te.compute((rows, N), lambda c, m: te.sum(X[c, k] * a[layer, k].astype(f64) * ct[k, m], axis=k),
                       name=f"dct{tag}")
        j = te.reduce_axis((0, N), f"j{tag}")
        return te.compute((rows, N), lambda c, m: te.sum(h[c, j] * d[layer, j].astype(f64) * mi[j, m], axis=j),
                          name=f"idct{tag}")

    X = gather
    b = te.compute((1, N), lambda _, m: tirx.const(0.0, f64), name="b0")
    for layer in range(L):
        X = factor(X, C, layer, f"{layer}")
        b = factor(b, 1, layer, f"b{layer}")
        if bias is not None:
            b = _add_riffled_bias(b, bias, layer, N)
    j = te.reduce_axis((0, N), "jw")
    w = te.compute((O, C), lambda o, c: te.sum(X[c, j] * reduce[j, o], axis=j), name="w64")
    jb = te.reduce_axis((0, N), "jb")
    out_b = te.compute((O,), lambda o: te.sum(b[0, jb] * reduce[jb, o], axis=jb), name="b64")
    # rounded to float32 once, at the end
    return [te.compute((O, C), lambda o, c: w[o, c].astype("float32"), name="w"),
            te.compute((O,), lambda o: out_b[o].astype("float32"), name="b")]


def _last_axis(axes, rank) -> int | None:
    axes = [int(v) % rank for v in axes]
    return axes[0] if len(axes) == 1 else None


@relax.expr_functor.mutator
class _LowerACDC(relax.PyExprMutator):
    def __init__(self, mod, target):
        super().__init__(mod)
        self.mod, self.target = mod, target
        self.folded = {}  # var of a folded layer's output -> (source, gather index, a, d, bias)

    # --- SECL's channel repeat before the stack: the source channel of each stack input

    def _gather(self, expr, width):
        """(source, index) with expr[..., k] == source[..., index[k]] along the last axis,
        through the repeat ops SECL imports as; (expr, arange) when there is none."""
        value = bound_value(self, expr)
        shape = static_shape(expr)
        here = (expr, np.arange(width))
        if shape is None or not isinstance(value, relax.Call):
            return here
        rank, name = len(shape), op_name(value)
        inner = value.args[0] if value.args else None
        inner_shape = static_shape(inner) if isinstance(inner, relax.Expr) and inner is not None else None
        same_leading = inner_shape is not None and len(inner_shape) == rank and inner_shape[:-1] == shape[:-1]
        if name == "relax.broadcast_to" and inner_shape == shape:
            return self._gather(inner, width)
        if (name == "relax.tile" and same_leading and len(value.attrs.repeats) == rank
                and all(int(r) == 1 for r in value.attrs.repeats[:-1])):
            source, index = self._gather(inner, inner_shape[-1])
            return source, np.tile(index, int(value.attrs.repeats[-1]))[:width]
        if name == "relax.call_tir" and isinstance(value.args[0], relax.GlobalVar):
            func = self.mod[value.args[0]] if value.args[0] in self.mod.get_global_vars() else None
            args = value.args[1].fields if isinstance(value.args[1], relax.Tuple) else []
            src_shape = static_shape(args[0]) if len(args) == 1 else None
            if (value.args[0].name_hint.startswith("tile") and isinstance(func, tvm.tirx.PrimFunc)
                    and src_shape is not None and len(src_shape) == rank and src_shape[:-1] == shape[:-1]
                    and width % src_shape[-1] == 0):
                source, index = self._gather(args[0], src_shape[-1])
                return source, np.tile(index, width // src_shape[-1])
            return here
        if name == "relax.concat" and isinstance(inner, relax.Tuple):
            axis = int(value.attrs.axis) % rank if value.attrs.axis is not None else None
            if axis != rank - 1:
                return here
            parts = [self._gather(p, static_shape(p)[-1]) for p in inner.fields]
            if not all(p[0].same_as(parts[0][0]) for p in parts):
                return here
            return parts[0][0], np.concatenate([p[1] for p in parts])
        if name == "relax.strided_slice" and same_leading:
            if not all(isinstance(t, relax.Tuple) for t in value.args[1:]):
                return here  # symbolic bounds
            # 0.27: axes, begin, end (and strides) are tuple arguments of the call
            axes, begin, end, *strides = ([int(v.value) for v in t.fields] for t in value.args[1:])
            strides = strides[0] if strides else [1]
            if _last_axis(axes, rank) != rank - 1 or strides != [1]:
                return here
            source, index = self._gather(inner, inner_shape[-1])
            return source, index[begin[0]:end[0]][:width]
        return here

    # --- the stack itself

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if op_name(call) == "relax.sum":
            lowered = self._fold_group_sum(call)
            return call if lowered is None else lowered
        func, lowering = marked_construct(self.mod, call, CONSTRUCT)
        if func is None or lowering not in ("fold", "factored"):
            return call
        lowered = self._lower(call, lowering)
        return call if lowered is None else lowered

    def _lower(self, call, lowering):
        x, a, d = call.args[0], call.args[1], call.args[2]
        bias = call.args[3] if len(call.args) > 3 else None
        x_shape, a_shape = static_shape(x), static_shape(a)
        if x_shape is None or a_shape is None or x.ty.dtype != "float32" or len(a_shape) != 2:
            return None
        factors, N = a_shape
        if N % 2 or x_shape[-1] != N:
            return None
        vectors = int(np.prod(x_shape[:-1]))
        if lowering == "factored":
            return self._factored(call, x_shape, factors, N, vectors)
        source, index = self._gather(x, N)
        y = self._dense(source, index, a, d, bias, None)
        out = self.builder_.emit(y)
        self.folded[out] = (source, index, a, d, bias)
        return out

    def _factored(self, call, x_shape, factors, N, vectors):
        """The stack as one fast-DCT kernel (kernels/dct.py) on the (vectors, N) rows, where
        the target has it; else None (the generic body)."""
        if not has_fast_dct(N, self.target):
            return None
        x, a, d = call.args[0], call.args[1], call.args[2]
        bias = call.args[3] if len(call.args) > 3 else None
        lanes = cpu_spec(self.target).lanes
        if N >= dct_batched.MIN_N:  # blocks of vectors across the lanes, a real FFT (faster at every V measured)
            func = dct_batched.stack_func(N, vectors, factors, bias is not None, lanes, OPAQUE)
            tables = dct_batched.tables(N)
        else:
            func = fast_stack_func(N, vectors, factors, bias is not None, lanes)
            tables = (dct.twiddles(N, -1), dct.twiddles(N, 1), dct.makhoul_phases(N))
        gv = self.builder_.add_func(func, DCT_KERNEL)
        rows = self.builder_.emit(relax.op.reshape(x, [vectors, N]))
        tables = [relax.const(t) for t in tables]
        args = [rows, a, d] + ([bias] if bias is not None else []) + tables
        y = self.builder_.emit(relax.call_tir(gv, args, relax.TensorType((vectors, N), "float32")))
        return relax.op.reshape(y, list(x_shape))

    def _fold_group_sum(self, call):
        """sum(reshape(folded, (..., O, N/O)), axis=-1): the group sum folded into W too."""
        grouped = static_shape(call.args[0])
        shaped = bound_value(self, call.args[0])
        if grouped is None or op_name(shaped) != "relax.reshape" or call.attrs.keepdims:
            return None
        axes = [int(v) % len(grouped) for v in call.attrs.axis] if call.attrs.axis is not None else []
        stack_out = shaped.args[0]
        while isinstance(stack_out, relax.Var) and stack_out not in self.folded:
            nxt = self.lookup_binding(stack_out)
            if not isinstance(nxt, relax.Var):
                break
            stack_out = nxt
        if stack_out not in self.folded or axes != [len(grouped) - 1]:
            return None
        in_shape = static_shape(stack_out)
        if in_shape is None or grouped is None or grouped[:-2] != in_shape[:-1] or \
                grouped[-2] * grouped[-1] != in_shape[-1]:
            return None
        return self._dense(*self.folded[stack_out], grouped[-2])

    def _dense(self, source, index, a, d, bias, groups):
        """The folded layer on `source` (..., C) -> (..., O): W and b computed from the weights."""
        N = int(static_shape(a)[1])
        C = static_shape(source)[-1]
        O = groups or N
        if N >= FAST_FOLD_MIN_N and N & (N - 1) == 0:  # the radix-2 fast DCT, in float64
            tables = [dct.twiddles(N, -1, np.float64), dct.twiddles(N, 1, np.float64),
                      dct.makhoul_phases(N, np.float64)]
            consts = [relax.const(np.asarray(index, "int32"))] + [relax.const(t) for t in tables]

            def fold(a_, d_, bias_, *rest):
                return _fold_te(a_, d_, bias_, *rest, C, O)
        else:  # N x N DCT matrices, and 0/1 gather (C x N) and group-sum (N x O) matrices
            M, order = dct_matrix64(N), riffle_order(N)
            gather = np.zeros((C, N))
            gather[index, np.arange(N)] = 1.0
            reduce = np.zeros((N, O))
            reduce[np.arange(N), np.arange(N) // (N // O)] = 1.0
            consts = [relax.const(np.ascontiguousarray(m)) for m in (gather, reduce, M.T, M[:, order])]
            fold = _fold_te_matrices
        args = [a, d] + ([bias] if bias is not None else []) + consts

        def kernel(a_, d_, *rest):
            return fold(a_, d_, rest[0] if bias is not None else None, *rest[-len(consts):])

        folded = self.builder_.emit(self.builder_.call_te(
            kernel, *args, primfunc_name_hint=FOLD_KERNEL,
            # load time only (lift-params moves it): TVM's plain loops, no schedule rule
            primfunc_attrs={"op_pattern": OPAQUE, "tirx.is_scheduled": True}))
        emit = self.builder_.emit
        w_t, b = emit(relax.TupleGetItem(folded, 0)), emit(relax.TupleGetItem(folded, 1))
        shape = static_shape(source)
        if len(shape) == 4 and self.target.kind.name == "llvm":
            # an NCHW conv between permutes, which ChannelsLast lays out with the convs around
            # it, cancelling the permutes against the importer's own on either side, so that
            # the batch-norm and ReLU after the layer stay channels-last too (a conv written
            # NHWC here left the importer's permute back to NCHW after it, and the ops that
            # followed ran NCHW between two transposes: wrn-40-2-acdc's 24 layers)
            y = emit(relax.op.nn.conv2d(emit(relax.op.permute_dims(source, [0, 3, 1, 2])),
                                        emit(relax.op.reshape(w_t, [O, C, 1, 1]))))
            y = emit(relax.op.add(y, relax.op.reshape(b, [1, O, 1, 1])))
            return relax.op.permute_dims(y, [0, 2, 3, 1])
        return relax.op.add(emit(relax.op.matmul(source, relax.op.permute_dims(w_t, [1, 0]))), b)


def fast_stack_func(N: int, vectors: int, factors: int, bias: bool, lanes: int) -> tirx.PrimFunc:
    """The scheduled fast-DCT kernel of a whole stack: (x (V, N), a, d[, bias], twiddles,
    inverse twiddles, phases) -> (V, N)."""
    x = te.placeholder((vectors, N), "float32", "x")
    a, d, b = (te.placeholder((factors, N), "float32", n) for n in ("a", "d", "bias"))
    tw, twi = te.placeholder((2, N // 2), "float32", "tw"), te.placeholder((2, N // 2), "float32", "tw_inv")
    phase = te.placeholder((2, N), "float32", "phase")
    y = dct.acdc_stack(x, a, d, b if bias else None, tw, twi, phase, N, vectors)
    func = te.create_prim_func([x, a, d] + ([b] if bias else []) + [tw, twi, phase, y])
    sch = tvm.s_tir.Schedule(func)
    dct.schedule_dct(sch, lanes)
    # private: add_func names it; te's "main" symbol would clash with the module's main
    return sch.mod["main"].without_attr("global_symbol").with_attr(
        {"tirx.is_scheduled": True, "op_pattern": OPAQUE})


def acdc_lowering(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="LowerACDC")
    def apply(mod, _ctx):
        mutated = mutate_functions(_LowerACDC(mod, target))
        # the construct functions whose every call was folded, and the repeats before them, are dead
        return relax.transform.DeadCodeElimination()(mutated)

    return apply
