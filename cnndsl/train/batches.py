"""The order of every epoch, and the seed of every sample's augmentation.

Both are pure functions of (seed, epoch, sample): the same run gives the same
batches with any number of workers, and a resumed run continues exactly where
an uninterrupted one would have gone, without saving any sampler state.
"""

from __future__ import annotations

import torch

MASK64 = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A 63-bit seed from whole numbers (splitmix64 over each part)."""
    state = 0x9E3779B97F4A7C15
    for part in parts:
        state = (state ^ (part & MASK64)) * 0xBF58476D1CE4E5B9 & MASK64
        state = (state ^ (state >> 31)) * 0x94D049BB133111EB & MASK64
        state ^= state >> 29
    return state >> 1


class EpochBatches:
    """A batch sampler: lists of (index, sample seed) for a `DataLoader`, or index
    tensors (`index_batches`) for data already in memory.

    Training batches are shuffled per epoch, and a last batch that would leave a
    process one sample is dropped when larger batches were asked for (batch norm
    cannot normalise a single sample; the order changes every epoch, so those
    samples are seen in others). Under torchrun each process takes its share of
    every global batch.
    """

    def __init__(self, n: int, batch: int, seed: int, *, train: bool, rank: int = 0,
                 world: int = 1) -> None:
        self.n, self.batch, self.seed, self.train = n, batch, seed, train
        self.rank, self.world = rank, world
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def index_batches(self) -> list[torch.Tensor]:
        if self.train:
            g = torch.Generator().manual_seed(mix(self.seed, self.epoch))
            order = torch.randperm(self.n, generator=g)
        else:
            order = torch.arange(self.n)
        out = []
        for start in range(0, self.n, self.batch):
            idx = order[start:start + self.batch]
            if self.train and len(idx) < 2 * self.world <= self.batch and self.n > 1:
                break
            if self.world > 1 and self.train:
                idx = idx[: len(idx) - len(idx) % self.world][self.rank::self.world]
            if len(idx):
                out.append(idx)
        return out

    def __iter__(self):
        for idx in self.index_batches():
            if self.train:
                yield [(i, mix(self.seed, self.epoch, i)) for i in idx.tolist()]
            else:
                yield [(i, None) for i in idx.tolist()]

    def __len__(self) -> int:
        if self.world > 1:
            return len(self.index_batches())
        full, rest = divmod(self.n, self.batch)
        return full + int(rest > 1 or (rest == 1 and (not self.train or self.n == 1)))
