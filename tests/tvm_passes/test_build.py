"""Builds for other targets: CUDA (with and without a GPU), foreign CPUs without a linker."""
import tarfile

import pytest
import tvm

import sedge
from sedge.errors import SedgeError
from sedge.runtime.executor import Executor


def test_cuda_build_schedules_gpu_kernels_without_a_gpu(resnet_onnx, tmp_path):
    out = tmp_path / "cuda.tar"
    package = sedge.compile(sedge.load(str(resnet_onnx)),
                            sedge.CompileOptions(target="cuda -arch=sm_90", output=str(out), dump_code=["tir"]))
    assert package.metadata.target["kind"] == "cuda" and package.metadata.target["arch"] == "sm_90"
    tir = (tmp_path / "cuda.tar.tir").read_text()
    assert "blockIdx.x" in tir and "threadIdx.x" in tir  # dlight's default GPU schedules ran
    with pytest.raises(SedgeError, match="run it with --device cuda"):
        Executor(package, "cpu")


# The compressed layers' lowerings (sum-pooling, CSG generator, DCTs, band-limited DFT,
# tensor-train cores) next to a plain CNN: each must legalize and schedule for the GPU.
GPU_MODELS = ("zoo:resnet56-csg-8x8-128", "zoo:wrn-40-2-acdc", "zoo:resnet56-fft-50", "zoo:wrn-40-2-tt-0.5",
              "zoo:wrn-40-2-shuffle-4", "zoo:mobilenetv2-struct-a")


@pytest.mark.skipif(not tvm.cuda(0).exist, reason="needs a CUDA GPU; without one only the build is checked (above)")
@pytest.mark.parametrize("model", ("resnet_onnx", *GPU_MODELS))
def test_cuda_package_matches_the_reference_on_the_gpu(model, request, tmp_path):
    source = str(request.getfixturevalue(model)) if model == "resnet_onnx" else model
    package = sedge.compile(sedge.load(source), sedge.CompileOptions(target="cuda", output=str(tmp_path / "m.tar")))
    result = sedge.run(package, sedge.RunOptions(device="cuda", verify=True, profile=True))
    assert result.verification.passed, result.verification
    assert result.profile and all(row.duration_us > 0 for row in result.profile)


def test_foreign_cpu_without_linker_ships_objects(resnet_onnx, tmp_path):
    out = tmp_path / "arm.tar"
    package = sedge.compile(sedge.load(str(resnet_onnx)), sedge.CompileOptions(
        target="llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a72", output=str(out)))
    with tarfile.open(out) as tar:
        assert "mod.tar" in tar.getnames() and "mod.so" not in tar.getnames()
    with pytest.raises(SedgeError, match="recompile with --cross-compiler"):
        Executor(package)


def test_bad_options_fail_before_writing(resnet_onnx, tmp_path):
    model = sedge.load(str(resnet_onnx))
    for options, message in ((sedge.CompileOptions(opt_level=7), "0..3"),
                             (sedge.CompileOptions(dump_code=["png"]), "unknown --dump-code"),
                             (sedge.CompileOptions(tuning_records=str(tmp_path / "none")), "tuning-records")):
        options.output = str(tmp_path / "m.tar")
        with pytest.raises(SedgeError, match=message):
            sedge.compile(model, options)
        assert not (tmp_path / "m.tar").exists()


def test_kernels_carry_no_argument_checks_unless_asked(resnet_onnx, tmp_path):
    """Only the VM calls the kernels, with buffers the compiler planned (the executor checks
    the model's inputs): their argument checks, whose code grows with each kernel's
    arguments (DenseNet's concats of up to 33 inputs: a third of densenet121's compile),
    are left out; `--pass-config tir.disable_assert=false` keeps them."""
    model = sedge.load(str(resnet_onnx))
    for pass_config, checked in (({}, False), ({"tir.disable_assert": False}, True)):
        out = tmp_path / f"checked-{checked}.tar"
        package = sedge.compile(model, sedge.CompileOptions(output=str(out), dump_code=["ll"],
                                                            pass_config=pass_config))
        assert ('c"Expected ' in (tmp_path / f"{out.name}.ll").read_text()) == checked
        assert sedge.run(package, sedge.RunOptions(verify=True)).verification.passed


def test_cuda_builds_structured_convs_folded_without_a_gpu(tmp_path):
    """GPUs have no sum-pool kernel: each structured layer is priced between `fold` (the dense
    conv on the GPU schedules) and its generic body, and the build schedules every kernel."""
    out = tmp_path / "cuda.tar"
    package = sedge.compile(sedge.load("zoo:resnet8-struct-a"),
                            sedge.CompileOptions(target="cuda -arch=sm_90", output=str(out), dump_code=["tir"]))
    structured = [r for r in package.metadata.layers if r.op == "structured_conv"]
    assert structured and all(r.attrs["lowering"] in ("fold", "generic") for r in structured)
    assert all([o["name"] for o in r.attrs["lowering_options"]] == ["fold", "generic"] for r in structured)
    tir = (tmp_path / "cuda.tar.tir").read_text()
    assert "sedge_sum_pool" not in tir and "blockIdx.x" in tir
    assert not package.metadata.build["unscheduled_kernels"]
    with pytest.raises(SedgeError, match="can be lowered as fold, generic"):
        sedge.compile(sedge.load("zoo:resnet8-struct-a"), sedge.CompileOptions(
            target="cuda -arch=sm_90", output=str(tmp_path / "x.tar"), lowering={"StructuredConv_0": "sumpool+conv"}))
    assert not (tmp_path / "x.tar").exists()
