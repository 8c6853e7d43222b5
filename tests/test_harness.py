"""The attack harness's limits (`tests/attacks/harness.py`): every child gets the
same room to allocate, whatever the installed torch maps just by being imported.

PyPI's default torch is the CUDA build, whose libraries map gigabytes of address
space on import; under a fixed 2 GiB `RLIMIT_AS` every child failed with
`libtorch_cpu.so: failed to map segment from shared object`. Here that is
reproduced on any torch by a `sitecustomize` that reserves 3 GiB at start-up."""

from __future__ import annotations

import json

import pytest
from attacks import harness

GiB = 1 << 30
MAPPED = """
import json, re, resource
import torch
import cnndsl, cnndsl.cli
size = int(re.search(r"VmSize:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
print(json.dumps({"mapped": size, "limit": resource.getrlimit(resource.RLIMIT_AS)[0]}))
"""
#: build and run a model, then report as MAPPED does (one torch import for both)
BUILD_AND_RUN = ("import torch, cnndsl\n"
                 "net = cnndsl.build('input 1x8x8\\nconv 4 k3 -> relu -> fc 10\\n')\n"
                 "print(tuple(net(torch.zeros(2, 1, 8, 8)).shape))\n" + MAPPED)
#: what a CUDA build's libraries do to a process: gigabytes mapped before any work
#: (where that fails, a shared library fails to load, so the process fails)
RESERVE = ("import mmap, os, sys\n"
           "try:\n"
           "    RESERVED = mmap.mmap(-1, 3 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,\n"
           "                         prot=mmap.PROT_READ)\n"
           "except BaseException as exc:\n"
           "    sys.stderr.write(f'libtorch_cuda.so: failed to map segment ({exc})\\n')\n"
           "    os._exit(1)\n")


@pytest.fixture
def fresh_limit():
    """Forget the measured limit before and after (the environment changes)."""
    forget = getattr(getattr(harness, "memory_limit", None), "cache_clear", lambda: None)
    forget()
    yield
    forget()


def test_children_have_two_gib_beyond_what_torch_maps(tmp_path):
    done = harness.python(MAPPED, cwd=tmp_path)
    harness.assert_no_crash(done, (0,))
    seen = json.loads(done.out)
    assert seen["limit"] - seen["mapped"] >= 2 * GiB - (64 << 20), seen
    assert seen["limit"] < seen["mapped"] + 3 * GiB, f"the limit no longer bounds; {seen}"


def test_a_torch_that_maps_gibibytes_on_import_still_runs(tmp_path, monkeypatch, fresh_limit):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(RESERVE, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(site))
    (tmp_path / "net.cnn").write_text("input 1x8x8\nconv 4 k3 -> fc 2\n", encoding="utf-8")
    done = harness.python(BUILD_AND_RUN, cwd=tmp_path)
    harness.assert_no_crash(done, (0,))
    shape, probe = done.out.decode().strip().splitlines()
    assert shape == "(2, 10)"
    assert json.loads(probe)["mapped"] > 3 * GiB          # the reservation was there
    harness.assert_no_crash(harness.cnndsl("compile", "net.cnn", cwd=tmp_path), (0,))
