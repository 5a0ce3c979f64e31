"""A grid's runs in one compressed file beside its report (``OUT/runs.tar.xz``).

The run folders themselves (``OUT/runs/``, weights, logs, checkpoints) stay out of
git; the archive keeps, for every run, what a reader and a re-scorer need: the
resolved ``config.toml``, ``scores.json``, ``metrics.jsonl``, the dev and test
predictions, and each attack's ``summary.json`` and ``report.md``. ``anrc score``
reads it directly (every run's test predictions, or one), and ``anrc experiment NAME
--out OUT --report-only`` unpacks it when ``OUT/runs`` is absent and rewrites the
report from it. The file is deterministic (sorted members, no times or owners), so
an unchanged grid rewrites it byte for byte.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

from anrc.fsio import atomic_save

ARCHIVE = "runs.tar.xz"
#: the files of a run folder the archive keeps (an attack's: ATTACK_FILES)
RUN_FILES = (
    "config.toml", "scores.json", "metrics.jsonl", "test_predictions.txt",
    "dev_predictions.txt", "labels.json", "meta.json", "reused_from.txt",
    "probabilities.jsonl.gz",  # anrc.inference.stored: a run's answers, its weights gone
    "reproduced.json",  # anrc reproduce: the stored answers are a bit-for-bit rerun's
)  # fmt: skip
ATTACK_FILES = ("summary.json", "report.md")


def _kept(path: Path, runs: Path) -> bool:
    parts = path.relative_to(runs).parts
    if "attack" in parts[:-1]:
        return parts[-1] in ATTACK_FILES
    return parts[-1] in RUN_FILES


def pack(out: Path) -> Path | None:
    """Write ``out/runs.tar.xz`` from ``out/runs`` (None when there are no runs)."""
    runs = out / "runs"
    if not runs.is_dir():
        return None
    files = sorted(p for p in runs.rglob("*") if p.is_file() and _kept(p, runs))
    target = out / ARCHIVE

    def write(tmp: Path) -> None:
        with tarfile.open(tmp, "w:xz", preset=9) as tar:
            for path in files:
                data = path.read_bytes()
                info = tarfile.TarInfo(path.relative_to(out).as_posix())
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tar.addfile(info, io.BytesIO(data))

    atomic_save(target, write)  # two workers of one grid may pack it at once
    return target


def unpack(out: Path) -> bool:
    """Extract ``out/runs.tar.xz`` into ``out`` when ``out/runs`` is absent; True if it did."""
    archive = out / ARCHIVE
    if (out / "runs").exists() or not archive.is_file():
        return False
    with tarfile.open(archive, "r:xz") as tar:
        tar.extractall(out, filter="data")
    return True


def restore_run(run_dir: str | Path) -> bool:
    """Extract one run's folder from the archive of the grid that holds it, when the
    folder is absent (a fresh clone keeps a grid's finished runs in ``OUT/runs.tar.xz``
    only): ``OUT/runs/free/seed1`` comes back from ``OUT/runs.tar.xz`` with what the
    archive keeps of it (stored probabilities included, so it can teach). True if it did."""
    run_dir = Path(run_dir)
    if run_dir.exists():
        return False
    for out in run_dir.parents:
        if not (out / ARCHIVE).is_file():
            continue
        prefix = run_dir.relative_to(out).as_posix() + "/"
        with tarfile.open(out / ARCHIVE, "r:xz") as tar:
            wanted = [m for m in tar.getmembers() if m.name.startswith(prefix)]
            tar.extractall(out, members=wanted, filter="data")
        return bool(wanted)
    return False


def members(archive: Path, name: str = "test_predictions.txt") -> Iterator[tuple[str, str]]:
    """(member path, text) of every file called ``name`` in an archive, in order."""
    with tarfile.open(archive, "r:*") as tar:
        for info in tar:
            if info.isfile() and info.name.rsplit("/", 1)[-1] == name:
                yield info.name, tar.extractfile(info).read().decode("utf-8")


def member(archive: Path, name: str) -> str:
    """The text of one member (ValueError naming the archive when it has none such)."""
    with tarfile.open(archive, "r:*") as tar:
        try:
            return tar.extractfile(tar.getmember(name)).read().decode("utf-8")
        except KeyError:
            raise ValueError(f"{archive}: no member {name}") from None
