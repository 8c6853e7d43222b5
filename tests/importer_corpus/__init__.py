"""Plain `torch.nn` modules for `cnndsl import`'s round-trip and CLI tests.

One file per family, each file's docstring naming its source; each file imports only torch,
so `cnndsl import tests/importer_corpus/resnet.py:resnet18` loads it by path. `CORPUS`
lists what the round-trip tests import: name -> `Entry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from . import course_notes, densenet, efficientnet, mobilenetv2, resnet


@dataclass(frozen=True)
class Entry:
    make: Callable[[], nn.Module]
    input: tuple[int, ...]           # one sample's size, no batch
    params: int | None = None        # the published figure, where there is one
    keyed: bool = False              # torchvision's layout
    keys_lost: str = ""              # why the spec cannot keep that layout's keys, if it cannot
    folded: bool = False             # the spec must come out folded (at most 60 lines)
    target: str = ""                 # `file.py:factory` under tests/importer_corpus/


def _tv(make, params, folded=False, size=64, keys_lost=""):
    module = make.__module__.rsplit(".", 1)[-1]
    return Entry(make, (3, size, size), params, keyed=True, keys_lost=keys_lost, folded=folded,
                 target=f"{module}.py:{make.__name__}")


#: LANGUAGE.md "Labels name modules": a repetition numbers its modules 0..N-1, so the dense
#: layers fold into `* N` only without their names; 58 labelled uses would not fit a page,
#: and the issue asks for DenseNet-121 folded to a page
_DENSE = "`denseblock1.denselayer1` cannot be kept where the dense layers fold into `* N`"
#: `Conv2dNormActivation` is an nn.Sequential subclass (keys `features.0.0.weight`): a block's
#: layers are named attributes and a labelled group adds a named level, so no spec numbers a
#: block's own modules
_NUMBERED = "a block's own modules cannot be numbered (`features.0.0.weight`)"


def _notes(name, size):
    return Entry(getattr(course_notes, name), size, target=f"course_notes.py:{name}")


CORPUS: dict[str, Entry] = {
    "resnet18": _tv(resnet.resnet18, 11_689_512),
    "resnet50": _tv(resnet.resnet50, 25_557_032, folded=True),
    "densenet121": _tv(densenet.densenet121, 7_978_856, folded=True, keys_lost=_DENSE),
    "mobilenet_v2": _tv(mobilenetv2.mobilenet_v2, 3_504_872, keys_lost=_NUMBERED),
    "efficientnet_b0": _tv(efficientnet.efficientnet_b0, 5_288_548, keys_lost=_NUMBERED),
    "lecture_cnn": _notes("lecture_cnn", (3, 32, 32)),
    "lenet_sigmoid": _notes("lenet_sigmoid", (1, 28, 28)),
    "mnist_net": _notes("mnist_net", (1, 28, 28)),
    "mnist_net3": _notes("mnist_net3", (1, 28, 28)),
    "inception_net": _notes("inception_net", (1, 28, 28)),
    "residual_net": _notes("residual_net", (1, 28, 28)),
    "cifar10_net": _notes("cifar10_net", (3, 32, 32)),
}
