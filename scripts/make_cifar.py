"""Convert truncated copies of CIFAR-10's python batches into the small data set imgai ships (cifar10-5k).

Run once: python scripts/make_cifar.py IPWC/data/cifar-10-batches-py/data_batch_{1,2,3,4,5}
The public repository github.com/zhi-fangZhang/IPWC holds copies of the official `data_batch_1..5` that were
cut at 2,883,584 bytes: each still holds all 10,000 labels, but only the first ~930 whole images of its
30,720,000-byte pixel block. This script keeps exactly the images that are complete, with their labels.

The batches are Python-2 pickles. They are never unpickled (unpickling a downloaded file runs whatever it
says): `read_batch` walks the opcodes of the one layout these files have, a dict holding b'labels' (a list
of small ints) and b'data' (a numpy uint8 array of shape (10000, 3072) whose bytes follow a BINSTRING
opcode), executes nothing, and refuses any other opcode. Each 3,072-byte row is a 32x32 red plane, then
green, then blue, row-major.

The output, imgai/assets/cifar10-5k.npz, holds uint8 images (N, 3, 32, 32), int64 labels and a fixed
train/validation split: 50 images per class chosen with a fixed seed, so every run and every benchmark scores
on the same 500 unseen images. Both splits are stored in shuffled order. Data batches only: CIFAR-10's
test_batch is not used.
"""
import struct
import sys
from pathlib import Path

import numpy as np

VAL_PER_CLASS = 50  # about 11% held out: 500 validation images, the rest for training
SEED = 20261130
ROW = 3 * 32 * 32   # bytes per image
CLASSES = 10


class LayoutError(ValueError):
    """The file is not a CIFAR-10 python batch in the layout read here."""


# opcode -> argument reader: returns (value, next position). Only what a CIFAR-10 batch (pickle protocol 2,
# written by Python 2) uses; anything else is refused rather than guessed at.
def _u1(b, i): return b[i], i + 1
def _u2(b, i): return struct.unpack_from("<H", b, i)[0], i + 2
def _i4(b, i): return struct.unpack_from("<i", b, i)[0], i + 4
def _u4(b, i): return struct.unpack_from("<I", b, i)[0], i + 4
def _none(b, i): return None, i
def _short_str(b, i): return bytes(b[i + 1:i + 1 + b[i]]), i + 1 + b[i]
def _line_pair(b, i):  # GLOBAL: "module\nname\n"
    j = b.index(b"\n", i)
    k = b.index(b"\n", j + 1)
    return (bytes(b[i:j]), bytes(b[j + 1:k])), k + 1


OPCODES = {
    0x80: ("PROTO", _u1), ord("}"): ("EMPTY_DICT", _none), ord("]"): ("EMPTY_LIST", _none),
    ord("q"): ("BINPUT", _u1), ord("r"): ("LONG_BINPUT", _u4), ord("("): ("MARK", _none),
    ord("U"): ("SHORT_BINSTRING", _short_str), ord("K"): ("BININT1", _u1), ord("M"): ("BININT2", _u2),
    ord("J"): ("BININT", _i4), ord("e"): ("APPENDS", _none), ord("a"): ("APPEND", _none),
    ord("c"): ("GLOBAL", _line_pair), 0x85: ("TUPLE1", _none), 0x86: ("TUPLE2", _none),
    0x87: ("TUPLE3", _none), ord("t"): ("TUPLE", _none), ord("R"): ("REDUCE", _none),
    ord("b"): ("BUILD", _none), ord("N"): ("NONE", _none), 0x88: ("NEWTRUE", _none),
    0x89: ("NEWFALSE", _none), ord("s"): ("SETITEM", _none), ord("u"): ("SETITEMS", _none),
    ord("."): ("STOP", _none),
    # BINSTRING is read apart: its 4-byte length may promise more bytes than a truncated file has
}


def _ops(b: bytes):
    """Yield (name, value, position) for each opcode up to the first BINSTRING, whose value is
    (declared length, position of its first byte) and which ends the walk: the pixel block is last."""
    i = 0
    while i < len(b):
        op = b[i]
        if op == ord("T"):
            n, start = _i4(b, i + 1)
            yield "BINSTRING", (n, start), i
            return
        if op not in OPCODES:
            raise LayoutError(f"unexpected pickle opcode {bytes([op])!r} at byte {i}")
        name, read = OPCODES[op]
        try:
            value, i_next = read(b, i + 1)
        except (struct.error, IndexError, ValueError):
            raise LayoutError(f"file ends inside the {name} opcode at byte {i}") from None
        yield name, value, i
        if name == "STOP":
            return
        i = i_next


def _find(ops, name, value, start=0) -> int:
    for k in range(start, len(ops)):
        if ops[k][0] == name and ops[k][1] == value:
            return k
    raise LayoutError(f"no {value!r} entry: not a CIFAR-10 python batch")


def read_batch(raw: bytes):
    """(labels int64 (10000,), images uint8 (n, 3, 32, 32)) of one batch: all labels, the n complete rows."""
    if raw[:2] != b"\x80\x02":
        raise LayoutError("not a protocol-2 pickle: not a CIFAR-10 python batch")
    ops = list(_ops(raw))
    at_labels = _find(ops, "SHORT_BINSTRING", b"labels")
    at_data = _find(ops, "SHORT_BINSTRING", b"data", at_labels)
    labels = []
    for name, value, pos in ops[at_labels + 1:at_data]:
        if name in ("BININT1", "BININT2", "BININT"):
            labels.append(value)
        elif name not in ("EMPTY_LIST", "MARK", "APPENDS", "APPEND", "BINPUT", "LONG_BINPUT"):
            raise LayoutError(f"unexpected {name} at byte {pos} in the labels list")
    if not labels or min(labels) < 0 or max(labels) >= CLASSES:
        raise LayoutError(f"labels must be 0..{CLASSES - 1}")

    # numpy's array pickle: _reconstruct(ndarray, (0,), b'b') then BUILD with the state tuple
    # (version, shape, dtype('u1'), fortran_order, pixel bytes)
    header = [(n, v) for n, v, _ in ops[at_data + 1:] if n not in ("BINPUT", "LONG_BINPUT")]
    globals_ = [v for n, v in header if n == "GLOBAL"]
    if globals_ != [(b"numpy.core.multiarray", b"_reconstruct"), (b"numpy", b"ndarray"), (b"numpy", b"dtype")]:
        raise LayoutError(f"b'data' is not a numpy array (globals {globals_})")
    if ("SHORT_BINSTRING", b"u1") not in header or header[-1][0] != "BINSTRING" or header[-2][0] != "NEWFALSE":
        raise LayoutError("b'data' is not a C-ordered uint8 array")
    first_reduce = next(k for k, (n, _) in enumerate(header) if n == "REDUCE")
    # after REDUCE: MARK, version int, the shape's ints, TUPLE2
    shape_ops = header[first_reduce + 3:]
    shape = tuple(v for n, v in shape_ops[:next(k for k, (n, _) in enumerate(shape_ops) if n.startswith("TUPLE"))])
    if shape != (len(labels), ROW):
        raise LayoutError(f"data has shape {shape}; expected ({len(labels)}, {ROW})")
    declared, start = header[-1][1]
    if declared != shape[0] * ROW:
        raise LayoutError(f"data holds {declared} bytes; its shape says {shape[0] * ROW}")
    n = min(len(raw) - start, declared) // ROW  # whole images only
    images = np.frombuffer(raw, dtype=np.uint8, count=n * ROW, offset=start).reshape(n, 3, 32, 32)
    return np.array(labels, dtype=np.int64), images.copy()


def build(batches: list[bytes]):
    """Images and labels of every complete image in the batches, and the fixed split, as the bundle's arrays."""
    xs, ys = [], []
    for raw in batches:
        labels, images = read_batch(raw)
        xs.append(images)
        ys.append(labels[:len(images)])
    images, labels = np.concatenate(xs), np.concatenate(ys)
    rng = np.random.default_rng(SEED)
    is_val = np.zeros(len(labels), dtype=bool)
    for c in range(CLASSES):
        rows = np.flatnonzero(labels == c)
        if len(rows) <= VAL_PER_CLASS:
            raise LayoutError(f"only {len(rows)} images of class {c}: too few to hold {VAL_PER_CLASS} out")
        is_val[rng.choice(rows, VAL_PER_CLASS, replace=False)] = True
    # shuffled once, so that any prefix (a quick test, a preview) holds every class
    train, val = rng.permutation(np.flatnonzero(~is_val)), rng.permutation(np.flatnonzero(is_val))
    return {"train_x": images[train], "train_y": labels[train], "val_x": images[val], "val_y": labels[val]}


def main(paths, out=None):
    arrays = build([Path(p).read_bytes() for p in paths])
    out = Path(out) if out else Path(__file__).resolve().parent.parent / "imgai" / "assets" / "cifar10-5k.npz"
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB): {len(arrays['train_y'])} train, "
          f"{len(arrays['val_y'])} val")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python scripts/make_cifar.py data_batch_1 [data_batch_2 ...]")
    main(sys.argv[1:])
