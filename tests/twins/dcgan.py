"""The DCGAN generator of the PyTorch tutorial (Radford et al., 2015): a 100-number code
as 100x1x1, four stride-2 transposed convolutions doubling the size, tanh; 3x64x64 out,
3,576,704 parameters (nz 100, ngf 64, nc 3). Spec: specs/dcgan_generator.cnn."""

from __future__ import annotations

from torch import Tensor, nn


def _up(cin: int, cout: int, stride: int, padding: int) -> list[nn.Module]:
    return [nn.ConvTranspose2d(cin, cout, 4, stride, padding, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU(True)]


class Generator(nn.Module):
    """100x1x1 -> 512x4x4 -> 256x8x8 -> 128x16x16 -> 64x32x32 -> 3x64x64."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3):
        super().__init__()
        self.main = nn.Sequential(
            *_up(nz, ngf * 8, 1, 0),
            *_up(ngf * 8, ngf * 4, 2, 1),
            *_up(ngf * 4, ngf * 2, 2, 1),
            *_up(ngf * 2, ngf, 2, 1),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )
        self.apply(_weights_init)

    def forward(self, z: Tensor) -> Tensor:
        return self.main(z)


def _weights_init(m: nn.Module) -> None:
    """The tutorial's initialisation: N(0, 0.02) weights; BN scale N(1, 0.02), shift 0."""
    if isinstance(m, nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def dcgan_generator() -> Generator:
    return Generator(100, 64, 3)
