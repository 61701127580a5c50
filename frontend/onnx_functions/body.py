"""A tiny builder for ONNX function bodies: ops with generated value names and attribute refs."""
import numpy as np
import onnx
from onnx import helper

DOMAIN = "sedge"
VERSION = 1
OPSET = 18


class Body:
    """Collects the nodes of one function body; every method returns the output value's name."""

    def __init__(self, prefix="v"):
        self.nodes, self.prefix = [], prefix  # a subgraph needs its own prefix: ONNX names are unique across scopes

    def op(self, op_type, *inputs, domain="", refs=None, **attrs) -> str:
        """`refs` maps a node attribute to (function attribute name, AttributeProto type)."""
        out = f"{self.prefix}{len(self.nodes)}"
        node = helper.make_node(op_type, list(inputs), [out], domain=domain, **attrs)
        for name, (ref_name, kind) in (refs or {}).items():
            node.attribute.append(helper.make_attribute_ref(name, kind) if name == ref_name
                                  else _renamed_ref(name, ref_name, kind))
        self.nodes.append(node)
        return out

    def const(self, value, dtype=np.int64) -> str:
        return self.op("Constant", value=helper.make_tensor("c", _onnx_type(dtype), np.shape(value),
                                                           np.asarray(value, dtype).reshape(-1).tolist()))

    def attr_int(self, name) -> str:
        """The int attribute `name` as an int64 scalar tensor."""
        return self.op("Constant", refs={"value_int": (name, onnx.AttributeProto.INT)})

    def attr_ints(self, name) -> str:
        return self.op("Constant", refs={"value_ints": (name, onnx.AttributeProto.INTS)})

    def dim(self, tensor, axis) -> str:
        """Dimension `axis` of `tensor` as an int64 scalar."""
        return self.op("Gather", self.op("Shape", tensor), self.const(axis))

    def vector(self, *scalars) -> str:
        """1-D int64 tensor from scalars (names) and Python ints."""
        parts = [self.op("Unsqueeze", s, self.const([0])) if isinstance(s, str) else self.const([s]) for s in scalars]
        return self.op("Concat", *parts, axis=0)


def _renamed_ref(name, ref_name, kind):
    attribute = onnx.AttributeProto()
    attribute.name, attribute.ref_attr_name, attribute.type = name, ref_name, kind
    return attribute


def _onnx_type(dtype):
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def make_function(name, inputs, outputs, body: Body, attributes, uses_sedge=False):
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid(DOMAIN, VERSION)] if uses_sedge else [])
    return helper.make_function(DOMAIN, name, inputs, outputs, body.nodes, opsets, attributes)


INT, INTS = onnx.AttributeProto.INT, onnx.AttributeProto.INTS
