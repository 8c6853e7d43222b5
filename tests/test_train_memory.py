"""The memory guard (`cnndsl.memory`): what a network needs against what this
process may really use, under a real `ulimit -v`."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from cnndsl import memory

GiB = 1 << 30


def test_the_estimate_counts_every_part():
    parts = memory.needed(params=1000, activations=500, batch=8, training=True,
                          optimizer_states=2)
    assert parts == {"weights": 4000, "gradients": 4000, "optimizer state": 8000,
                     "activations": 500 * 8 * 4 * 2}
    inference = memory.needed(params=1000, activations=500, batch=8, training=False,
                              optimizer_states=2)
    assert inference == {"weights": 4000, "activations": 500 * 8 * 4}


def test_too_large_gives_both_sides(monkeypatch):
    monkeypatch.setattr(memory, "available", lambda device: memory.Limit(GiB, "test limit"))
    with pytest.raises(memory.TooLarge) as caught:
        memory.check_fits(params=100_000_000, activations=10_000_000, batch=32, training=True,
                          optimizer_states=2, device="cpu")
    message = str(caught.value)
    assert "100,000,000 parameters" in message and "batch 32" in message
    assert "activations 2.38 GiB" in message and "only 1.00 GiB is available (test limit)" \
        in message
    memory.check_fits(params=1000, activations=1000, batch=1, training=True,
                      optimizer_states=2, device="cpu")


PROBE = textwrap.dedent("""
    import resource, sys
    from cnndsl import memory
    used = memory._status_kib("VmSize") * 1024
    # 256 MiB of headroom: tighter than any cgroup or MemAvailable a CI machine may have
    resource.setrlimit(resource.RLIMIT_AS, (used + (256 << 20), resource.RLIM_INFINITY))
    limit = memory.available("cpu")
    print(limit.source)
    try:
        memory.check_fits(params=0, activations=(3 << 30) // 8, batch=1, training=True,
                          optimizer_states=0, device="cpu")
    except memory.TooLarge as exc:
        print("refused:", exc)
    memory.check_fits(params=1000, activations=1000, batch=1, training=True,
                      optimizer_states=2, device="cpu")
    print("small fits")
""")


def test_a_real_ulimit_v_is_respected():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ulimit -v")
    assert lines[1].startswith("refused: training needs at least 3.00 GiB") and \
        "ulimit -v" in lines[1]
    assert lines[2] == "small fits"


#: `cnndsl train ARGS...` under `ulimit -v`: what this process maps once torch and the
#: CLI are in (what the security harness's baseline measures), plus 3 GiB; one process
#: measures and trains, where a probe process and then the trainer each imported torch
UNDER_ULIMIT = textwrap.dedent("""
    import resource, sys, torch
    from cnndsl import memory
    from cnndsl.cli import main
    torch.ones(64, 64) @ torch.ones(64, 64)
    limit = memory._status_kib("VmSize") * 1024 + (3 << 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.slow
def test_train_under_ulimit_is_refused_before_allocating(tmp_path):
    free = memory._meminfo()
    if free is None or free.bytes < 12 * GiB:
        pytest.skip("needs 12 GiB available, so that the ulimit is the tightest limit")
    spec = tmp_path / "wide.cnn"
    spec.write_text("input 1x8x8\nfc 20000 -> fc 20000 -> fc 10\n")   # 400M params: 6.4 GB
    done = subprocess.run([sys.executable, "-c", UNDER_ULIMIT, "train", str(spec), "--out",
                           str(tmp_path / "r"), "--progress", "plain"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "ulimit -v" in done.stderr and "401,520,010 parameters" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "r").exists()
