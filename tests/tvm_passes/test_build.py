"""Builds for other targets: CUDA without a GPU, foreign CPUs without a linker."""
import tarfile

import pytest

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
