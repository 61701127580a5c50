"""Outputs get the umask's mode (not mkstemp's 0600) and are still written atomically; a
write the machine refuses (full disk, read-only place) is one SedgeError naming the path."""
import errno
import os
import stat

import pytest

from sedge.errors import SedgeError
from sedge.files import atomic_write, atomic_write_bytes


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture()
def umask():
    def set_mask(mask):
        os.umask(mask)
    old = os.umask(0o022)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o027, 0o640)])
def test_output_mode_follows_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    atomic_write_bytes(tmp_path / "out.bin", b"data")
    assert _mode(tmp_path / "out.bin") == mode
    # a writer that replaces the temporary file (torch.save, np.savez open their own) too
    atomic_write(tmp_path / "out2.bin", lambda tmp: (os.unlink(tmp), open(tmp, "wb").write(b"x")))
    assert _mode(tmp_path / "out2.bin") == mode


def test_the_output_appears_complete_with_its_final_mode(tmp_path, umask):
    """Nothing at the destination while writing; afterwards only the output itself."""
    seen = []

    def write(tmp):
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        with open(tmp, "wb") as f:
            f.write(b"a" * 100_000)
    atomic_write(tmp_path / "pkg.tar", write)
    assert seen[0][0].startswith(".pkg.") and seen[0][0].endswith(".partial.tar") and len(seen[0]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg.tar"]
    assert _mode(tmp_path / "pkg.tar") == 0o644


def test_an_existing_output_is_replaced_only_on_success(tmp_path):
    (tmp_path / "out.bin").write_bytes(b"old")

    def fail(tmp):
        open(tmp, "wb").write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device", tmp)

    with pytest.raises(SedgeError, match=r"cannot write '.*out\.bin': No space left on device; free some space"):
        atomic_write(tmp_path / "out.bin", fail)
    assert (tmp_path / "out.bin").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_an_output_under_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SedgeError, match=r"cannot write '.*file/out\.bin': '.*file' is a file, not a directory; "
                                         r"choose an output path"):
        atomic_write_bytes(tmp_path / "file" / "out.bin", b"data")


def test_a_bug_in_the_writer_is_not_disguised(tmp_path):
    """Only the machine's refusals become SedgeErrors; a writer's own bug stays an internal error."""
    with pytest.raises(ZeroDivisionError):
        atomic_write(tmp_path / "out.bin", lambda tmp: 1 / 0)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_writing_leaves_nothing(tmp_path):
    """SIGTERM in the middle of a write exits (143) through the cleanup, as Ctrl-C does."""
    import signal

    def write(tmp):
        open(tmp, "wb").write(b"half")
        os.kill(os.getpid(), signal.SIGTERM)
        open(tmp, "ab").write(b"never")

    with pytest.raises(SystemExit) as caught:
        atomic_write(tmp_path / "pkg.tar", write)
    assert caught.value.code == 143
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
