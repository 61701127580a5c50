"""Cross-compilation: aarch64, armv7 hard-float and riscv64 packages from `sedge compile
--cross-compiler`, each with its board's ELF machine and float ABI and refused by an x86
board; and an aarch64 package run under qemu-aarch64 by the board agent's own job code with
the aarch64 TVM runtime, its outputs checked against numpy.

Needs Debian's cross compilers (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf,
gcc-riscv64-linux-gnu) to link, and for the run qemu-aarch64 plus an aarch64 Python root made
by tests/tvm_passes/make_aarch64_root.sh (SEDGE_AARCH64_ROOT); each part skips, naming what
is missing, where they are absent.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from sedge.errors import SedgeError
from sedge.runtime.agent.validate import check_runs_here, elf_arch
from sedge.runtime.package import open_package

sys.path.insert(0, str(Path(__file__).parents[1] / "runtime"))  # the device-test helpers live there
from board_fixtures import EXPECTED, X, tiny_onnx, tiny_package  # noqa: E402

# the board architecture -> (target, cross compiler): the Linux ABIs of Raspberry Pi OS 64-bit,
# 32-bit Raspberry Pi OS / armhf (hard-float: floats in VFP registers), and riscv64 (RV64GC, lp64d)
CROSS = {
    "aarch64": ("llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a72", "aarch64-linux-gnu-gcc"),
    "arm": ("llvm -mtriple=armv7l-linux-gnueabihf -mattr=+neon -mfloat-abi=hard", "arm-linux-gnueabihf-gcc"),
    "riscv64": ("llvm -mtriple=riscv64-linux-gnu -mattr=+m,+a,+f,+d,+c", "riscv64-linux-gnu-gcc"),
}
# ELF e_flags that say the library uses the board's float ABI
HARD_FLOAT_FLAGS = {"arm": 0x400, "riscv64": 0x4}  # EF_ARM_ABI_FLOAT_HARD, EF_RISCV_FLOAT_ABI_DOUBLE
ROOT = Path(os.environ.get("SEDGE_AARCH64_ROOT", "/opt/sedge-aarch64"))
REPO = Path(__file__).parents[2]


def _needs(compiler: str) -> None:
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not found: apt-get install -y gcc-{compiler.removesuffix('-gcc')}")

# run by the aarch64 Python: the agent's job on the package, printing what the host checks
JOB = """
import json, sys
import numpy as np
from sedge.runtime.agent.job import pack_arrays, run_job
arrays = np.load(sys.argv[2])
result, blob = run_job(sys.argv[1], {"repeat": 3, "return_outputs": True},
                       pack_arrays({"input:x": arrays["x"], "expected:0": arrays["expected"]}))
np.save(sys.argv[3], np.load(__import__("io").BytesIO(blob))["output:0"])
print(json.dumps({"check": result["check"], "samples": len(result["samples_ms"])}))
"""


@pytest.fixture(scope="module")
def aarch64_package(tmp_path_factory):
    target, compiler = CROSS["aarch64"]
    _needs(compiler)
    tmp = tmp_path_factory.mktemp("cross")
    done = run_cli("compile", tiny_onnx(tmp / "tiny.onnx"), "--target", target, "--cross-compiler", compiler,
                   "-o", tmp / "tiny-a64.tar")
    assert done.returncode == 0, done.stderr
    return tmp / "tiny-a64.tar"


@pytest.mark.parametrize("arch", sorted(CROSS))
def test_cross_compiled_package_is_for_its_board_and_refused_here(arch, tmp_path):
    target, compiler = CROSS[arch]
    _needs(compiler)
    package = open_package(tiny_package(tmp_path, target=target, cross_compiler=compiler))
    assert package.library_path.name == "mod.so" and elf_arch(package.library_path) == arch
    header = package.library_path.read_bytes()[:52]
    flags = int.from_bytes(header[48:52] if header[4] == 2 else header[36:40], "little")  # ELF64 / ELF32 e_flags
    assert flags & HARD_FLOAT_FLAGS.get(arch, 0) == HARD_FLOAT_FLAGS.get(arch, 0)
    check_runs_here(package.metadata.target, package.library_path, machine=arch)
    with pytest.raises(SedgeError, match=f"package built for {arch}, this board is x86_64"):
        check_runs_here(package.metadata.target, package.library_path, machine="x86_64")


def _aarch64_python() -> list[str]:
    python = ROOT / "sysroot/usr/bin/python3.11"
    if shutil.which("qemu-aarch64") is None:
        pytest.skip("qemu-aarch64 not found: apt-get install -y qemu-user")
    if not python.exists() or not (ROOT / "site/tvm").is_dir():
        pytest.skip(f"no aarch64 Python root at {ROOT}: run tests/tvm_passes/make_aarch64_root.sh {ROOT}")
    return ["qemu-aarch64", "-L", str(ROOT / "sysroot"), str(python)]


def test_aarch64_package_runs_under_qemu_with_the_aarch64_runtime(aarch64_package, tmp_path):
    python = _aarch64_python()
    board = tmp_path / "board" / "sedge"  # what a board holds: sedge's driver modules and runtime, no compiler
    board.mkdir(parents=True)
    for module in (REPO / "sedge").glob("*.py"):
        (board / module.name).symlink_to(module)
    (board / "runtime").symlink_to(REPO / "runtime")
    np.savez(tmp_path / "io.npz", x=X, expected=EXPECTED)
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'site'}:{board.parent}")
    arguments = [str(aarch64_package), str(tmp_path / "io.npz"), str(tmp_path / "out.npy")]
    done = subprocess.run([*python, "-c", JOB, *arguments], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["check"]["status"] == "PASS" and result["samples"] == 3
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), EXPECTED, rtol=1e-5, atol=1e-5)
