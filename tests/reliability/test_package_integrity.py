"""Package integrity: every member's SHA-256 in metadata.json, checked on load on the host
and by the board agent; links, `..` / absolute names, duplicates and truncation refused;
version 1 packages (before the hashes) still load."""
import tarfile

import numpy as np
import pytest
from reliability_helpers import flip_last_byte, link, make_package, members, rewrite, v1_package, write_tar

from sedge.errors import SedgeError
from sedge.files import sha256_file
from sedge.runtime.agent.server import Agent
from sedge.runtime.package import open_package


@pytest.fixture()
def package(tmp_path):
    return make_package(tmp_path / "src")


def test_hashes_of_every_member_are_recorded_and_checked(package):
    loaded = open_package(package)
    stored = members(package)
    assert sorted(loaded.metadata.members) == ["mod.so", "params.npz"]
    import hashlib
    for name, digest in loaded.metadata.members.items():
        assert hashlib.sha256(stored[name]).hexdigest() == digest
    assert loaded.metadata.format_version == 2


def _refused(path, *fragments):
    with pytest.raises(SedgeError) as caught:
        open_package(path)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.mark.parametrize("member", ["mod.so", "params.npz"])
def test_a_tampered_member_is_refused(package, tmp_path, member):
    bad = rewrite(package, tmp_path / "bad.tar", change=lambda n, d: flip_last_byte(d) if n == member else d)
    _refused(bad, "is damaged or was altered", f"{member} has SHA-256", "metadata.json records")


def test_a_truncated_package_is_refused(package, tmp_path):
    data = package.read_bytes()
    for cut in (100, 600, len(data) // 2, len(data) - 2000):
        (tmp_path / "cut.tar").write_bytes(data[:cut])
        message = _refused(tmp_path / "cut.tar")
        assert "truncated" in message or "not a tar file" in message or "it must hold" in message, message


def test_a_package_missing_a_member_is_refused(package, tmp_path):
    _refused(rewrite(package, tmp_path / "a.tar", drop=("params.npz",)), "it must hold metadata.json, params.npz")
    _refused(rewrite(package, tmp_path / "b.tar", drop=("mod.so",)), "one of mod.so, mod.tar")


def test_an_unlisted_member_is_refused(package, tmp_path):
    bad = rewrite(package, tmp_path / "bad.tar", meta_change=lambda m: m["members"].pop("params.npz"))
    _refused(bad, "metadata.json lists members ['mod.so'], the tar holds ['mod.so', 'params.npz']")


def test_a_version_2_package_without_hashes_is_refused(package, tmp_path):
    bad = rewrite(package, tmp_path / "bad.tar", meta_change=lambda m: m.pop("members"))
    _refused(bad, "lacks the members' SHA-256 hashes")


@pytest.mark.parametrize("extra, fragment", [
    (link("mod.so", "/etc/passwd"), "member mod.so is a link"),
    (link("mod.so", "metadata.json", hard=True), "member mod.so is a link"),
    (("../escape.so", b"x"), "unexpected member '../escape.so'"),
    (("/tmp/absolute.so", b"x"), "unexpected member '/tmp/absolute.so'"),
    (("sub/mod.so", b"x"), "unexpected member 'sub/mod.so'"),
    (link("../../outside", "/etc/passwd"), "unexpected member '../../outside'"),
])
def test_members_that_escape_or_are_not_files_are_refused(package, tmp_path, extra, fragment):
    entries = [(n, d) for n, d in members(package).items() if n != "mod.so" or isinstance(extra, tuple)]
    write_tar(tmp_path / "bad.tar", entries + [extra])
    _refused(tmp_path / "bad.tar", fragment)
    assert not (tmp_path / "escape.so").exists() and not (tmp_path.parent / "escape.so").exists()


def test_a_directory_member_and_a_duplicate_are_refused(package, tmp_path):
    directory = tarfile.TarInfo("mod.so")
    directory.type = tarfile.DIRTYPE
    entries = [(n, d) for n, d in members(package).items() if n != "mod.so"]
    _refused(write_tar(tmp_path / "dir.tar", entries + [directory]), "member mod.so is not a regular file")
    twice = list(members(package).items()) + [("params.npz", b"again")]
    _refused(write_tar(tmp_path / "dup.tar", twice), "member params.npz appears twice")


def test_both_library_kinds_at_once_are_refused(package, tmp_path):
    _refused(rewrite(package, tmp_path / "bad.tar", add=[("mod.tar", b"x")]), "one of mod.so, mod.tar")


def test_damaged_weights_are_one_line(package, tmp_path):
    """In a version 1 package nothing catches it before numpy: still one line."""
    old = v1_package(package, tmp_path / "v1.tar")
    bad = rewrite(old, tmp_path / "bad.tar", change=lambda n, d: d[:40] if n == "params.npz" else d)
    _refused(bad, "params.npz is not a readable weights archive")


def test_version_1_packages_still_load(package, tmp_path):
    old = open_package(v1_package(package, tmp_path / "v1.tar"))
    assert old.metadata.format_version == 1 and old.metadata.members == {}
    np.testing.assert_array_equal(old.params[0], np.arange(8, dtype=np.float32).reshape(4, 2))


class _Session:
    def log(self, text):
        pass


def _upload(agent, path):
    data = path.read_bytes()
    sha = sha256_file(path)
    assert agent.store.begin(sha, len(data)) == 0
    assert agent.store.append(sha, 0, data) == len(data)
    return agent._upload_end({"sha256": sha}), sha


def test_the_agent_refuses_a_tampered_package_and_keeps_nothing(package, tmp_path):
    """The upload's own SHA-256 matches (the host hashed the tampered file): the member hashes catch it."""
    agent = Agent(tmp_path / "agent")
    agent.session = _Session()
    good, _ = _upload(agent, package)
    assert good["sha256"] == sha256_file(package)
    bad = rewrite(package, tmp_path / "bad.tar", change=lambda n, d: flip_last_byte(d) if n == "params.npz" else d)
    with pytest.raises(SedgeError, match="is damaged or was altered: params.npz has SHA-256"):
        _upload(agent, bad)
    assert sorted(p.name for p in (tmp_path / "agent" / "packages").iterdir()) == [f"{good['sha256']}.tar"]
