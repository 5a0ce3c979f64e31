"""A transformer body too large for one call to a lent GPU machine, carried in parts.

The device tool moves at most 64 MiB a call, and a warm machine keeps the ignored
folders an earlier call carried; all-mpnet-base-v2 is 438 MB in fp32. So:

    pack SRC_DIR DEST_PREFIX BUDGET_MIB [BUDGET_MIB ...]
        here: the body's weights stored fp16 (as scripts/device/stage.sh does for MiniLM;
        loaded into the fp32 model), their bytes split into high and low planes, the
        high plane (sign, exponent, two mantissa bits) lzma-compressed (about 0.7), the
        low plane as is (it does not compress), written as DEST_PREFIX-1/, DEST_PREFIX-2/,
        ... each at most its budget, with the small files of the folder and a manifest
        (sizes and the SHA-256 of the fp16 file) in the first.
    unpack DEST_PREFIX OUT_DIR
        there: the parts joined back into OUT_DIR/model.safetensors, byte for byte the
        fp16 file (checked against the manifest's SHA-256), beside the small files.

Standard library and numpy only on the unpacking side (the device image has both).
"""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil
import sys
from pathlib import Path

import numpy as np

SMALL = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
         "special_tokens_map.json")  # fmt: skip
MIB = 1 << 20


def fp16_file(src: Path) -> bytes:
    """The body's safetensors with every float tensor stored as fp16."""
    import torch
    from safetensors.torch import load_file, save

    state = load_file(str(src / "model.safetensors"))
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    for k, v in half.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise SystemExit(f"body.py: {k} overflows fp16")
    return save(half)


def split_planes(blob: bytes) -> tuple[bytes, bytes, int]:
    """(compressed high plane, low plane, header length): the 8-byte length and JSON
    header go with the high plane; the tensor data is read as little-endian 16-bit
    words (every tensor of the file is a whole number of them)."""
    head = 8 + int.from_bytes(blob[:8], "little")
    words = np.frombuffer(blob[head:], dtype="<u2")
    hi = (words >> 8).astype(np.uint8).tobytes()
    lo = (words & 0xFF).astype(np.uint8).tobytes()
    return lzma.compress(blob[:head] + hi, preset=6), lo, head


def pack(src: Path, prefix: str, budgets: list[int]) -> None:
    blob = fp16_file(src)
    hi, lo, head = split_planes(blob)
    stream = hi + lo
    small = [src / n for n in SMALL if (src / n).is_file()]
    manifest = {
        "sha256": hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
        "header": head,
        "hi": len(hi),
        "parts": [],
    }
    room = [b * MIB for b in budgets]
    room[0] -= sum(p.stat().st_size for p in small) + 4096  # the manifest's own bytes
    at, parts = 0, []
    for i, r in enumerate(room, 1):
        piece = stream[at : at + max(0, r)]
        at += len(piece)
        parts.append((Path(f"{prefix}-{i}"), piece))
        if at >= len(stream):
            break
    if at < len(stream):
        short = (len(stream) - at) / MIB
        raise SystemExit(f"body.py: {short:.1f} MiB more than the budgets hold; add a part")
    for i, (folder, piece) in enumerate(parts, 1):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / f"part-{i}.bin").write_bytes(piece)
        manifest["parts"].append(len(piece))
    for p in small:
        shutil.copy(p, parts[0][0] / p.name)
    (parts[0][0] / "manifest.json").write_text(json.dumps(manifest, indent=1))
    for folder, _ in parts:
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"{folder}: {size / MIB:.1f} MiB")


def unpack(prefix: str, out: Path) -> None:
    first = Path(f"{prefix}-1")
    m = json.loads((first / "manifest.json").read_text())
    chunks = []
    for i, size in enumerate(m["parts"], 1):
        part = Path(f"{prefix}-{i}") / f"part-{i}.bin"
        if not part.is_file() or part.stat().st_size != size:
            raise SystemExit(f"body.py: {part} missing or of the wrong size (carry it first)")
        chunks.append(part.read_bytes())
    stream = b"".join(chunks)
    hi = lzma.decompress(stream[: m["hi"]])
    head, lo = m["header"], np.frombuffer(stream[m["hi"] :], dtype=np.uint8)
    words = (np.frombuffer(hi[head:], dtype=np.uint8).astype("<u2") << 8) | lo
    blob = hi[:head] + words.astype("<u2").tobytes()
    if len(blob) != m["size"] or hashlib.sha256(blob).hexdigest() != m["sha256"]:
        raise SystemExit("body.py: the joined body does not match its manifest's SHA-256")
    out.mkdir(parents=True, exist_ok=True)
    for name in SMALL:
        if (first / name).is_file():
            shutil.copy(first / name, out / name)
    (out / "model.safetensors").write_bytes(blob)
    print(f"{out}/model.safetensors: {len(blob) / MIB:.1f} MiB, SHA-256 checked")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) >= 4 and args[0] == "pack":
        pack(Path(args[1]), args[2], [int(b) for b in args[3:]])
    elif len(args) == 3 and args[0] == "unpack":
        unpack(args[1], Path(args[2]))
    else:
        raise SystemExit(__doc__)
