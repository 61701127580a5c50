"""tvmc's Python API (TVM v0.19's gallery/tutorial/tvmc_python.py) as `sedge.tvmc`."""
import numpy as np
import pytest
from test_tvmc_parity import TVMC_TIME_HEADER, matmul_onnx, two_input_onnx  # noqa: F401 - fixtures

from sedge import tvmc
from sedge.errors import SedgeError


def test_load_compile_run_as_in_the_tutorial(matmul_onnx, tmp_path, capsys):  # noqa: F811
    model = tvmc.load(str(matmul_onnx))
    model.summary()
    assert "def main" in capsys.readouterr().out
    assert list(model.params) and next(iter(model.params.values())).shape == (4, 8)
    package = tvmc.compile(model, target="llvm", package_path=str(tmp_path / "m.tar"))
    assert isinstance(package, tvmc.TVMCPackage) and package.lib_name == "mod.so"
    result = tvmc.run(package, device="cpu", benchmark=True, repeat=3, number=1)
    assert result.get_output("output_0").shape == (2, 8)
    text = str(result)
    assert text.splitlines()[:2] == ["Execution time summary:", TVMC_TIME_HEADER]
    assert text.endswith("Output Names:\n ['output_0']")
    result.save(str(tmp_path / "out.npz"))
    np.testing.assert_array_equal(np.load(tmp_path / "out.npz")["output_0"], result.outputs["output_0"])
    reloaded = tvmc.TVMCPackage(package_path=str(tmp_path / "m.tar"))
    assert tvmc.run(reloaded, device="cpu").times is None  # no benchmark: outputs only


def test_load_with_shape_dict_and_run_with_some_inputs(two_input_onnx, tmp_path):  # noqa: F811
    model = tvmc.load(str(two_input_onnx), shape_dict={"input.1": [2, 3], "input:0": [2, 3]})
    package = tvmc.compile(model, target="llvm", package_path=str(tmp_path / "two.tar"))
    a = np.ones((2, 3), np.float32)
    result = tvmc.run(package, device="cpu", inputs={"input.1": a}, fill_mode="zeros")
    np.testing.assert_array_equal(result.get_output("output_0"), a * 2)


def test_compile_takes_tvmcs_arguments(matmul_onnx, tmp_path):  # noqa: F811
    model = tvmc.load(str(matmul_onnx))
    package = tvmc.compile(model, target="llvm", package_path=str(tmp_path / "m.tar"), output_format="tar",
                           additional_target_options={"llvm": {"num-cores": 1}},
                           pass_context_configs=["tir.disable_vectorize=true"], mixed_precision=True,
                           mixed_precision_ops=["nn.dense"], executor="graph")
    assert package.lib_name == "mod.tar"
    assert package.package.metadata.target["num-cores"] == 1
    assert package.package.metadata.build["mixed_precision"]["ops"] == ["relax.matmul"]


def test_compile_default_package_path_and_unknown_arguments(matmul_onnx):  # noqa: F811
    model = tvmc.load(str(matmul_onnx))
    package = tvmc.compile(model, target="llvm")
    assert package.package_path.endswith("model_package.tar")
    with pytest.raises(SedgeError, match="unsupported argument"):
        tvmc.compile(model, target="llvm", workspace_pools="sram")
    with pytest.raises(SedgeError, match="TVM 0.27 has no aot executor"):
        tvmc.compile(model, target="llvm", executor="aot")


@pytest.mark.slow  # two trials: ~1-2 min on a busy 2-core machine
def test_tune_then_compile_with_the_records(matmul_onnx, tmp_path):  # noqa: F811
    model = tvmc.load(str(matmul_onnx))
    records = tvmc.tune(model, target="llvm", trials=2, enable_autoscheduler=True)
    package = tvmc.compile(model, target="llvm", tuning_records=records, package_path=str(tmp_path / "t.tar"))
    assert tvmc.run(package, device="cpu").get_output("output_0").shape == (2, 8)
