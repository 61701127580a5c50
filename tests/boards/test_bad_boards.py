"""Bad board files fail with one line that names the field and what is allowed."""
import pytest

from sedge.boards import load_board
from sedge.errors import SedgeError

GOOD = """
description = "test board"
kind = "mcu"
[compute]
units = 1
clock_hz = 1e8
macs_per_cycle = { int8 = 1, fp16 = 1, fp32 = 1 }
adds_per_cycle = { int8 = 1, fp16 = 1, fp32 = 1 }
target = "c"
[[memory.sram]]
name = "SRAM"
size_bytes = 65536
bandwidth_gbps = 1
read_pj_per_byte = 5
write_pj_per_byte = 5
[memory.dram]
name = "DRAM"
size_bytes = 1048576
bandwidth_gbps = 0.1
read_pj_per_byte = 100
write_pj_per_byte = 100
[energy]
node_nm = 40
[transport]
kind = "serial"
baud = 115200
"""


def fails(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SedgeError) as caught:
        load_board(str(path))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_good_file_loads(tmp_path):
    (tmp_path / "good.toml").write_text(GOOD)
    assert load_board(str(tmp_path / "good.toml")).sram[0].size_bytes == 65536


def test_missing_field(tmp_path):
    message = fails(tmp_path, GOOD.replace("clock_hz = 1e8\n", ""))
    assert "missing field compute.clock_hz" in message and "required fields here" in message


def test_negative_size(tmp_path):
    message = fails(tmp_path, GOOD.replace("size_bytes = 65536", "size_bytes = -5"))
    assert "memory.sram[0].size_bytes is -5" in message and "allowed: a number > 0" in message


def test_unknown_unit(tmp_path):
    message = fails(tmp_path, GOOD.replace("clock_hz = 1e8", "clock_mhz = 100"))
    assert "unknown unit in field compute.clock_mhz" in message and "allowed: clock_hz" in message


def test_unknown_field(tmp_path):
    message = fails(tmp_path, GOOD.replace('kind = "mcu"', 'kind = "mcu"\ncolour = "red"'))
    assert "unknown field colour" in message and "allowed fields here" in message


def test_bad_enum(tmp_path):
    message = fails(tmp_path, GOOD.replace('kind = "mcu"', 'kind = "toaster"'))
    assert "field kind is 'toaster'" in message and "cpu, gpu, accelerator, mcu" in message


def test_inheritance_cycle(tmp_path):
    (tmp_path / "a.toml").write_text('inherit = "b.toml"\n')
    (tmp_path / "b.toml").write_text('inherit = "a.toml"\n')
    with pytest.raises(SedgeError, match=r"inherit forms a cycle \(a -> b -> a\).*allowed"):
        load_board(str(tmp_path / "a.toml"))


def test_unknown_board_lists_the_available_ones():
    with pytest.raises(SedgeError, match="unknown board 'nope'; available: .*raspberry-pi-4"):
        load_board("nope")


def test_not_toml(tmp_path):
    assert "cannot be read as TOML" in fails(tmp_path, "this is = = not toml")


def test_missing_board_file(tmp_path):
    with pytest.raises(SedgeError, match="board file .*nothere.toml not found"):
        load_board(str(tmp_path / "nothere.toml"))


def test_inherit_of_an_unknown_board_names_the_shipped_ones(tmp_path):
    assert "unknown board 'atari'; available:" in fails(tmp_path, 'inherit = "atari"\n')
