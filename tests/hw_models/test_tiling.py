"""The tiling model: each tensor once when everything fits, refetches and spills when not."""
import pytest

from sedge.hw_models.tiling import Geometry, geometry, traffic

CONV = Geometry(out_channels=64, out_rows=32, in_channels=64, in_rows=32, kernel_rows=3, stride=1)


def test_everything_fits_moves_each_tensor_once():
    t = traffic(CONV, 1000, 2000, 3000, buffer_bytes=10_000)
    assert (t.weights, t.inputs, t.outputs, t.tiles, t.fits) == (1000, 2000, 3000, (1, 1, 1), True)


def test_weights_that_do_not_fit_stream_in_tiles_past_the_resident_input():
    # weights 40 KB do not fit a 16 KB buffer, but the whole 1 KB input stays while they stream
    t = traffic(CONV, 40_000, 1_000, 1_000, buffer_bytes=16_000)
    assert t.total == 42_000 and t.tiles[0] > 1


def test_weights_and_input_that_both_do_not_fit_cost_a_refetch():
    t = traffic(CONV, 40_000, 40_000, 1_000, buffer_bytes=16_000)
    assert t.total > 81_000


def test_big_input_small_weights_reads_the_input_once():
    t = traffic(CONV, 1_000, 40_000, 1_000, buffer_bytes=16_000)
    assert t.inputs >= 40_000 and t.inputs < 40_000 * 1.3  # only the row halos are read twice
    assert t.weights == 1_000 * t.tiles[1]


def test_row_tiles_reread_the_kernel_halo():
    geo = Geometry(out_channels=1, out_rows=32, in_channels=1, in_rows=32, kernel_rows=3, stride=1)
    t = traffic(geo, 0, 32_000, 100, buffer_bytes=19_000)  # two row tiles of 16 + 2 halo rows
    assert t.tiles[1] == 2 and t.inputs == pytest.approx(32_000 * 36 / 32)


def test_a_reduction_that_does_not_fit_spills_partial_sums():
    geo = Geometry(out_channels=1, out_rows=1, in_channels=1024, in_rows=1, kernel_rows=1, stride=1)
    t = traffic(geo, 4096, 4096, 4, buffer_bytes=3000)
    assert t.tiles[2] == 4 and t.outputs == 4 * (2 * 4 - 1)


def test_resident_tensors_cost_no_traffic_but_take_room():
    t = traffic(CONV, 1000, 2000, 3000, buffer_bytes=10_000, input_on_chip=2000, output_on_chip=True)
    assert (t.weights, t.inputs, t.outputs) == (1000, 0, 0)
    tight = traffic(CONV, 6000, 2000, 3000, buffer_bytes=10_000, input_on_chip=2000, output_on_chip=True)
    assert tight.weights == 6000 and tight.tiles != (1, 1, 1)


def test_nothing_fits_still_streams_with_the_smallest_tiles():
    t = traffic(CONV, 10_000, 10_000, 10_000, buffer_bytes=1)
    assert not t.fits and t.total > 30_000


def test_geometry_of_a_strided_conv_and_a_dense_layer():
    g = geometry([[1, 16, 32, 32]], [1, 32, 16, 16], [[32, 16, 3, 3]])
    assert (g.out_channels, g.out_rows, g.in_channels, g.in_rows, g.kernel_rows, g.stride) == (32, 16, 16, 32, 3, 2)
    d = geometry([[1, 64]], [1, 10], [[10, 64]])
    assert (d.out_channels, d.out_rows, d.in_channels) == (10, 1, 64)
