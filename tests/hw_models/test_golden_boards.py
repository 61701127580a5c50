"""Golden numbers: the toy network (conftest) on every shipped board, frozen.

A change to a board file or to the model moves these on purpose; update them in the same
commit and say why. The host board is detected from a fixed lscpu (conftest's fixed_host) so that the numbers do
not depend on the machine running the tests.
"""
import pytest
from toy_records import toy_network

from sedge.boards import list_boards, load_board
from sedge.hw_models import estimate

# board: (DRAM bytes per inference, energy pJ, cycles)
GOLDEN = {
    "cortex-m7": (2339088, 1.88308e+09, 3.36011e+07),
    "eyeriss-like": (4398480, 6.75513e+08, 675351),
    "host": (1381648, 1.99653e+08, 978307),  # efficiency 0.39, DRAM 10 GB/s, L3 40 GB/s (measured)
    "jetson-orin-nano": (1381648, 1.00672e+08, 39915.9),
    "jetson-orin-nano-super": (1381648, 1.00672e+08, 41422.8),
    "raspberry-pi-4": (1381648, 2.51771e+08, 2.11554e+06),
    "zcu104": (1381648, 2.87891e+08, 69430.4),
}
PARAMETER_BYTES = 1369320  # the same on every board: codes, generator once, dense weights


def test_every_shipped_board_has_a_golden_estimate():
    assert set(GOLDEN) == set(list_boards())


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_estimate(name, fixed_host):
    totals = estimate(toy_network(), load_board(name)).totals()
    dram, energy, cycles = GOLDEN[name]
    assert totals["parameter_bytes"] == PARAMETER_BYTES
    assert totals["dram_bytes_total"] == pytest.approx(dram, rel=1e-6)
    assert totals["energy_pj_total"] == pytest.approx(energy, rel=1e-5)
    assert totals["cycles"] == pytest.approx(cycles, rel=1e-5)
