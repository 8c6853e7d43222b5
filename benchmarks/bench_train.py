"""Benchmark `cnndsl train` (issue 4).

1. Accuracy: the seed MNIST net with default settings on the built-in digits,
   15 epochs; best test accuracy and wall time.
2. Throughput: the harness's in-memory data (index batches on the device, adapted
   and normalised there) and its training step, against the seed notes' DataLoader
   loop over the same adapted, normalised tensors (TensorDataset, shuffle=True, same
   model, batch and optimizer), alternating epochs in one process; samples per
   second and the ratio.

Run:  python benchmarks/bench_train.py [--device cpu|cuda] [--epochs 15]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cnndsl  # noqa: E402
from cnndsl.train import spec as spec_facts  # noqa: E402
from cnndsl.train.data import open_data  # noqa: E402
from cnndsl.train.loop import Trainer, train_epoch  # noqa: E402
from cnndsl.train.options import Settings  # noqa: E402

SPEC = ROOT / "specs" / "mnist_net.cnn"


def accuracy_run(epochs: int, device: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cnndsl", "train", str(SPEC), "--epochs",
                        str(epochs), "--out", f"{tmp}/run", "--device", device, "--progress",
                        "plain"], check=True, capture_output=True)
        wall = time.perf_counter() - start
        rows = (Path(tmp) / "run" / "metrics.csv").read_text().splitlines()[1:]
        best = max(float(r.split(",")[4]) for r in rows)
    print(f"mnist_net on digits, defaults, {epochs} epochs: best test accuracy {best:.2%}, "
          f"{wall:.1f} s wall (whole process)")


def _seed_loop(model, opt, loader, device):
    for inputs, target in loader:          # the notes' loop, batch by batch to the device
        inputs, target = inputs.to(device), target.to(device)
        opt.zero_grad()
        loss = F.cross_entropy(model(inputs), target)
        loss.backward()
        opt.step()


def throughput(device: str, batch: int, rounds: int) -> None:
    dev = torch.device(device)
    facts = spec_facts.facts(cnndsl.check_file(SPEC))
    s = Settings(batch=batch, epochs=1000)
    data = open_data(s, facts, dev)
    # the same samples, adapted and normalised once, for the notes' loop
    x_cpu = data.source.finish(data.source.fit(data.source.train_x)).cpu().clone()
    y_cpu = data.source.train_y.cpu()
    loader = DataLoader(TensorDataset(x_cpu, y_cpu), batch_size=batch, shuffle=True)
    models = [cnndsl.build(SPEC).to(dev) for _ in range(2)]
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in models]
    trainer = Trainer(models[0], models[0], opts[0],
                      torch.amp.GradScaler(dev.type, enabled=False), None, s, dev)
    times = {"cnndsl": 0.0, "dataloader": 0.0}
    for epoch in range(1, rounds + 1):
        for name in times:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            if name == "cnndsl":
                train_epoch(trainer, data, epoch)
            else:
                _seed_loop(models[1], opts[1], loader, dev)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            times[name] += time.perf_counter() - start
    samples = rounds * len(y_cpu)
    ours, theirs = samples / times["cnndsl"], samples / times["dataloader"]
    print(f"throughput on {device}, batch {batch}, adam: cnndsl {ours:,.0f} samples/s, "
          f"seed DataLoader loop {theirs:,.0f} samples/s, ratio {ours / theirs:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    accuracy_run(args.epochs, args.device)
    throughput(args.device, args.batch, args.rounds)


if __name__ == "__main__":
    main()
