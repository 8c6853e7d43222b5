"""A YOLOv3-tiny-like detector in Darknet's layout (`yolov3-tiny.cfg` at half its widths,
4 classes, 3 anchors per scale): one `nn.ModuleList` in cfg order, read by a loop that
routes as Darknet does. Its size-2 stride-1 max pool pads like Darknet's `maxpool_layer`:
cells outside the input never win (here: -inf padding on the bottom and the right).
Spec: specs/yolo_tiny_like.cnn (`pad after=1x1 replicate -> maxpool 2 s1`)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def cbl(inp: int, oup: int, k: int = 3) -> nn.Sequential:
    """Darknet's `[convolutional] batch_normalize=1 activation=leaky`."""
    return nn.Sequential(nn.Conv2d(inp, oup, k, 1, k // 2, bias=False), nn.BatchNorm2d(oup),
                         nn.LeakyReLU(0.1))


class DarknetMaxPool(nn.Module):
    """`[maxpool] size=2 stride=1`: Darknet pads size-1 on the bottom and the right with
    cells that never win the max."""

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=float("-inf")), 2, 1)


class YoloTinyLike(nn.Module):
    def __init__(self, anchors: int = 3, classes: int = 4) -> None:
        super().__init__()
        out = anchors * (5 + classes)
        pool = nn.MaxPool2d(2, 2)
        self.layers = nn.ModuleList([
            cbl(3, 8), pool, cbl(8, 16), pool, cbl(16, 32), pool, cbl(32, 64), pool,
            cbl(64, 128),                       # 8: the stride-16 map the second head reads
            pool, cbl(128, 256), DarknetMaxPool(), cbl(256, 512),
            cbl(512, 128, k=1),                 # 13: the neck
            cbl(128, 256), nn.Conv2d(256, out, 1),      # 14, 15: [yolo] 1
            cbl(128, 64, k=1), nn.Upsample(scale_factor=2),  # 16, 17 after `route -4`
            cbl(64 + 128, 128), nn.Conv2d(128, out, 1),  # 18, 19 after `route -1, 8`: [yolo] 2
        ])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        saved: list[Tensor] = []
        for layer in self.layers[:14]:
            x = layer(x)
            saved.append(x)
        neck, skip = saved[13], saved[8]
        head1 = self.layers[15](self.layers[14](neck))
        y = self.layers[17](self.layers[16](neck))
        y = torch.cat([y, skip], dim=1)
        head2 = self.layers[19](self.layers[18](y))
        return head1, head2
