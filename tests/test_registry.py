"""The shared registry: order kept, duplicates refused with the registry's name."""
import pytest

from sedge.registry import Registry


def test_register_keeps_order_and_refuses_duplicates():
    things = Registry("thing")

    @things.register("b", "also-b")
    def b():
        return "b"

    things.register("a")(str)
    assert list(things) == ["b", "also-b", "a"] and things["also-b"] is b
    with pytest.raises(RuntimeError, match="thing 'a' registered twice"):
        things.register("a")(int)


def test_every_stage_registry_is_filled():
    from sedge.frontend.onnx_ops import CONVERTERS
    from sedge.tvm_passes.layer_records import RECORDERS
    from sedge.tvm_passes.records_compressed import COMPRESSED_RECORDERS

    import sedge.frontend.importers  # noqa: F401  registers the converters

    assert "relax.nn.conv2d" in RECORDERS and "CSGConv" in COMPRESSED_RECORDERS
    assert {"StructuredConv", "ACDC", "CSGConv", "FFTConv"} <= set(CONVERTERS)
