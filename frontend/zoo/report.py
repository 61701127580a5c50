"""`sedge zoo info`: a zoo model's parameters, MACs, adds and per-layer table."""
import dataclasses
from dataclasses import dataclass

from sedge.frontend.zoo import build
from sedge.frontend.zoo.cost import LayerCost, layer_costs, parameter_count


@dataclass
class ZooInfo:
    name: str
    input_shape: list
    num_classes: int
    params: int
    macs: int
    adds: int
    layers: list[LayerCost]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def table(self) -> str:
        rows = [f"{self.name}: input {'x'.join(map(str, self.input_shape))}, {self.num_classes} classes",
                f"parameters {self.params:,}   MACs {self.macs:,}   adds {self.adds:,}", "",
                f"{'layer':<40} {'kind':<18} {'output':<16} {'params':>11} {'MACs':>14} {'adds':>12}"]
        for layer in self.layers:
            shape = "x".join(map(str, layer.output_shape[1:]))
            rows.append(f"{layer.name:<40} {layer.kind:<18} {shape:<16} {layer.params:>11,} {layer.macs:>14,} "
                        f"{layer.adds:>12,}")
        return "\n".join(rows)


def zoo_info(name: str) -> ZooInfo:
    model = build(name)
    spec = model.zoo_spec
    layers = layer_costs(model, spec.input_shape)
    return ZooInfo(spec.name, list(spec.input_shape), spec.num_classes, parameter_count(model),
                   sum(layer.macs for layer in layers), sum(layer.adds for layer in layers), layers)
