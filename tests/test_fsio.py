"""Atomic writes: the new file replaces the old whole, with the mode any new file of the
process gets (a writer that creates its file private, as safetensors does, included)."""

import os

import torch
from safetensors.torch import save_file

from anrc.fsio import atomic_save, atomic_write_text


def test_replaces_whole_and_leaves_no_temporary(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "old")
    atomic_write_text(p, "new")
    assert p.read_text() == "new" and [q.name for q in tmp_path.iterdir()] == ["a.txt"]


def test_a_private_writer_still_gives_the_usual_mode(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what any new file of this process gets
    p = tmp_path / "model.safetensors"

    def private(tmp):
        save_file({"w": torch.zeros(2)}, str(tmp))
        os.chmod(tmp, 0o600)

    atomic_save(p, private)
    assert p.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
