"""tvmc-style target strings, JSON and flags -> TVM 0.27 JSON targets."""
import json

import pytest

from sedge.errors import SedgeError
from sedge.tvm_passes.target import host_target, is_host_compatible, parse_target


def test_default_is_the_detected_host_cpu():
    target = parse_target(None)
    assert target["kind"] == "llvm"
    assert target["mcpu"] == host_target()["mcpu"] and target["mcpu"] not in ("", "generic", "native")
    assert target["num-cores"] >= 1


@pytest.mark.parametrize("text, expected", [
    ("llvm -mcpu=skylake-avx512", {"kind": "llvm", "mcpu": "skylake-avx512"}),
    ("llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a72", {"mtriple": "aarch64-linux-gnu", "mcpu": "cortex-a72"}),
    ("llvm -mtriple=armv7l-linux-gnueabihf -mattr=+neon,+vfp4 -mfloat-abi=hard",
     {"mattr": ["+neon", "+vfp4"], "mfloat-abi": "hard"}),
    ("llvm -num-cores=4", {"num-cores": 4}),
    ('{"kind": "llvm", "mcpu": "cascadelake"}', {"mcpu": "cascadelake"}),
    ("cuda -arch=sm_80", {"kind": "cuda", "arch": "sm_80"}),
])
def test_tvmc_strings_and_json_translate(text, expected):
    target = parse_target(text)
    for key, value in expected.items():
        assert target[key] == value


def test_native_mcpu_becomes_the_host_name():
    assert parse_target("llvm -mcpu=native")["mcpu"] == host_target()["mcpu"]


def test_cuda_gets_a_host_and_a_pair_sets_it():
    assert parse_target("cuda")["host"]["kind"] == "llvm"
    paired = parse_target("cuda -arch=sm_90, llvm -mcpu=skylake")
    assert paired["arch"] == "sm_90" and paired["host"]["mcpu"] == "skylake"


def test_json_file_and_flag_overrides(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"kind": "llvm", "mcpu": "znver4"}))
    assert parse_target(str(path))["mcpu"] == "znver4"
    assert parse_target("llvm", {("llvm", "mcpu"): "cascadelake"})["mcpu"] == "cascadelake"
    assert parse_target("llvm", {("llvm", "num-cores"): "3"})["num-cores"] == 3


@pytest.mark.parametrize("text, message", [
    ("foo", "unknown target kind 'foo'; allowed: llvm, cuda"),
    ("llvm -mcpuu=x", "unknown option '-mcpuu' for target 'llvm'; allowed:"),
    ("llvm mcpu", "expected -option=value"),
    ("llvm -num-cores=many", "takes int"),
    ("{bad json", "does not parse"),
    ("missing.json", "does not exist"),
    ("llvm -mcpu=skylake, llvm", "pairs may be combined"),
])
def test_bad_targets_name_the_problem(text, message):
    with pytest.raises(SedgeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_target(text)


def test_flag_for_another_kind_is_rejected():
    with pytest.raises(SedgeError, match="--target-cuda-arch given, but the target is 'llvm'"):
        parse_target("llvm", {("cuda", "arch"): "sm_80"})


def test_host_compatibility():
    assert is_host_compatible(parse_target(None))
    assert not is_host_compatible(parse_target("llvm -mtriple=aarch64-linux-gnu"))
    assert not is_host_compatible(parse_target("cuda"))


def test_cross_triples_get_what_their_linkers_need():
    assert parse_target("llvm -mtriple=riscv64-linux-gnu")["mattr"] == ["+m", "+a", "+f", "+d", "+c"]
    assert parse_target("llvm -mtriple=armv7l-linux-gnueabihf")["mfloat-abi"] == "hard"
    assert parse_target("llvm -mtriple=riscv64-linux-gnu -mattr=+m")["mattr"] == ["+m"]  # the user's wins


@pytest.mark.parametrize("text, mattr", [
    ("llvm -mcpu=skylake-avx512", ["-prefer-256-bit"]),  # AVX-512: keep the schedules' 16-lane vectors whole
    ("llvm -mcpu=emeraldrapids -mattr=+prefer-256-bit", ["+prefer-256-bit"]),  # the user's word stands
    ("llvm -mcpu=haswell", None),  # AVX2: 8 lanes, nothing to split
    ("llvm -mtriple=aarch64-linux-gnu -mcpu=cortex-a72", None),
])
def test_avx512_targets_keep_512_bit_vectors(text, mattr):
    assert parse_target(text).get("mattr") == mattr


def test_a_16_lane_elementwise_body_compiles_to_512_bit_instructions():
    """What -prefer-256-bit changes: LLVM's Intel tuning had halved a vectorised sigmoid
    into ymm instructions (2.5x slower in a conv's epilogue)."""
    import tvm
    from tvm import te

    from sedge.tvm_passes.passes.vector_math import sigmoid_f32

    x = te.placeholder((1024,), name="x")
    y = te.compute((1024,), lambda i: sigmoid_f32(x[i]), name="y")
    sch = tvm.s_tir.Schedule(te.create_prim_func([x, y]))
    _, inner = sch.split(sch.get_loops(sch.get_sblock("y"))[0], [None, 16])
    sch.vectorize(inner)
    target = tvm.target.Target(parse_target("llvm -mcpu=skylake-avx512"))
    asm = tvm.compile(sch.mod, target=target).mod.inspect_source("asm")
    divides = [line for line in asm.splitlines() if "vdivps" in line]
    assert divides and all("zmm" in line for line in divides)
