"""The course notes' networks (`tests/seed_nets.py`, written as the notes write them in
PyTorch), each factory named after its spec in `specs/` (`lecture_cnn`, ..., `cifar10_net`).

Source: /work/shared/seeds/, the course notes cnndsl grew out of (see `seed_nets.SEEDS`).
"""

from __future__ import annotations

from seed_nets import SEEDS

lecture_cnn = SEEDS["lecture_cnn"][0]
lenet_sigmoid = SEEDS["lenet_sigmoid"][0]
mnist_net = SEEDS["mnist_net"][0]
mnist_net3 = SEEDS["mnist_net3"][0]
inception_net = SEEDS["inception_net"][0]
residual_net = SEEDS["residual_net"][0]
cifar10_net = SEEDS["cifar10_net"][0]
