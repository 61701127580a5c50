"""A small fixed network as plain layer records, one of each operator kind the model knows
(and one it does not), so the hardware models are tested without any model file."""
from sedge.contract import LayerRecord

F32 = 4


def conv(name, c, o, h, k=3, s=1, op="conv2d", **extra):
    ho = h // s
    fields = dict(name=name, op=op, input_shapes=[[1, c, h, h]], output_shape=[1, o, ho, ho],
                  weight_shapes=[[o, c, k, k]], macs=o * c * k * k * ho * ho, adds=o * ho * ho,
                  weight_bytes=F32 * o * c * k * k, input_bytes=F32 * c * h * h,
                  output_bytes=F32 * o * ho * ho)
    fields.update(extra)
    return LayerRecord(**fields)


def csg(name, c, o, h, s0=8, s1=8, k=16):
    """A CSG 3x3 conv: codes n_l x K, generator (s0*s1*9) x K shared as 'csg_generator'."""
    n_codes = -(-c // s1) * -(-o // s0)
    return conv(name, c, o, h, op="csg_conv", weight_shapes=[[n_codes, k]],
                weight_bytes=F32 * n_codes * k, attrs={"dense_weight_bytes": F32 * o * c * 9},
                shared_weights={"csg_generator": F32 * s0 * s1 * 9 * k})


def toy_network():
    return [
        conv("stem", 3, 16, 32),
        LayerRecord(name="sp", op="sum_pool", input_shapes=[[1, 16, 32, 32]], output_shape=[1, 16, 31, 31],
                    adds=2 * 3 * 16 * 31 * 31, input_bytes=F32 * 16 * 32 * 32, output_bytes=F32 * 16 * 31 * 31),
        LayerRecord(name="struct", op="structured_conv", input_shapes=[[1, 16, 31, 31]],
                    output_shape=[1, 32, 30, 30], weight_shapes=[[32, 16, 2, 2]], attrs={"c": 16, "n": 2},
                    macs=32 * 16 * 4 * 900, adds=32 * 900, weight_bytes=F32 * 32 * 16 * 4,
                    input_bytes=F32 * 16 * 31 * 31, output_bytes=F32 * 32 * 900),
        csg("csg1", 32, 32, 30),
        csg("csg2", 32, 64, 30, ),
        LayerRecord(name="fft", op="fft_conv", input_shapes=[[1, 64, 30, 30]], output_shape=[1, 64, 30, 30],
                    weight_shapes=[[64, 64, 8, 5]], macs=64 * 64 * 40 * 4 + 2 * 64 * 1500, adds=64 * 900,
                    weight_bytes=F32 * 64 * 64 * 40 * 2, input_bytes=F32 * 64 * 900, output_bytes=F32 * 64 * 900),
        LayerRecord(name="pool", op="pool", input_shapes=[[1, 64, 30, 30]], output_shape=[1, 64, 1, 1],
                    adds=64 * 900, input_bytes=F32 * 64 * 900, output_bytes=F32 * 64),
        LayerRecord(name="flat", op="reshape_like_unknown", input_shapes=[[1, 64, 1, 1]], output_shape=[1, 64],
                    input_bytes=F32 * 64, output_bytes=F32 * 64),
        LayerRecord(name="acdc", op="acdc", input_shapes=[[1, 64]], output_shape=[1, 64], weight_shapes=[[12, 2, 64]],
                    macs=12 * (4 * 64 + 5 * 64 * 6), weight_bytes=F32 * 12 * 2 * 64, input_bytes=F32 * 64,
                    output_bytes=F32 * 64),
        LayerRecord(name="fc", op="dense", input_shapes=[[1, 64]], output_shape=[1, 10], weight_shapes=[[10, 64]],
                    macs=640, adds=10, weight_bytes=F32 * 650, input_bytes=F32 * 64, output_bytes=F32 * 10),
    ]
