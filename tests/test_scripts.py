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


def pip_to_uv():
    """scripts/pip_to_uv.py, which install.sh runs as a script, as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pip_to_uv", ROOT / "scripts" / "pip_to_uv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# What `pip config list` prints on a machine like CI's: /etc/pip.conf and PIP_* variables
LISTED = """\
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///nowhere/simple https://mirror.example/simple'
global.find-links='/opt/global-wheels'
global.index-url='https://global.example/simple'
install.index-url='https://install.example/simple'
:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
not a setting
:env:.retries=not-quoted
"""


def test_pip_settings_become_uv_flags_in_pips_order_of_precedence():
    exists = {"/opt/wheels", "/opt/global-wheels", "/opt/pypi/simple",
              "/etc/xdg/pip/constraints.txt"}.__contains__
    lines = pip_to_uv().uv_flags(LISTED, exists=exists)
    assert lines == [
        "--index-strategy=unsafe-best-match",   # pip's rule: the best match from any index
        "--find-links=/opt/wheels",              # the variable beats the file
        "--index-url=https://install.example/simple",   # [install] beats [global]
        "--extra-index-url=file:///opt/pypi/simple",    # a missing directory is left out
        "--extra-index-url=https://mirror.example/simple",
        "--constraint=/etc/xdg/pip/constraints.txt",
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        "UV_HTTP_TIMEOUT=180",
    ]


def test_an_index_given_on_the_command_line_replaces_the_configured_one():
    listed = LISTED + ":env:.timeout='15.5'\n"
    lines = pip_to_uv().uv_flags(listed, without_index_url=True, exists=lambda path: True)
    assert not any(line.startswith("--index-url") for line in lines)
    assert "UV_HTTP_TIMEOUT=16" in lines     # --timeout beats --default-timeout; whole seconds
    assert "--find-links=/opt/wheels" in lines and "--find-links=/opt/global-wheels" not in lines


def test_without_settings_uv_gets_only_pips_index_rule():
    assert pip_to_uv().uv_flags("") == ["--index-strategy=unsafe-best-match"]

