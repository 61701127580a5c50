"""The seeds' measurement: DenseNet-BC-40-48 vs its CSG [12,12,3,3]-72 version moves 11.97 MB
vs 6.69 MB of parameters host -> GPU (1.79x). The model must reproduce that ratio within 10%
on a GPU-like board that keeps every parameter in DRAM, and show a larger saving on a board
whose on-chip buffer holds the shared generator.

[12,12]-72 is the configuration whose saving matches: the 18 bottleneck 3x3 convs (48 x 192
x 3 x 3) drop from 18 x 82,944 weights to 18 x 64 codes x 72 plus one 1296 x 72 generator,
1.32 M fp32 parameters = 5.28 MB, exactly 11.97 - 6.69 MB.
"""
import pytest

from sedge.boards import load_board
from sedge.errors import SedgeError
from sedge.hw_models import estimate

SEEDS_RATIO = 11.97 / 6.69


@pytest.fixture(scope="module")
def records():
    import sedge

    try:
        return (sedge.layer_records("zoo:densenet-bc-40-48"),
                sedge.layer_records("zoo:densenet-bc-40-48-csg-12x12-72"))
    except SedgeError as err:  # the zoo loader or the csg_conv record is not in this tree yet
        pytest.skip(f"zoo DenseNet records unavailable: {err}")


def test_parameter_traffic_ratio_matches_the_seeds_measurement(records):
    dense, csg = records
    assert any(layer.op == "csg_conv" for layer in csg)
    gpu = estimate(csg, load_board("jetson-orin-nano"), baseline=dense)
    assert gpu.savings()["parameter_bytes"] == pytest.approx(SEEDS_RATIO, rel=0.10)


def test_a_buffer_that_holds_the_generator_saves_more(records):
    dense, csg = records
    saving = {name: estimate(csg, load_board(name), baseline=dense) for name in ("zcu104", "jetson-orin-nano", "eyeriss-like")}
    weight_ratio = {name: est.baseline.totals()["dram_bytes"]["weights"] / est.totals()["dram_bytes"]["weights"]
                    for name, est in saving.items()}
    assert all(layer.mode == "generate" for layer in saving["zcu104"].layers if layer.op == "csg_conv")
    # per inference, the FPGA's 3.4 MiB buffer holds the generator and more of the maps
    assert saving["zcu104"].savings()["dram_bytes_total"] > saving["jetson-orin-nano"].savings()["dram_bytes_total"]
    # the 108 KiB Eyeriss buffer cannot hold the 373 KB generator: its weight saving is smaller
    assert weight_ratio["zcu104"] > weight_ratio["eyeriss-like"]
