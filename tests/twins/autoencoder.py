"""A small convolutional autoencoder for 1x28x28 images: a strided-conv encoder down to
a 64x1x1 code, a decoder of transposed convolutions and a nearest upsampling with a
3x3 conv; 210,369 parameters. Spec: specs/conv_autoencoder.cnn."""

from __future__ import annotations

from torch import Tensor, nn


class ConvAutoencoder(nn.Module):
    """1x28x28 -> 16x14x14 -> 32x7x7 -> 64x1x1 (the code) -> 32x7x7 -> 16x14x14 ->
    16x28x28 -> 1x28x28 in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 7),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 7), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))


def conv_autoencoder() -> ConvAutoencoder:
    return ConvAutoencoder()
