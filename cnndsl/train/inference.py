"""A trained run, used: `cnndsl predict` and `cnndsl evaluate`.

Both work from the run folder alone: `config.json` holds the spec's text (the
model is compiled again from it: data, never code from the folder), the class
names, the normalisation and the preprocessing; `best.pt` holds the weights and
is loaded with `weights_only=True`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from cnndsl.files import show_path
from cnndsl.train import checkpoint, runfolder, spec
from cnndsl.train.folder import FolderError, RunFolder
from cnndsl.train.images import open_image
from cnndsl.train.streams import fit, to_tensor


@dataclass
class Trained:
    """A model ready for inference, with what its run recorded."""

    model: torch.nn.Module
    facts: spec.SpecFacts
    record: dict
    classes: list[str]
    mean: torch.Tensor
    std: torch.Tensor
    device: torch.device

    @property
    def task(self) -> str:
        return self.record["task"]

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 (N, C, H, W) -> normalised float on the device."""
        x = x.to(self.device).float() / 255.0
        return (x - self.mean) / self.std

    def probabilities(self, out: torch.Tensor) -> torch.Tensor:
        if self.facts.last_op == "softmax":
            return out
        if self.facts.last_op == "logsoftmax":
            return out.exp()
        return out.softmax(dim=1)


def load_run(folder: str | Path, device: torch.device, weights: str = "best.pt") -> Trained:
    """The run's model with its best weights, in eval mode."""
    path = Path(folder)
    if not path.is_dir():
        raise FolderError(f"`{show_path(path)}` is not a run folder")
    record = RunFolder(path, False).read_config()
    checked = runfolder.check_record(record, path / "config.json")
    if checked.spec_hash != checkpoint.spec_hash(checked.spec_text):
        raise FolderError(f"`{show_path(path / 'config.json')}` does not hold the spec its run "
                          "was trained from; the run folder is damaged or from an older cnndsl")
    model_cls, facts = _compile_recorded(checked.spec_text, checked.spec, path, device,
                                         record.get("overrides"))
    runfolder.check_against(checked, facts, path / "config.json")
    model = model_cls()
    state = checkpoint.load(path / weights)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise checkpoint.CheckpointError(f"`{show_path(path / weights)}` does not fit the "
                                         f"recorded spec ({str(exc).splitlines()[0][:160]})") \
            from None
    model.to(device).eval()
    norm = checked.normalisation
    view = (1, -1, 1, 1)
    return Trained(model, facts, record, list(checked.classes),
                   torch.tensor(norm.mean, device=device).view(view),
                   torch.tensor(norm.std, device=device).view(view), device)


def _compile_recorded(text: str, name: str, path: Path, device: torch.device,
                      overrides=None):
    """The model class compiled from the spec text a run recorded, with the `--set` and
    `--input` values it recorded, once the memory guard says an instance fits (the record
    may name any spec)."""
    import cnndsl
    from cnndsl import memory
    from cnndsl.backends.pytorch.build import compiled_module
    from cnndsl.files import printable
    from cnndsl.ir.overrides import OverrideError, Overrides

    try:
        given = Overrides.from_json(overrides) or None
    except OverrideError as exc:
        raise FolderError(f"`{show_path(path / 'config.json')}`: {exc}") from None
    result = cnndsl.check(text, name, overrides=given)
    if not result.ok and given:    # a record edited by hand: say which override, and why
        raise FolderError(f"`{show_path(path / 'config.json')}`: its recorded overrides "
                          f"(`{given.command()}`) do not fit its spec: "
                          f"{printable(result.errors[0].message)}")
    if not result.ok:
        raise FolderError(f"the spec recorded in `{show_path(path)}` no longer checks with this "
                          "version of cnndsl")
    facts = spec.facts(result)
    memory.check_fits(params=facts.params, activations=facts.activations, batch=1,
                      training=False, optimizer_states=0, device=device)
    return getattr(compiled_module(result), facts.model), facts


@dataclass(frozen=True)
class Read:
    """How one image file was read: its own size (width, height) and Pillow mode, and
    the model's."""

    size: tuple[int, int]
    mode: str
    model_size: tuple[int, int]
    model_mode: str

    @property
    def changes(self) -> list[str]:
        """What was done to the image, in words (`resized`, `grey→RGB`); none: []."""
        done = ["resized"] if self.size != self.model_size else []
        if self.mode != self.model_mode:
            done.append(_CONVERSIONS.get((self.mode, self.model_mode),
                                         f"{_mode_word(self.mode)}→{_mode_word(self.model_mode)}"))
        return done

    def text(self, arrow: str = "→") -> str:
        """`100x60 L → 32x32 RGB (resized, grey→RGB)`; "" when nothing was changed."""
        changes = self.changes
        if not changes:
            return ""
        (w, h), (mw, mh) = self.size, self.model_size
        said = ", ".join(changes).replace("→", arrow)
        return f"{w}x{h} {self.mode} {arrow} {mw}x{mh} {self.model_mode} ({said})"


#: a Pillow mode changed into the model's, in words
_CONVERSIONS = {("RGBA", "RGB"): "alpha dropped", ("LA", "L"): "alpha dropped",
                ("RGBA", "L"): "RGB→grey, alpha dropped", ("LA", "RGB"): "grey→RGB, alpha dropped",
                ("PA", "RGB"): "palette→RGB, alpha dropped"}
_MODE_WORDS = {"L": "grey", "1": "1-bit", "P": "palette", "I": "32-bit grey",
               "I;16": "16-bit grey", "I;16B": "16-bit grey", "I;16L": "16-bit grey",
               "F": "float grey"}


def _mode_word(mode: str) -> str:
    return _MODE_WORDS.get(mode, mode)


def load_image(trained: Trained, path: str | Path) -> torch.Tensor:
    """One image file, preprocessed as the run's held-out images were (1, C, H, W)."""
    return read_image(trained, path)[0]


def read_image(trained: Trained, path: str | Path) -> tuple[torch.Tensor, Read]:
    """`load_image`, and how the file was read (its size and mode, and the model's)."""
    pre = trained.record["preprocess"]
    height, width = pre["size"]
    seen: dict = {}
    image = open_image(path, pre["mode"], (width, height), seen)
    read = Read(tuple(seen["size"]), seen["mode"], (width, height), pre["mode"])
    return trained.prepare(to_tensor(fit(image, (height, width)))[None]), read


@torch.no_grad()
def top_k(trained: Trained, x: torch.Tensor, k: int) -> list[tuple[str, float]]:
    """The k most likely classes of one preprocessed image, with probabilities."""
    probs = trained.probabilities(trained.model(x).float())[0]
    k = min(k, len(trained.classes), probs.numel())
    values, indices = probs.topk(k)
    return [(_name(trained, int(i)), float(v)) for v, i in zip(values, indices)]


@torch.no_grad()
def segment(trained: Trained, x: torch.Tensor) -> torch.Tensor:
    """The class of every pixel of one preprocessed image, (H, W) int64."""
    return trained.model(x).argmax(1)[0].cpu()


def _name(trained: Trained, index: int) -> str:
    return trained.classes[index] if index < len(trained.classes) else f"output {index}"
