"""Output types for the symbolics, so the exporter's shape inference knows each sedge node's shape."""
from torch.onnx import symbolic_helper


def conv_output(out, x, out_channels, kernel, stride, padding, dilation):
    """Give `out` the type of x convolved: (B, O, H', W') with the usual conv size formula."""
    batch, _, *spatial = symbolic_helper._get_tensor_sizes(x)
    if None in spatial:  # the tracer lost the shape: leave the type to ONNX shape inference
        return out
    sizes = [(n + 2 * padding[i] - dilation[i] * (kernel - 1) - 1) // stride[i] + 1 for i, n in enumerate(spatial)]
    out.setType(x.type().with_sizes([batch, out_channels, *sizes]))
    return out


def same_as_input(out, x):
    out.setType(x.type())
    return out
