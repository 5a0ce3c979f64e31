"""Atomic file writes: a crash leaves the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path


def atomic_save(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)``, fsync, rename over ``path``, fsync the folder: a crash leaves the
    old file or the new one, never a torn one. The temporary name is the writer's own
    (process and thread), so two writers of one file never rename each other's."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    write(tmp)
    os.chmod(tmp, 0o666 & ~_umask())  # a writer may create it private (safetensors: 0600)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@functools.cache
def _umask() -> int:
    """The process's umask, read without changing it (os.umask would, for every thread)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_save(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def cache_dir() -> Path:
    """anrc's cache: ``$ANRC_CACHE``, or ``~/.cache/anrc`` (teachers' predictions,
    assembled pretrained bodies)."""
    return Path(os.environ.get("ANRC_CACHE") or Path.home() / ".cache" / "anrc")
