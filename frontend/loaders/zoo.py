"""`zoo:<name>` -> Model: build the zoo model in PyTorch (seeded random weights), export it with
torch.export and import the program like a `.pt2` file, compressed layers as sedge constructs."""
# registers the compressed layers' torch ops and their ONNX / torch.export converters for every loader
from sedge.frontend import importers  # noqa: F401
from sedge.frontend.model import Model

DEFAULT_SEED = 0


def load(spec: str, input_shapes: dict) -> Model:
    import torch

    from sedge.frontend.loaders.pytorch import _input_specs, from_program
    from sedge.frontend.zoo import build

    name = spec.split(":", 1)[1]
    model = build(name, DEFAULT_SEED)
    shape = next(iter(input_shapes.values()), model.zoo_spec.input_shape)
    program = torch.export.export(model, (torch.zeros(shape),))
    inputs = _input_specs(program, input_shapes)
    mod, params, names = from_program(program, inputs)
    return Model(mod, params, names, inputs, {"format": "zoo", "name": model.zoo_spec.name, "seed": DEFAULT_SEED})


def reference(source: dict, inputs: dict) -> list:
    """The zoo model rebuilt from its name and seed, run by PyTorch in eval mode."""
    import torch

    from sedge.frontend.zoo import build

    model = build(source["name"], source["seed"])
    with torch.no_grad():
        out = model(*[torch.from_numpy(v) for v in inputs.values()])
    return [out.numpy()]
