"""The README's two commands on a stock interpreter: `scripts/install.sh` makes a
project virtual environment with the system's Python (which Debian and Ubuntu
refuse to `pip install` into), and what it installs runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.mark.slow
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no system interpreter at /usr/bin")
def test_install_script_builds_a_venv_with_the_system_python(tmp_path):
    venv = tmp_path / "venv"
    done = subprocess.run(["bash", "scripts/install.sh"], cwd=ROOT, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
                                          "PYTHON": str(SYSTEM_PYTHON), "VENV": str(venv)},
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    python = venv / "bin" / "python"
    version = subprocess.run([str(python), "-c", "import sys; print(sys.base_prefix)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == "/usr"   # the system's interpreter, not a user-owned one
    if not Path("/proc/driver/nvidia/version").exists() and not shutil.which("nvidia-smi"):
        build = subprocess.run([str(python), "-c", "import torch; print(torch.version.cuda)"],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert build == "None", f"a CUDA build of torch ({build}) on a machine without a GPU"
    check = subprocess.run([str(venv / "bin" / "cnndsl"), "check", "-q",
                            str(ROOT / "specs" / "mnist_net.cnn")], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stderr
    if shutil.which("dot"):
        out = tmp_path / "net.svg"
        subprocess.run([str(venv / "bin" / "cnndsl"), "diagram", str(ROOT / "specs" /
                        "mnist_net.cnn"), "-o", str(out)], check=True, capture_output=True)
        assert out.read_bytes().startswith(b"<?xml")


def test_the_readme_gives_exactly_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## The two commands"):].split("```sh\n", 1)[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
