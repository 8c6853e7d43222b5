"""Small modules PyTorch does not have, written into a generated file only when
its network uses them: they keep the file self-contained (torch only)."""

from __future__ import annotations

HELPERS = {
    "ChannelShuffle": '''class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle: (B, g * n, *) -> (B, n * g, *), channel i * n + j
    moving to j * g + i. A view, a transpose and a flatten, which every exporter takes
    (`nn.ChannelShuffle` fails the TorchScript-based ONNX exporter)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(1, (self.groups, -1)).transpose(1, 2).flatten(1, 2)''',
    "ChannelLayerNorm": '''class ChannelLayerNorm(nn.Module):
    """Layer norm over the channels at each position of a (B, C, *) tensor
    (ConvNeXt's channels-first layer norm)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(1, -1)
        x = nn.functional.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)
        return x.movedim(-1, 1)''',
    "Scale": '''class Scale(nn.Module):
    """A learnable per-channel multiplier (layer scale), initialised to `init`."""

    def __init__(self, channels: int, init: float = 1.0, dims: int = 0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,) + (1,) * dims, init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight''',
    "UpsampleLike": '''class UpsampleLike(nn.Module):
    """Resizes x to the spatial size of another tensor, read at each call
    (`upsample like=@NAME`): `nn.Upsample` with its size taken at run time."""

    def __init__(self, mode: str = "nearest", align_corners: bool | None = None) -> None:
        super().__init__()
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(x, size=like.shape[2:], mode=self.mode,
                                         align_corners=self.align_corners)''',
    "ChannelMean": '''class ChannelMean(nn.Module):
    """The mean over the channels at each position: (B, C, *) -> (B, 1, *)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1, keepdim=True)''',
    "ChannelMax": '''class ChannelMax(nn.Module):
    """The largest channel at each position: (B, C, *) -> (B, 1, *)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=1, keepdim=True)''',
    "DropPath": '''class DropPath(nn.Module):
    """Stochastic depth: while training, zero each sample's input with
    probability `p` and scale the rest by 1 / (1 - p); the identity in eval."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep''',
}
