"""Benchmark training from an image folder (issue 14).

1. Throughput: images/s of one training epoch on a folder of synthetic JPEGs, the
   harness (`cnndsl.train`: its streaming data, its training step) against a plain
   DataLoader loop written the way the seed notes write it (a Dataset that opens
   each file with Pillow and applies ToTensor + Normalize, `DataLoader(...,
   shuffle=True, num_workers=2)`, `.to(device)`, zero_grad/backward/step); same
   model, batch and optimizer; epochs alternate in one process.
2. `--big N`: one epoch of `cnndsl train` on a folder of N small JPEGs (made once
   under /tmp, never in the repository); the peak resident memory of the whole
   process tree (trainer and loader workers, summed, sampled from /proc) and of
   the trainer alone (getrusage).

Run:  python benchmarks/bench_train_folder.py [--images 2000] [--batch 64] [--rounds 3]
      python benchmarks/bench_train_folder.py --big 100000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cnndsl  # noqa: E402
from cnndsl.train import spec as spec_facts  # noqa: E402
from cnndsl.train.data import default_workers, open_data  # noqa: E402
from cnndsl.train.loop import Trainer, train_epoch  # noqa: E402
from cnndsl.train.options import Settings  # noqa: E402

SPEC = ROOT / "specs" / "lenet.cnn"          # input 3x32x32
CLASSES = 10
SMALL = "model Small\ninput 3x32x32\nconv 8 k3 s2 -> relu -> maxpool 2 -> fc 10\n"


def make_folder(root: Path, n: int, size: int = 32) -> Path:
    """n JPEGs in CLASSES class folders; a `.done` marker lets a later run reuse them."""
    if (root / ".done").exists():
        return root
    rng = np.random.default_rng(0)
    for i in range(n):
        label = i % CLASSES
        folder = root / f"class{label}"
        if i < CLASSES:
            folder.mkdir(parents=True, exist_ok=True)
        image = rng.integers(0, 120, (size, size, 3), dtype=np.uint8)
        image[:, label * 3: label * 3 + 3] = 240
        Image.fromarray(image).save(folder / f"{i:06d}.jpg", quality=90)
    (root / ".done").touch()
    return root


# ---- the seed notes' loop ---------------------------------------------------------------------

class NotesDataset(torch.utils.data.Dataset):
    """As the notes write a Dataset: files and labels, a transform per sample."""

    def __init__(self, files, labels, transform):
        super().__init__()
        self.files, self.labels, self.transform = files, labels, transform

    def __getitem__(self, idx):
        img = Image.open(self.files[idx]).convert("RGB")
        img = self.transform(img)
        return img, self.labels[idx]

    def __len__(self):
        return len(self.files)


def notes_transform(img):
    """transforms.ToTensor() then Normalize((0.5,)*3, (0.5,)*3), written out."""
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1).float().div(255)
    return (x - 0.5) / 0.5


def notes_epoch(model, opt, loader, device) -> int:
    seen = 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        opt.zero_grad()
        loss = F.cross_entropy(model(inputs), labels)
        loss.backward()
        opt.step()
        seen += len(labels)
    return seen


# ---- the harness --------------------------------------------------------------------------------

def harness(folder: Path, batch: int, device: torch.device):
    """The harness's own data and step, as `cnndsl train --data folder` builds them."""
    result = cnndsl.check_file(SPEC)
    facts = spec_facts.facts(result)
    s = Settings(data="folder", data_dir=str(folder), batch=batch, val=0.01, epochs=1000)
    data = open_data(s, facts, device)
    model = cnndsl.build(SPEC).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, model, opt, torch.amp.GradScaler(device.type, enabled=False),
                      None, s, device)
    return trainer, data


def throughput(args) -> None:
    device = torch.device(args.device)
    folder = make_folder(Path(tempfile.gettempdir()) / f"cnndsl-bench-{args.images}",
                         args.images)
    trainer, data = harness(folder, args.batch, device)
    files = sorted(str(p) for p in folder.rglob("*.jpg"))
    labels = [int(Path(f).parent.name[5:]) for f in files]
    loader = torch.utils.data.DataLoader(NotesDataset(files, labels, notes_transform),
                                         batch_size=args.batch, shuffle=True, num_workers=2)
    model = cnndsl.build(SPEC).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = {"harness": 0.0, "notes": 0.0}
    counts = {"harness": 0, "notes": 0}
    for epoch in range(1, args.rounds + 1):
        start = time.perf_counter()
        row = train_epoch(trainer, data, epoch)
        times["harness"] += time.perf_counter() - start
        counts["harness"] += round(row["samples_per_s"] * row["seconds"])
        start = time.perf_counter()
        counts["notes"] += notes_epoch(model, opt, loader, device)
        times["notes"] += time.perf_counter() - start
    ours, theirs = (counts[k] / times[k] for k in ("harness", "notes"))
    print(f"{len(files):,} JPEGs 32x32, lenet, batch {args.batch}, {args.device}: harness "
          f"{ours:,.0f} images/s ({data.source.workers} workers), seed-notes DataLoader loop "
          f"{theirs:,.0f} images/s (2 workers); ratio {ours / theirs:.2f}x")


# ---- a large folder: memory -------------------------------------------------------------------

def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, now."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def big(args) -> None:
    import resource

    folder = Path(tempfile.gettempdir()) / f"cnndsl-bench-{args.big}"
    start = time.perf_counter()
    make_folder(folder, args.big)
    made = time.perf_counter() - start
    size = sum(f.stat().st_size for f in folder.rglob("*.jpg"))
    with tempfile.TemporaryDirectory() as out:
        spec = Path(out) / "small.cnn"      # memory is about the data: a small, quick net
        spec.write_text(SMALL)
        command = [sys.executable, "-m", "cnndsl", "train", str(spec), "--data", "folder",
                   "--data-dir", str(folder), "--epochs", "1", "--batch", str(args.batch),
                   "--out", f"{out}/run", "--progress", "plain"]
        proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        peak, start = 0, time.perf_counter()
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.2)
        wall = time.perf_counter() - start
        err = proc.stderr.read()
        if proc.returncode:
            raise SystemExit(err)
    trainer_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(f"{args.big:,} JPEGs 32x32 ({size / 2**20:,.0f} MiB on disk, made in {made:.0f} s): "
          f"one epoch of `cnndsl train` in {wall:.0f} s; peak RSS {peak / 2**20:,.0f} MiB for "
          f"the trainer and its loader workers together ({default_workers()} per loader), "
          f"{trainer_peak / 2**20:,.0f} MiB for the largest process alone")
    print(err.strip().splitlines()[-2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big", type=int, metavar="N", help="measure memory on N images")
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.big:
        big(args)
    else:
        throughput(args)
    os._exit(0)        # skip tearing down persistent loader workers one by one


if __name__ == "__main__":
    main()
