"""The one atomic write: all or nothing, the mode of a plain open(), no temporary left."""

import os
import stat
from pathlib import Path

import pytest

from mbrlhpo.atomic_file import current_umask, write_atomically


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_a_written_file_has_the_umask_mode_even_if_the_writer_made_it_private(tmp_path, umask_027):
    assert current_umask() == 0o027

    def private(tmp: Path) -> None:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)  # as safetensors may
        os.write(fd, b"new")
        os.close(fd)

    path = write_atomically(tmp_path / "sub" / "f.bin", private)
    assert path.read_bytes() == b"new" and _mode(path) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"par")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, broken)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_an_exported_policy_is_readable_by_others(tmp_path):
    """``mbrlhpo export``'s file (a real agent) is 0644 under the usual umask 022, not 0600."""
    from mbrlhpo.agent import PETSAgent

    old = os.umask(0o022)
    try:
        agent = PETSAgent(
            "cartpole", {"hidden": 8, "depth": 2, "ensemble_size": 2, "particles": 4}, seed=0
        )
        path = agent.export(tmp_path / "policy.safetensors")
        assert _mode(path) == 0o644
        ckpt = tmp_path / "ckpt"
        agent.save(ckpt)
        assert all(_mode(p) & 0o044 == 0o044 for p in ckpt.rglob("*") if p.is_file())
        agent.close()
    finally:
        os.umask(old)
