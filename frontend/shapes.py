"""Parsing tvmc's `--input-shapes "name:[1,3,224,224] other:[1,10]"` strings.

Every form tvmc's parser took: entries separated by spaces or commas ("a:[3,10],b:[3,4]"),
spaces after the colon and inside the brackets ("input.1: [3, 10]"), and names holding
colons, dots and slashes ("input:0", "onnx::Conv_0", "model/x"); a name ends at the last
colon before its '['.
"""
import re

from sedge.errors import SedgeError

_ENTRY = re.compile(r"\s*(?P<name>[^\s\[\],]+?)\s*:\s*\[(?P<dims>[^\]]*)\]\s*(?:,\s*)?")
_EXPECTED = ("expected 'name:[d1,d2,...]' entries separated by spaces or commas, e.g. "
             "'input:[1,3,224,224] mask:[1,10]'")


def parse_input_shapes(text: str) -> dict[str, list[int]]:
    """'input:[1,3,224,224] mask:[1,10]' -> {'input': [1, 3, 224, 224], 'mask': [1, 10]};
    also 'a:[3,10],b:[3,4]' and 'input.1: [3, 10] input:0: [3, 4]'."""
    shapes, pos = {}, 0
    while pos < len(text):
        match = _ENTRY.match(text, pos)
        if not match:
            raise SedgeError(f"bad --input-shapes '{text}' at '{text[pos:].strip()}'; {_EXPECTED}")
        name, dims = match["name"], [d.strip() for d in match["dims"].split(",")]
        if not all(d.isdigit() and int(d) > 0 for d in dims):
            raise SedgeError(f"bad --input-shapes entry '{match.group().strip()}': dimensions must be positive "
                             f"integers; {_EXPECTED}")
        if name in shapes:
            raise SedgeError(f"bad --input-shapes: input '{name}' is given twice")
        shapes[name] = [int(d) for d in dims]
        pos = match.end()
    if not shapes:
        raise SedgeError(f"bad --input-shapes '{text}': no entries; {_EXPECTED}")
    return shapes
