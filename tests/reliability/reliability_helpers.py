"""Shared by the reliability tests: synthetic packages (no compile needed), tar surgery, and
the check every bad-input case makes of what the user sees."""
from __future__ import annotations

import dataclasses
import io
import json
import sysconfig
import tarfile
from pathlib import Path

import numpy as np

from sedge.contract import LayerRecord, Metadata, TensorSpec
from sedge.runtime.package import write_package


def host_elf() -> bytes:
    """A real shared object of this machine: the agent's architecture check reads its ELF header."""
    return next(Path(sysconfig.get_config_var("DESTSHARED")).glob("_json*.so")).read_bytes()


def metadata(params: int = 1) -> Metadata:
    return Metadata(sedge_version="0", tvm_version="0", target={"kind": "llvm"},
                    inputs=[TensorSpec("x", [1, 4])], outputs=[TensorSpec("output_0", [1, 2])], passes=["P"],
                    layers=[LayerRecord("dense_0", "dense", [[1, 4]], [1, 2], [[4, 2]], macs=8, weight_bytes=32)],
                    params=[TensorSpec(f"w{i}", [4, 2]) for i in range(params)])


def make_package(directory: Path, name: str = "p.tar", library: bytes | None = None) -> Path:
    """A well-formed package (current format) with a host ELF library and one weight."""
    directory.mkdir(parents=True, exist_ok=True)
    lib = directory / "mod.so"
    lib.write_bytes(host_elf() if library is None else library)
    path = write_package(directory / name, lib, [np.arange(8, dtype=np.float32).reshape(4, 2)], metadata())
    lib.unlink()
    return path


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def write_tar(path: Path, entries: list) -> Path:
    """entries: (name, bytes) regular files, or TarInfo objects (links, directories) as they are."""
    with tarfile.open(path, "w") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                name, data = entry
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def link(name: str, target: str, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


def rewrite(path: Path, out: Path, change=None, meta_change=None, drop=(), add=()) -> Path:
    """A copy of package `path` with member bytes changed (change(name, data) -> data), its
    metadata dict changed (meta_change(dict)), members dropped or added."""
    entries = []
    for name, data in members(path).items():
        if name in drop:
            continue
        if name == "metadata.json" and meta_change:
            meta = json.loads(data)
            meta_change(meta)
            data = json.dumps(meta).encode()
        if change:
            data = change(name, data)
        entries.append((name, data))
    return write_tar(out, entries + list(add))


def v1_package(path: Path, out: Path) -> Path:
    """The package as sedge wrote it before member hashes (format version 1)."""
    def meta_change(meta):
        meta.pop("members")
        meta["format_version"] = 1
    return rewrite(path, out, meta_change=meta_change)


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def assert_one_line_error(result, code: int, *fragments: str) -> str:
    """Exit code `code`, exactly one line on stderr holding every fragment, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout[-2000:], result.stderr[-4000:])
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "Warning" not in line]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def replace_meta(**fields):
    def change(meta):
        meta.update(fields)
    return change


__all__ = ["assert_one_line_error", "dataclasses", "flip_last_byte", "host_elf", "link", "make_package", "members",
           "metadata", "replace_meta", "rewrite", "v1_package", "write_tar"]


def slow_onnx(path: Path, layers: int = 60, width: int = 96) -> Path:
    """An MLP deep enough that compiling it takes seconds: time to interrupt it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits, prev = [], [], "x"
    for i in range(layers):
        inits.append(numpy_helper.from_array(rng.standard_normal((width, width)).astype(np.float32) * 0.1, f"w{i}"))
        nodes += [helper.make_node("MatMul", [prev, f"w{i}"], [f"m{i}"]),
                  helper.make_node("Tanh", [f"m{i}"], [f"t{i}"]),
                  helper.make_node("Add", [f"t{i}", prev], [f"a{i}"])]
        prev = f"a{i}"
    graph = helper.make_graph(nodes, "slow", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, width])],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [4, width])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def tiny_onnx(path: Path, dynamic: bool = False) -> Path:
    """relu(x @ w): x is float32[2, 64] (or [N, 64] when dynamic)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32)
    rows = "N" if dynamic else 2
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["out"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, 64])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [rows, 16])], [numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def build_workspace(d: Path) -> Path:
    """Every bad input file the matrix uses, in `d` (built once per module)."""
    import zipfile

    import onnx
    import torch
    from onnx import TensorProto, helper

    data = tiny_onnx(d / "tiny.onnx").read_bytes()
    tiny_onnx(d / "dynamic.onnx", dynamic=True)
    (d / "empty.onnx").write_bytes(b"")
    (d / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (d / "magic.onnx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (d / "empty.pt2").write_bytes(b"")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "a zip, but no torch.export program")
    (d / "zip.pt2").write_bytes(buffer.getvalue())
    torch.export.save(torch.export.export(torch.nn.Linear(4, 2), (torch.rand(1, 4),)), str(d / "linear.pt2"))
    pt2 = (d / "linear.pt2").read_bytes()
    (d / "truncated.pt2").write_bytes(pt2[: len(pt2) // 2])
    (d / "random.pt2").write_bytes(np.random.default_rng(1).bytes(3000))
    graph = helper.make_graph([helper.make_node("Relu", ["nothere"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), d / "dangling.onnx")
    graph = helper.make_graph([helper.make_node("Unique", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), d / "unique.onnx")
    # packages
    good = make_package(d / "pk", "good.tar")
    (d / "random.tar").write_bytes(np.random.default_rng(2).bytes(5000))
    write_tar(d / "foreign.tar", [("mod.so", b"x"), ("mod.json", b"{}"), ("mod.params", b"")])
    raw = good.read_bytes()
    (d / "truncated.tar").write_bytes(raw[: len(raw) - 3000])
    rewrite(good, d / "version.tar", meta_change=replace_meta(format_version=99))
    rewrite(good, d / "missing.tar", drop=("params.npz",))
    write_tar(d / "symlink.tar", [(n, b) for n, b in members(good).items() if n != "mod.so"]
              + [link("mod.so", "/etc/passwd")])
    write_tar(d / "dotdot.tar", list(members(good).items()) + [("../evil.so", b"x")])
    write_tar(d / "absolute.tar", list(members(good).items()) + [("/tmp/evil.so", b"x")])
    rewrite(good, d / "tampered.tar", change=lambda n, b: flip_last_byte(b) if n == "mod.so" else b)
    # run inputs
    np.savez(d / "wrongname.npz", y=np.zeros((2, 64), np.float32))
    np.savez(d / "wrongdtype.npz", x=np.zeros((2, 64), np.float64))
    (d / "notnpz.npz").write_text("hello")
    (d / "afile").write_text("a file where a directory is expected")
    # board files
    (d / "bad.toml").write_text("this = = not toml")
    (d / "negative.toml").write_text('inherit = "raspberry-pi-4"\n[compute]\nclock_hz = -5\n')
    (d / "badtype.toml").write_text('inherit = "raspberry-pi-4"\n[compute]\nunits = "four"\n')
    (d / "infinite.toml").write_text('inherit = "raspberry-pi-4"\n[memory.dram]\nbandwidth_gbps = inf\n')
    (d / "cfg_bad.json").write_text("{nope")
    (d / "cfg_unknown.json").write_text('{"colour": 1}')
    return d


def run_case(case, workspace: Path, cwd: Path, **popen):
    """Run one matrix row as a user would and check everything the matrix promises."""
    import subprocess
    import sys

    argv = [a.replace("{w}", str(workspace)) for a in case.argv]
    result = subprocess.run([str(Path(sys.executable).parent / "sedge"), *argv], capture_output=True, text=True,
                            cwd=cwd, timeout=300, **popen)
    assert_one_line_error(result, case.code, *case.fragments)
    assert_nothing_written(cwd)
    return result


def assert_nothing_written(cwd: Path):
    """No output and no partial file anywhere under the directory the command ran in."""
    left = sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*") if not p.is_dir())
    assert left == [], f"files left behind: {left}"


@dataclasses.dataclass
class Case:
    """One row of the bad-input matrix: argv ({w} is the workspace of bad files), exit code,
    fragments the one stderr line must hold (the problem, and what is allowed)."""

    id: str
    argv: list
    code: int
    fragments: tuple
    marks: tuple = ()

    def param(self):
        import pytest

        return pytest.param(self, id=self.id, marks=self.marks)
