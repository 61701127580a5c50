"""Matmuls with their right-hand operand packed per output-column tile.

A transformer's linear layers are `matmul(x, W)` with W laid out (K, N): one register tile
of `nb` output columns reads, per reduction step, `nb` floats that lie N floats apart from
the previous step's, so a 768 x 3072 weight streams in 64-float pieces strided 12 KB apart,
and the prefetchers lose it. Packing W to (N/nb, K, nb) makes each tile's weights one
contiguous block (a 197 x 3072 x 768 matmul: 16.5 -> 6.8 ms on 2 cores, 56 -> 137 GFLOP/s).
A weight's packing is a weight-only `layout_transform`, which `lift-params` moves to load
time; where the importer transposed the weight (`permute_dims` of a (N, K) Linear weight,
Gemm's transB) the packing reads the untransposed one, and the transpose is gone.

An operand computed per inference (attention's K^T) is packed by one more elementwise
kernel, which fuses into the transpose that made it.

Output columns that tile exactly only in narrow vectors (197 tokens, 1000 classes) are
computed rounded up to whole vectors over zero-padded columns, and a slice drops the
padding in the kernel's write-back, as for convs (packed_conv.py): attention's 197 x 197
scores ran one scalar FMA at a time.
"""
import numpy as np
import tvm
from tvm import relax, te
from tvm.tirx import IndexMap

from sedge.tvm_passes.passes import TeCalls, bound_constant, bound_value, op_name, rewrite_for_cpu, static_shape
from sedge.tvm_passes.passes.packed_conv import padded_channels
from sedge.tvm_passes.schedules.reduction import row_axis


def packed_matmul(x, wp):
    """x (..., M, K) @ W, W given packed as (..., N/nb, K, nb) with the same leading
    (batch) axes as x, or none."""
    *batch, rows, depth = (int(d) for d in x.shape)
    tiles, _, nb = (int(d) for d in wp.shape[-3:])
    weight_batch = len(wp.shape) - 3
    k = te.reduce_axis((0, depth), "k")

    def value(*index):
        *b, i, j = index
        wb = b[len(b) - weight_batch:] if weight_batch else []
        return te.sum(x[(*b, i, k)] * wp[(*wb, j // nb, k, j % nb)], axis=k)

    return te.compute((*batch, rows, tiles * nb), value, name="matmul_packed")


def _unpermuted(mutator, w):
    """The tensor `w` transposes (its last two axes swapped), or None."""
    value = bound_value(mutator, w)
    if op_name(value) != "relax.permute_dims" or value.attrs.axes is None:
        return None
    axes = [int(a) for a in value.attrs.axes]
    swapped = list(range(len(axes) - 2)) + [len(axes) - 1, len(axes) - 2]
    return value.args[0] if axes == swapped else None


@relax.expr_functor.mutator
class _Packer(relax.PyExprMutator):
    def __init__(self, mod, spec, tile_shape):
        super().__init__(mod)
        self.spec, self.tile_shape = spec, tile_shape
        self.te_calls = TeCalls(self.builder_)

    def visit_function_(self, func):
        # the values computed from the model's inputs: the rest (weights only) run once at load
        # time after lift-params, where packing would gain nothing (a band-limited conv's
        # filter spectra are a matmul of its weights)
        inputs = int(func.attrs["num_input"]) if func.attrs and "num_input" in func.attrs else len(func.params)
        self.per_inference = set(func.params[:inputs])
        return super().visit_function_(func)

    def visit_var_binding_(self, binding):
        if any(v in self.per_inference for v in relax.analysis.free_vars(binding.value)):
            self.per_inference.add(binding.var)
        super().visit_var_binding_(binding)

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if op_name(call) != "relax.matmul":
            return call
        x, w = call.args
        if x not in self.per_inference and w not in self.per_inference:
            return call
        x_shape, w_shape, out_shape = static_shape(x), static_shape(w), static_shape(call)
        if (x_shape is None or w_shape is None or out_shape is None or len(x_shape) < 2 or len(w_shape) < 2
                or str(call.ty.dtype) != str(x.ty.dtype) or str(w.ty.dtype) != str(x.ty.dtype)
                or not str(x.ty.dtype).startswith("float")
                # batched weights must have x's batch axes as they are (no broadcasting)
                or (len(w_shape) > 2 and tuple(w_shape[:-2]) != tuple(x_shape[:-2]))):
            return call
        depth, columns = w_shape[-2:]
        row = row_axis(out_shape)  # the rows the schedule tiles
        rows = out_shape[row] if row is not None else 1
        computed, nb = self._columns(columns, rows, depth)
        source = _unpermuted(self, w)
        if nb == computed == columns and source is None:
            return call  # one tile holds every column, and W's rows are already contiguous
        conv = self.te_calls(packed_matmul, x, self._packed(w, source, computed, nb),
                                     primfunc_name_hint="matmul")
        if computed == columns:
            return conv
        # the padding's columns dropped: the slice fuses into the matmul's write-back
        return relax.op.strided_slice(self.builder_.emit(conv), axes=[len(out_shape) - 1], begin=[0],
                                      end=[columns])

    def _columns(self, columns, rows, depth):
        """(columns computed, columns per packed tile). `columns` rounded up to whole vectors
        as convs' channels are, and beyond, by up to a quarter, where more vectors tile better:
        197 columns are 13 vectors, prime, so a tile holds 1 row x 13 vectors or 24 rows x 1
        vector, under one FMA per load either way; 224 = 14 vectors tile as 3 rows x 7
        vectors, 2.1 FMAs per load (attention's 12 x 197 x 197 scores: 1.73 -> 1.34 ms on one core).
        A tile's FMAs per load are `tile_shape`'s measure: rows x vectors / (rows + vectors)."""
        lanes = self.spec.lanes
        candidates = [padded_channels(columns, lanes)]
        if columns > lanes:
            whole = -(-columns // lanes) * lanes
            candidates += range(whole, int(columns * 1.25) + 1, lanes)
        best = None
        for computed in candidates:
            vec, o_vectors, w_block = self.tile_shape(rows, computed, depth, self.spec)
            used = columns / computed * rows / (-(-rows // w_block) * w_block)
            score = used * w_block * o_vectors / (w_block + o_vectors)
            if best is None or score > best[0]:
                best = (score, computed, vec * o_vectors)
        return best[1:]

    def _packed(self, w, source, computed, nb):
        """W (..., K, N), or its transpose `source` (..., N, K), as (..., computed/nb, K, nb)
        with columns N..computed zero."""
        transposed = source is not None
        tensor = source if transposed else w
        rank = len(static_shape(tensor))
        column_axis = rank - 2 if transposed else rank - 1
        pad = [0] * (2 * rank)
        pad[2 * column_axis + 1] = computed - static_shape(tensor)[column_axis]
        constant = bound_constant(self, tensor)
        if constant is not None:  # an importer's weight: packed here in numpy, not by FoldConstant
            weights = np.pad(constant.value.numpy(), np.reshape(pad, (rank, 2)))
            if transposed:
                weights = np.swapaxes(weights, -1, -2)
            *batch, depth, _ = weights.shape
            tiles = weights.reshape(*batch, depth, computed // nb, nb)
            return relax.const(np.ascontiguousarray(np.moveaxis(tiles, -2, -3)))
        if any(pad):
            tensor = self.builder_.emit(relax.op.nn.pad(tensor, pad))

        def tiled(*axes):
            *b, first, last = axes
            n, k = (first, last) if transposed else (last, first)
            return (*b, n // nb, k, n % nb)

        index_map = IndexMap.from_func(tiled, ndim=rank, index_dtype="int64")
        return self.builder_.emit(relax.op.layout_transform(tensor, index_map=index_map))


def pack_matmul_weights(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="PackMatmulWeights")
    def rewrite(mod, _ctx):
        packed = rewrite_for_cpu(mod, target, _Packer)
        if target.kind.name != "llvm":
            return packed
        return relax.transform.DeadCodeElimination()(packed)  # the transposes the packing read through

    return rewrite
