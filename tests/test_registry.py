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


def test_update_from_files_a_table_and_refuses_its_duplicates():
    things = Registry("thing")
    things.update_from({"a": 1, "b": 2})
    assert things == {"a": 1, "b": 2}
    with pytest.raises(RuntimeError, match="thing 'b' registered twice"):
        things.update_from({"b": 3})


def test_every_stage_registry_is_filled():
    import sedge.frontend.importers  # noqa: F401  registers the converters
    from sedge.cli import build_parser
    from sedge.frontend.loaders.pytorch import CUSTOM_CONVERT_MAP
    from sedge.frontend.onnx_functions import FUNCTIONS
    from sedge.frontend.onnx_ops import CONVERTERS
    from sedge.tvm_passes.layer_records import RECORDERS
    from sedge.tvm_passes.records_compressed import COMPRESSED_RECORDERS

    assert "relax.nn.conv2d" in RECORDERS and "CSGConv" in COMPRESSED_RECORDERS
    assert {"StructuredConv", "ACDC", "CSGConv", "FFTConv"} <= set(CONVERTERS)
    assert {"SumPool", "StructuredConv", "ACDC", "CSGConv", "FFTConv"} == set(FUNCTIONS)
    assert "structured_conv.default" in CUSTOM_CONVERT_MAP
    for registry in (RECORDERS, COMPRESSED_RECORDERS, CONVERTERS, FUNCTIONS, CUSTOM_CONVERT_MAP):
        assert isinstance(registry, Registry)
    commands = build_parser()._subparsers._group_actions[0].choices
    assert {"compile", "run", "passes", "tune"} <= set(commands)
