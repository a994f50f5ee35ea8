"""Real small filesystems for the store's bad-input tests: a tiny tmpfs and a read-only one."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def _tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("these tests mount a tiny tmpfs and need root (CI runs as root)")
    mount_point.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB filesystem, so writes hit a genuine ENOSPC."""
    with _tmpfs(tmp_path / "tiny", "640k") as mount_point:  # the schema alone takes a few hundred KiB
        yield mount_point


@pytest.fixture
def remountable_fs(tmp_path: Path) -> Iterator[Callable[[bool], None]]:
    """A small filesystem at ``tmp_path / 'media'`` and a function that flips it read-only."""
    with _tmpfs(tmp_path / "media", "4m") as mount_point:

        def set_read_only(read_only: bool) -> None:
            mode = "ro" if read_only else "rw"
            subprocess.run(["mount", "-o", f"remount,{mode}", str(mount_point)], check=True)

        yield set_read_only
        set_read_only(False)
