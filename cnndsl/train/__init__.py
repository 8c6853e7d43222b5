"""The training harness: data, devices, the loop, checkpoints, distributed runs."""
