"""The agent's package store and target check, without a serial line."""
import hashlib

import pytest

from sedge.errors import SedgeError
from sedge.runtime.agent.job import compare
from sedge.runtime.agent.store import PackageStore
from sedge.runtime.agent.validate import arch_name, check_runs_here

DATA = bytes(range(256)) * 40
SHA = hashlib.sha256(DATA).hexdigest()


def test_upload_resumes_ignores_repeats_and_refuses_gaps(tmp_path):
    store = PackageStore(tmp_path)
    assert store.begin(SHA, len(DATA)) == 0
    assert store.append(SHA, 0, DATA[:1000]) == 1000
    assert store.append(SHA, 0, DATA[:1000]) == 1000  # a repeated chunk is not written twice
    assert store.append(SHA, 5000, DATA[5000:6000]) == 1000  # a gap: the host is told where to resume
    assert PackageStore(tmp_path).begin(SHA, len(DATA)) == 1000  # a new session resumes
    assert store.append(SHA, 1000, DATA[1000:]) == len(DATA)
    assert store.finish(SHA).read_bytes() == DATA
    assert store.path(SHA).is_file() and store.begin(SHA, len(DATA)) == len(DATA)


def test_integrity_failure_discards_the_upload(tmp_path):
    store = PackageStore(tmp_path)
    store.begin(SHA, len(DATA))
    store.append(SHA, 0, DATA[:-1] + b"\x00")
    with pytest.raises(SedgeError, match="integrity check failed"):
        store.finish(SHA)
    assert store.begin(SHA, len(DATA)) == 0
    with pytest.raises(SedgeError, match="bad package hash"):
        store.begin("../../etc/passwd", 10)
    with pytest.raises(SedgeError, match="no package"):
        store.path(SHA)


def test_target_check_reads_the_elf_header(tmp_path):
    library = tmp_path / "mod.so"
    library.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(11) + (183).to_bytes(2, "little") + bytes(40))
    check_runs_here({"kind": "llvm", "mtriple": "aarch64-linux-gnu"}, library, machine="aarch64")
    with pytest.raises(SedgeError, match="package built for aarch64, this board is arm"):
        check_runs_here({"kind": "llvm"}, library, machine="armv7l")
    with pytest.raises(SedgeError, match="triple 'x86_64-linux-gnu' does not match its aarch64 library"):
        check_runs_here({"kind": "llvm", "mtriple": "x86_64-linux-gnu"}, library, machine="arm64")
    (tmp_path / "text.so").write_text("not a library")
    with pytest.raises(SedgeError, match="not an ELF shared object"):
        check_runs_here({"kind": "llvm"}, tmp_path / "text.so")
    assert [arch_name(m) for m in ("AMD64", "armv7l", "thumbv7em", "arm64", "riscv64")] == \
        ["x86_64", "arm", "arm", "aarch64", "riscv64"]


def test_compare_reports_errors_and_verdicts():
    import numpy as np

    exp = np.array([1.0, 2.0, -4.0], dtype=np.float32)
    ok = compare([exp + 1e-6], [exp], rtol=1e-4, atol=1e-5)
    assert ok["status"] == "PASS" and ok["outputs"][0]["max_abs_err"] == pytest.approx(1e-6, rel=0.1)
    bad = compare([exp * 1.01], [exp], rtol=1e-4, atol=1e-5)
    assert bad["status"] == "FAIL" and bad["outputs"][0]["max_rel_err"] == pytest.approx(0.01, rel=1e-3)
    assert compare([exp[:2]], [exp], 1e-4, 1e-5)["outputs"][0]["reason"] == "shape [2] != [3]"
    assert compare([exp, exp], [exp], 1e-4, 1e-5)["status"] == "FAIL"
