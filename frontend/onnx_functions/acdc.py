"""sedge.ACDC (methods.md §2) as an ONNX function.

sedge.ACDC(X, A, D, B) -> Y: X (..., N); A, D, B (L x N), the factors' diagonals and biases
(zeros when the layer has none); no attributes (L and N are the shapes of A). Each factor is
y = riffle(IDCT(D * DCT(A * x)) + b), factor 1 first, with the orthonormal DCT-II matrix built
in the body and the factors applied by a Loop over the rows of A, D, B.
"""
import math

import torch
from onnx import TensorProto, helper
from torch.onnx import symbolic_helper

from sedge.frontend.onnx_functions.body import DOMAIN, Body, make_function
from sedge.frontend.onnx_functions.typing import same_as_input


def _dct_matrix(b: Body, N) -> str:
    """M[k, i] = sqrt(2/N) cos(pi (2i+1) k / (2N)), row 0 scaled by 1/sqrt(2); as float."""
    zero, one = b.const(0), b.const(1)
    k = b.op("Range", zero, N, one)
    odd = b.op("Add", b.op("Mul", k, b.const(2)), one)
    # (k (2i+1)) mod 4N keeps the float angle small and exact
    product = b.op("Mod", b.op("Mul", b.op("Unsqueeze", k, b.const([1])), b.op("Unsqueeze", odd, b.const([0]))),
                   b.op("Mul", N, b.const(4)))
    n_float = b.op("Cast", N, to=TensorProto.FLOAT)
    angle = b.op("Div", b.op("Mul", b.op("Cast", product, to=TensorProto.FLOAT), b.const(math.pi, "float32")),
                 b.op("Mul", n_float, b.const(2.0, "float32")))
    scale = b.op("Sqrt", b.op("Div", b.const(2.0, "float32"), n_float))
    first = b.op("Where", b.op("Equal", k, zero), b.const(1 / math.sqrt(2), "float32"), b.const(1.0, "float32"))
    return b.op("Mul", b.op("Mul", b.op("Cos", angle), scale), b.op("Unsqueeze", first, b.const([1])))


def acdc_function():
    b = Body()
    N, factors = b.dim("A", 1), b.dim("A", 0)
    dct = _dct_matrix(b, N)
    idct_t = dct  # y @ M is the IDCT of row vectors; y @ M^T their DCT
    dct_t = b.op("Transpose", dct, perm=[1, 0])
    flat_shape = b.vector(-1, N)
    halves = b.vector(-1, 2, b.op("Div", N, b.const(2)))
    flat = b.op("Reshape", "X", flat_shape)

    step = Body(prefix="loop")
    def pick(name):
        return step.op("Gather", name, "i", axis=0)
    h = step.op("MatMul", step.op("Mul", "y", pick("A")), dct_t)
    h = step.op("Add", step.op("MatMul", step.op("Mul", h, pick("D")), idct_t), pick("B"))
    riffled = step.op("Reshape", step.op("Transpose", step.op("Reshape", h, halves), perm=[0, 2, 1]), flat_shape)
    step.nodes.append(helper.make_node("Identity", ["cond"], ["cond_out"]))
    step.nodes.append(helper.make_node("Identity", [riffled], ["y_out"]))
    graph = helper.make_graph(step.nodes, "acdc_factor",
                              [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                               helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
                               helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
                               helper.make_tensor_value_info("y_out", TensorProto.FLOAT, None)])
    looped = b.op("Loop", factors, "", flat, body=graph)
    out = b.op("Reshape", looped, b.op("Shape", "X"))
    return make_function("ACDC", ["X", "A", "D", "B"], [out], b, [])


@symbolic_helper.parse_args("v", "v", "v", "v")
def acdc_symbolic(g, x, a, d, bias):
    if symbolic_helper._is_none(bias):
        bias = g.op("Constant", value_t=torch.zeros(symbolic_helper._get_tensor_sizes(a)))
    return same_as_input(g.op(f"{DOMAIN}::ACDC", x, a, d, bias), x)


FUNCTIONS = {"ACDC": (acdc_function, ())}
SYMBOLICS = {"sedge::acdc": acdc_symbolic}
