"""The host model (sedge.host) and the cache budget the CPU schedules take from it or a board."""
import os

import pytest
import tvm

from sedge import host
from sedge.boards import board_for_target, load_board
from sedge.tvm_passes.schedules.cpu import DEFAULT_L2_BYTES, cache_bytes


def test_this_host_describes_the_machine_it_runs_on():
    here = host.this_host()
    assert here.logical_cpus == len(os.sched_getaffinity(0))
    assert 1 <= here.physical_cores <= here.logical_cpus
    assert here.simd_bytes in (8, 16, 32, 64) and here.memory_bytes > 2**28 and here.clock_hz > 1e8
    assert here.cache("L2") is None or here.cache("L2").size_bytes >= 2**16


@pytest.mark.parametrize("line, expected", [
    ("2 MiB (2 instances)", host.Cache("L2", 2**20, 2)),
    ("32 MiB (1 instance)", host.Cache("L2", 2**25, 1)),
    ("512 KiB", host.Cache("L2", 2**19, 1)),
    ("", None),
])
def test_lscpu_cache_lines_become_sizes_per_instance(line, expected):
    assert host._cache({"L2 cache": line} if line else {}, "L2") == expected


def test_each_core_gets_its_share_of_a_cache():
    shared = host.Host("x", "x86_64", 4, 4, caches=(host.Cache("L2", 2**20, 1),))
    private = host.Host("x", "x86_64", 4, 4, caches=(host.Cache("L2", 2**20, 4),))
    assert shared.cache_share_bytes("L2") == 2**18 and private.cache_share_bytes("L2") == 2**20
    assert shared.cache_share_bytes("L3") is None


def test_the_host_board_is_filled_from_the_host_model():
    board, here = load_board("host"), host.this_host()
    assert board.compute.units == here.physical_cores
    l2 = next(level for level in board.sram if level.name == "L2")
    assert here.cache("L2") is None or l2.size_bytes == here.cache("L2").total_bytes


def _target(**config):
    return tvm.target.Target({"kind": "llvm", **config})


def test_a_board_named_by_tag_or_mcpu_gives_its_l2_share():
    rpi = load_board("raspberry-pi-4")
    share = int(next(level for level in rpi.sram if level.name == "L2").size_bytes) // rpi.compute.units
    assert share == 2**18  # 1 MiB shared by four Cortex-A72 cores
    assert cache_bytes(_target(mtriple="aarch64-linux-gnu", mcpu="cortex-a72")) == share
    assert cache_bytes(_target(mtriple="aarch64-linux-gnu", mcpu="cortex-a72", tag="raspberry-pi-4")) == share
    assert board_for_target({"kind": "llvm", "mcpu": "cortex-a72"}).name == "raspberry-pi-4"


def test_a_board_without_an_l2_and_an_unknown_cpu_get_the_default():
    assert cache_bytes(_target(mtriple="thumbv7em-none-eabihf", mcpu="cortex-m7")) == DEFAULT_L2_BYTES
    assert cache_bytes(_target(mtriple="aarch64-linux-gnu", mcpu="neoverse-v2")) == DEFAULT_L2_BYTES


def test_this_machine_gives_its_own_share_and_another_x86_cpu_the_default():
    from sedge.tvm_passes.target import host_target

    expected = host.this_host().cache_share_bytes("L2") or DEFAULT_L2_BYTES
    assert cache_bytes(_target()) == cache_bytes(tvm.target.Target(host_target())) == expected
    other = "skylake-avx512" if host_target()["mcpu"] != "skylake-avx512" else "znver4"
    assert cache_bytes(_target(mcpu=other)) == DEFAULT_L2_BYTES


def test_compile_for_a_board_takes_its_target_and_tags_the_package_with_it(resnet_onnx, tmp_path):
    import json
    import tarfile

    from conftest import run_cli

    done = run_cli("compile", resnet_onnx, "--board", "raspberry-pi-4", "-o", tmp_path / "rpi.tar")
    assert done.returncode == 0, done.stderr
    with tarfile.open(tmp_path / "rpi.tar") as tar:
        target = json.loads(tar.extractfile("metadata.json").read())["target"]
        assert "mod.tar" in tar.getnames()  # objects for the board: no cross compiler was given
    assert target["tag"] == "raspberry-pi-4" and target["mcpu"] == "cortex-a72"
    refused = run_cli("compile", resnet_onnx, "--board", "no-such-board", "-o", tmp_path / "x.tar")
    assert refused.returncode == 4 and "unknown board 'no-such-board'" in refused.stderr
    assert not (tmp_path / "x.tar").exists()
