"""one_line: what a user sees of a library's exception."""
from sedge.errors import one_line


def test_first_or_last_non_empty_line_or_the_type_name():
    err = RuntimeError("\n  Traceback noise\n\n  the cause  \n")
    assert one_line(err) == "Traceback noise"
    assert one_line(err, last=True) == "the cause"
    assert one_line(ValueError("")) == "ValueError"
