"""The fast transform kernel's model (hw_models/transforms.py): lanes, cores and passes."""
from sedge.boards import load_board
from sedge.contract import LayerRecord
from sedge.hw_models import estimate
from sedge.hw_models.transforms import fast_dct_macs, is_fast_transform, pass_groups, passes, transform_cycles

F32 = 4


def acdc_record(N=4096, vectors=1, factors=12, lowering="factored", macs=None):
    macs = vectors * factors * fast_dct_macs(N) if macs is None else macs
    return LayerRecord(name="acdc", op="acdc", input_shapes=[[vectors, N]], output_shape=[vectors, N],
                       weight_shapes=[[factors, N]] * 3, macs=macs, weight_bytes=3 * factors * N * F32,
                       input_bytes=vectors * N * F32, output_bytes=vectors * N * F32,
                       attrs={"n": N, "factors": factors, "lowering": lowering})


def test_only_a_factored_fast_dct_record_is_a_transform():
    assert is_fast_transform(acdc_record())
    assert not is_fast_transform(acdc_record(lowering="fold", macs=4096 * 4096))
    # `factored` as the generic body (a GPU, N no power of two): 2 L N^2 MACs of dense matmuls
    assert not is_fast_transform(acdc_record(N=1024, macs=12 * 2 * 1024 * 1024))
    assert passes(acdc_record(N=4096)) == 12 * 2 * (12 + 2)


def test_batch_1_runs_scalar_on_one_core_and_is_bound_by_load_store_issue(fixed_host):
    board = load_board("host")
    cycles, (level, pass_bytes) = transform_cycles(acdc_record(vectors=1), board, "fp32", F32)
    ports = next(v for k, v in cycles.items() if k.endswith("ports"))
    assert ports > cycles["compute"]  # each scalar access takes a port a whole vector could use
    assert level == board.sram[0].name  # one 4096-vector's passes stay in L1
    assert pass_bytes == passes(acdc_record()) * 4096 * 6 * F32


def test_vectors_fill_the_lanes_so_64_cost_far_less_than_64_times_2(fixed_host):
    board = load_board("host")

    def seconds(vectors):
        return estimate([acdc_record(vectors=vectors)], board).totals()["latency_s"]

    assert seconds(64) < 8 * seconds(2)
    # one vector runs the butterflies' transform axis across the lanes; two vectors take
    # two lanes of sixteen and no more
    assert seconds(1) < seconds(2) < 2 * seconds(1) * 4


def test_one_vector_groups_each_stage_by_its_stride():
    # N = 64, 16 lanes: strides 1, 2, 4, 8, 16, 32 -> 64 + 32 + 16 + 8 + 4 + 4 groups, + 2 scalar passes
    assert pass_groups(64, 1, 16) == 64 + 32 + 16 + 8 + 4 + 4 + 2 * 64
    assert pass_groups(64, 64, 16) == (6 + 2) * 64 * 4


def test_the_estimate_charges_the_passes_not_the_peak_rate(fixed_host):
    board = load_board("host")
    layer = estimate([acdc_record()], board).layers[0]
    assert layer.bound.endswith("ports")
    peak = acdc_record().macs / (board.compute.units * board.compute.macs_per_cycle["fp32"])
    assert layer.total_cycles > 10 * peak
