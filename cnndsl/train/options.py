"""Training settings: flags > the spec's `train { }` section > built-in defaults."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field

from cnndsl.training import DATASETS, LOSSES, OPTIMIZERS, TrainConfig

BUILT_IN = {"data": "digits", "epochs": 10, "batch": 32, "optimizer": "adam", "loss":
            "crossentropy"}
DEFAULT_LR = {"sgd": 0.01, "adam": 1e-3, "adamw": 1e-3}


@dataclass
class Settings:
    """Every resolved setting of a run; written to `config.json`."""

    data: str = "digits"
    data_path: str | None = None
    data_dir: str = "data"
    download: bool = False
    epochs: int = 10
    batch: int = 32
    optimizer: str = "adam"
    lr: float = 1e-3
    optimizer_args: dict[str, float] = field(default_factory=dict)
    loss: str = "crossentropy"
    device: str = "auto"
    amp: bool | None = None
    seed: int = 0
    out: str | None = None
    resume: bool = False
    workers: int = 0
    progress: str = "auto"

    def to_json(self) -> dict:
        return asdict(self)


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="digits (built in) | mnist | fashion-mnist | cifar10 | "
                                  "folder (with --data-dir PATH)")
    p.add_argument("--data-dir", help="where dataset files are read from (default: ./data)")
    p.add_argument("--download", action="store_true",
                   help="fetch mnist/fashion-mnist/cifar10 with torchvision if missing")
    p.add_argument("--epochs", type=_positive_int)
    p.add_argument("--batch", type=_positive_int, help="samples per step (all processes)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS))
    p.add_argument("--lr", type=_positive_float, help="learning rate")
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--nesterov", action="store_true", default=None)
    p.add_argument("--loss", choices=LOSSES)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="mixed precision (default: on for CUDA, off elsewhere)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="run folder (default: runs/<model>-<n>/)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out (default: the latest run) from last.pt")
    p.add_argument("--workers", type=int, default=0,
                   help="threads decoding an image folder's files (default 0: this thread); "
                        "the other datasets load from arrays and need none")
    p.add_argument("--progress", choices=("auto", "bar", "plain"), default="auto")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def resolve_settings(args: argparse.Namespace, spec: TrainConfig) -> Settings:
    """Flags win over the spec's section, which wins over the built-ins."""
    def pick(name: str):
        flag = getattr(args, name, None)
        if flag is not None:
            return flag
        value = getattr(spec, name, None)
        return value if value is not None else BUILT_IN.get(name)

    data = pick("data")
    data = data.replace("_", "-").lower() if data else "digits"
    data = {"fashionmnist": "fashion-mnist"}.get(data, data)
    if data not in DATASETS:
        raise SystemExit(f"error: unknown dataset `{data}` (choose from {', '.join(DATASETS)})")
    optimizer = pick("optimizer")
    options = dict(spec.optimizer_args) if optimizer == spec.optimizer else {}
    for name in ("momentum", "weight_decay", "nesterov"):
        value = getattr(args, name, None)
        if value is not None:
            options[name] = float(value)
    lr = args.lr if args.lr is not None else spec.lr if spec.lr is not None and \
        (spec.optimizer in (None, optimizer)) else DEFAULT_LR[optimizer]
    data_path = spec.data_path if data == "folder" and args.data is None else None
    return Settings(
        data=data, data_path=data_path, data_dir=args.data_dir or data_path or "data",
        download=args.download, epochs=pick("epochs"), batch=pick("batch"),
        optimizer=optimizer, lr=float(lr), optimizer_args=options, loss=pick("loss"),
        device=args.device, amp=args.amp, seed=args.seed, out=args.out, resume=args.resume,
        workers=args.workers, progress=args.progress)
