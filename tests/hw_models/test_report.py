"""The Vela-style report, the CSV table and the plots."""
import csv

from toy_records import conv, toy_network

from sedge.boards import load_board
from sedge.hw_models import estimate, format_report
from sedge.hw_models.plots import write_plots
from sedge.hw_models.report import COLUMNS, write_csv


def compared():
    return estimate(toy_network(), load_board("zcu104"), model="toy",
                    baseline=[conv("stem", 3, 16, 32), conv("big", 16, 64, 32)], baseline_model="dense")


def test_report_has_the_summary_the_savings_and_one_row_per_layer():
    text = format_report(compared())
    assert "Estimate: toy on board zcu104, fp32, clock 300 MHz" in text
    for line in ("Parameters stored in DRAM", "DRAM traffic per inference", "BRAM     accesses",
                 "Energy per inference", "Against baseline dense", "DRAM traffic"):
        assert line in text
    table = text.split("\n\n")[1].splitlines()
    assert table[0].split()[:3] == ["layer", "op", "mode"] and len(table) == 1 + len(toy_network())


def test_csv_holds_the_same_columns_and_rows(tmp_path):
    path = tmp_path / "layers.csv"
    write_csv(compared(), str(path))
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == [name for name, _, _ in COLUMNS] and len(rows) == len(toy_network())
    assert rows[3]["mode"] == "generate"
    assert [p.name for p in tmp_path.iterdir()] == ["layers.csv"]  # no temporary left behind


def test_plots_are_png_files(tmp_path):
    paths = write_plots(compared(), str(tmp_path / "plots"))
    assert len(paths) == 2
    for path in paths:
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
