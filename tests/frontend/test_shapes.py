"""tvmc's --input-shapes syntax."""
import pytest

from sedge.errors import SedgeError
from sedge.frontend.shapes import parse_input_shapes


def test_several_entries_and_odd_names():
    assert parse_input_shapes("input:[1,3,224,224] mask:[1, 10]") == {"input": [1, 3, 224, 224], "mask": [1, 10]}
    assert parse_input_shapes("onnx::Conv_0:[2,3]") == {"onnx::Conv_0": [2, 3]}


@pytest.mark.parametrize("text, message", [
    ("", "no entries"), ("input", "expected 'name:"), ("input:[1,a]", "positive integers"),
    ("input:[1,0]", "positive integers"), ("x:[1] x:[2]", "given twice"), ("x:[1]junk", "at 'junk'"),
])
def test_bad_strings(text, message):
    with pytest.raises(SedgeError, match=message):
        parse_input_shapes(text)
