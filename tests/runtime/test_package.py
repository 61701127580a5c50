"""The package format: members, metadata round trip, atomic writes, refusal of foreign files."""
import dataclasses
import io
import json
import tarfile

import numpy as np
import pytest

from sedge.contract import FORMAT_NAME, FORMAT_VERSION, LayerRecord, Metadata, TensorSpec
from sedge.errors import SedgeError
from sedge.runtime.package import atomic_write, open_package, write_package


def _metadata(params=1):
    return Metadata(sedge_version="0", tvm_version="0", target={"kind": "llvm"},
                    inputs=[TensorSpec("x", [1, 4])], outputs=[TensorSpec("output_0", [1, 2])], passes=["P"],
                    layers=[LayerRecord("dense_0", "dense", [[1, 4]], [1, 2], [[4, 2]], macs=8, weight_bytes=32)],
                    params=[TensorSpec(f"w{i}", [4, 2]) for i in range(params)])


def test_compiled_package_members_and_metadata(compiled_resnet):
    with tarfile.open(compiled_resnet.path) as tar:
        assert sorted(tar.getnames()) == ["metadata.json", "mod.so", "params.npz"]
        meta = json.load(tar.extractfile("metadata.json"))
    assert meta["format"] == FORMAT_NAME and meta["format_version"] == FORMAT_VERSION
    assert meta["tvm_version"].startswith("0.27")
    assert meta["inputs"] == [{"name": "input", "shape": [1, 3, 32, 32], "dtype": "float32"}]
    assert meta["outputs"][0]["name"] == "output_0" and meta["outputs"][0]["shape"] == [1, 10]
    assert {"LegalizeOps", "FuseOps", "FuseTIR", "LiftTransformParams"} <= set(meta["passes"])
    assert meta["source"]["format"] == "onnx" and len(meta["source"]["sha256"]) == 64
    assert len(compiled_resnet.params) == len(meta["params"])
    convs = [r for r in meta["layers"] if r["op"] == "conv2d"]
    assert len(convs) == 9  # stem, 3 blocks x 2, 2 projection shortcuts


def test_round_trip(tmp_path):
    library = tmp_path / "mod.so"
    library.write_bytes(b"not really a library")
    weights = [np.arange(8, dtype=np.float32).reshape(4, 2)]
    write_package(tmp_path / "p.tar", library, weights, _metadata())
    package = open_package(tmp_path / "p.tar")
    assert dataclasses.replace(package.metadata, members={}) == _metadata()
    assert sorted(package.metadata.members) == ["mod.so", "params.npz"]
    np.testing.assert_array_equal(package.params[0], weights[0])
    assert package.library_path.read_bytes() == b"not really a library"
    assert len(package.sha256) == 64


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.bin"

    def fail(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write(target, fail)
    assert list(tmp_path.iterdir()) == []


def _tar(path, members: dict):
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("members, message", [
    ({"graph.json": b"{}"}, "is not a sedge package: unexpected member 'graph.json'"),
    ({"metadata.json": b"{}", "mod.so": b""}, "is not a sedge package: it must hold"),
    ({"metadata.json": b"{not json", "params.npz": b"", "mod.so": b""}, "is not valid JSON"),
    ({"metadata.json": json.dumps({"format": "tvmc"}).encode(), "params.npz": b"", "mod.so": b""},
     "is not a sedge package's metadata"),
    ({"metadata.json": json.dumps({"format": FORMAT_NAME, "format_version": 99}).encode(), "params.npz": b"",
      "mod.so": b""}, "format version 99"),
])
def test_foreign_or_damaged_packages_are_refused(tmp_path, members, message):
    _tar(tmp_path / "x.tar", members)
    with pytest.raises(SedgeError, match=message):
        open_package(tmp_path / "x.tar")


def test_not_a_tar(tmp_path):
    (tmp_path / "x.tar").write_bytes(b"plain bytes")
    with pytest.raises(SedgeError, match="not a tar file"):
        open_package(tmp_path / "x.tar")
