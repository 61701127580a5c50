"""`sedge boards list|show` end to end."""
from conftest import run_cli


def sedge(*args):
    return run_cli(*args, timeout=300)


def test_list_names_every_board_with_its_description():
    done = sedge("boards", "list")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert {"host", "raspberry-pi-4", "jetson-orin-nano", "zcu104", "cortex-m7", "eyeriss-like"} <= set(names)


def test_show_prints_compute_memories_and_energies():
    done = sedge("boards", "show", "eyeriss-like")
    assert done.returncode == 0
    assert "168 units at 200 MHz" in done.stdout and "GLB: 110,592 bytes" in done.stdout
    assert "fp16: 1 MACs and 1 adds per cycle per unit; 0.8 pJ per multiply" in done.stdout


def test_show_a_bad_board_file_is_one_line_and_exit_4(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('inherit = "zcu104"\n[memory.dram]\nbandwidth_gbps = -1\n')
    done = sedge("boards", "show", str(path))
    assert done.returncode == 4 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "memory.dram.bandwidth_gbps is -1; allowed: a number > 0" in done.stderr
