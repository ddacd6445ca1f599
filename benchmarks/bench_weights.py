"""``shapecalc weights`` on big files: time and memory do not grow with the file.

Builds, in a scratch directory and without any framework, a sparse safetensors file of
``--gb`` GB (a 2 GB file takes no disk: its data is a hole) and a zip ``state_dict`` as
``torch.save`` writes it (``archive/data.pkl`` + ``archive/data/N``; ``--zip-gb`` GB of
real zeros, written once), both holding stacked LSTMs. Then, for each and for a tiny
file of the same kind, a fresh process reads it with ``read_weights`` and reports its
wall time (the median of ``--repeat`` runs) and peak resident memory:

    python benchmarks/bench_weights.py [--gb 2] [--zip-gb 1] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROBE = """
import resource, sys, time
start = time.perf_counter()
from shapecalc.weights.reader import read_weights
result = read_weights(sys.argv[1])
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(result.tensors), len(result.layers))
"""


def lstm_tensors(total_bytes: int) -> list[tuple[str, tuple[int, ...]]]:
    """Stacked ``nn.LSTM`` tensors (float32) adding up to about ``total_bytes``."""
    hidden, layers = 1024, 1
    while 4 * layers * (8 * hidden * hidden + 8 * hidden) < total_bytes:
        layers += 1
    out = []
    for k in range(layers):
        gates = 4 * hidden
        out += [(f"lstm.weight_ih_l{k}", (gates, hidden)), (f"lstm.weight_hh_l{k}", (gates, hidden)),
                (f"lstm.bias_ih_l{k}", (gates,)), (f"lstm.bias_hh_l{k}", (gates,))]  # fmt: skip
    return out


def elements(shape: tuple[int, ...]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def write_safetensors(path: Path, tensors: list[tuple[str, tuple[int, ...]]]) -> None:
    header, offset = {}, 0
    for name, shape in tensors:
        size = 4 * elements(shape)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    with path.open("wb") as handle:
        handle.write(struct.pack("<Q", len(raw)) + raw)
        handle.truncate(8 + len(raw) + offset)  # the data is a hole: no disk, no time


def state_dict_pickle(tensors: list[tuple[str, tuple[int, ...]]]) -> bytes:
    """The ``data.pkl`` ``torch.save`` writes for an OrderedDict of float32 tensors (protocol 2)."""

    def text(value: str) -> bytes:
        raw = value.encode()
        return b"X" + struct.pack("<I", len(raw)) + raw

    def integer(value: int) -> bytes:
        return b"J" + struct.pack("<i", value)

    def ints(values: tuple[int, ...]) -> bytes:
        return b"(" + b"".join(integer(v) for v in values) + b"t"

    out = [b"\x80\x02ccollections\nOrderedDict\n)R("]
    for key, (name, shape) in enumerate(tensors):
        stride = tuple(elements(shape[k + 1 :]) for k in range(len(shape)))
        storage = b"(" + text("storage") + b"ctorch\nFloatStorage\n" + text(str(key)) + text("cpu")
        storage += integer(elements(shape)) + b"tQ"
        out.append(text(name) + b"ctorch._utils\n_rebuild_tensor_v2\n(" + storage + integer(0))
        out.append(ints(shape) + ints(stride) + b"\x89ccollections\nOrderedDict\n)RtR")
    out.append(b"u.")
    return b"".join(out)


def write_torch_zip(path: Path, tensors: list[tuple[str, tuple[int, ...]]]) -> None:
    chunk = bytes(2**24)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr("archive/data.pkl", state_dict_pickle(tensors))
        for key, (_, shape) in enumerate(tensors):
            left = 4 * elements(shape)
            with archive.open(f"archive/data/{key}", "w", force_zip64=True) as entry:
                while left:
                    entry.write(chunk[: min(left, len(chunk))])
                    left -= min(left, len(chunk))
        archive.writestr("archive/version", "3\n")


def probe(path: Path, repeat: int) -> dict[str, object]:
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True
        )
        seconds, rss, tensors, layers = done.stdout.split()
        runs.append((float(seconds), int(rss), int(tensors), int(layers)))
    return {
        "file_bytes": path.stat().st_size,
        "seconds": statistics.median(run[0] for run in runs),
        "peak_rss_kib": max(run[1] for run in runs),
        "tensors": runs[0][2],
        "layers": runs[0][3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gb", type=float, default=2.0, help="size of the sparse safetensors file")
    parser.add_argument("--zip-gb", type=float, default=1.0, help="size of the zip state_dict (real zeros)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_safetensors(root / "big.safetensors", lstm_tensors(int(args.gb * 2**30)))
        write_safetensors(root / "tiny.safetensors", lstm_tensors(1)[:4])
        write_torch_zip(root / "big.pt", lstm_tensors(int(args.zip_gb * 2**30)))
        write_torch_zip(root / "tiny.pt", [("lstm.weight_ih_l0", (8, 2)), ("lstm.weight_hh_l0", (8, 2))])
        for name in ("tiny.safetensors", "big.safetensors", "tiny.pt", "big.pt"):
            report[name] = probe(root / name, args.repeat)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{'file':<18} {'size':>14} {'tensors':>8} {'time':>9} {'peak RSS':>11}")
    for name, row in report.items():
        assert isinstance(row, dict)
        print(f"{name:<18} {row['file_bytes']:>14,} {row['tensors']:>8} {row['seconds'] * 1000:>7.0f} ms "
              f"{row['peak_rss_kib'] / 1024:>8.1f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
