"""`cnndsl serve` on the command line: it starts as users start it, and says in one
line why it cannot; the bounded load test reports no failed request."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from conftest import ROOT

from cnndsl.cli import main

pytest.importorskip("uvicorn")


def run(cnndsl_cmd, *args, timeout=120):
    # one DNS try of one second: a name that does not resolve must not wait on a slow resolver
    env = {**os.environ, "RES_OPTIONS": "timeout:1 attempts:1"}
    return subprocess.run([*cnndsl_cmd, *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


@pytest.fixture
def never_serves(monkeypatch):
    """In process, a command that should refuse fails the test if it serves instead
    (a real `serve` would answer until stopped)."""
    import cnndsl.serve.server

    def serve(app, sock, header_seconds=None):
        sock.close()
        raise AssertionError("`cnndsl serve` started serving")

    monkeypatch.setattr(cnndsl.serve.server, "serve", serve)


def test_help_lists_the_options(cli):
    done = cli("serve", "--help")
    assert done.returncode == 0
    for option in ("--host", "--port", "--open", "--examples", "SPEC"):
        assert option in done.stdout


@pytest.mark.parametrize("args, status, words", [
    (["missing.cnn"], 2, "error: cannot read `missing.cnn`: no such file or directory"),
    (["--port", "70000"], 2, "error: `--port 70000` is not a port (0 to 65535)"),
    (["--examples", "nowhere"], 2, "error: `--examples nowhere` is not a directory"),
    (["--examples", "n" * 300], 2, f"error: `--examples {'n' * 300}` is not a directory"),
    (["--examples", "a\x1b[2Jb"], 2, "error: `--examples a\\x1b[2Jb` is not a directory"),
    (["--host", "no-such-host.invalid"], 2, "error: cannot listen on `no-such-host.invalid`"),
])
def test_refusals_are_one_line(cli, never_serves, cnndsl_cmd, tmp_path, args, status, words):
    # in process, but a name to resolve in a child of its own, whose resolver RES_OPTIONS
    # holds to one try (this process's resolver has read its settings already)
    done = run(cnndsl_cmd, "serve", *args) if "--host" in args else cli("serve", *args)
    assert done.returncode == status
    assert done.stderr.startswith(words) and "Traceback" not in done.stderr


def test_a_port_in_use_is_one_line(cli, never_serves):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("serve", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr == (f"error: cannot listen on http://127.0.0.1:{port}/: the port is in "
                           "use; pick another with `--port`\n")


def test_a_binary_file_is_refused(cli, never_serves, tmp_path):
    path = tmp_path / "latin1.cnn"
    path.write_bytes(b"# caf\xe9\n")
    done = cli("serve", str(path))
    assert done.returncode == 1 and "is not UTF-8 text" in done.stderr


def test_without_the_extra_it_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)   # as if not installed
    assert main(["serve"]) == 1
    assert capsys.readouterr().err == ("error: `cnndsl serve` needs Starlette and uvicorn, "
                                       "which are not installed: pip install 'cnndsl[serve]'\n")


def test_it_serves_the_opened_file_on_loopback(cnndsl_cmd, tmp_path):
    spec = tmp_path / "lenet.cnn"
    spec.write_bytes((ROOT / "specs" / "lenet.cnn").read_bytes())
    server = subprocess.Popen([*cnndsl_cmd, "serve", str(spec), "--port", "0"],
                              stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        url = re.match(r"cnndsl serve: (http://127\.0\.0\.1:\d+/)\?token=(\S+)  "
                       r"\(Ctrl-C to stop\)", line)
        assert url, line
        asked = urllib.request.Request(url.group(1) + "api/session",
                                       headers={"X-Cnndsl-Token": url.group(2)})
        with urllib.request.urlopen(asked, timeout=30) as answer:
            session = json.load(answer)
        assert session["basename"] == "lenet.cnn"
        assert session["text"] == spec.read_text(encoding="utf-8")
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    # uvicorn shuts down, then re-raises the signal so the exit status tells of it
    assert server.returncode in (0, -signal.SIGTERM) and "Traceback" not in errors


@pytest.mark.slow
def test_the_load_test_reports_no_failed_request():
    """benchmarks/bench_serve.py, bounded small: every request answered 200 (no
    warm-up: its requests are not counted, so they would check nothing)."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_serve.py"),
                           "--requests", "120", "--clients", "12", "--seconds", "300",
                           "--warm-up", "0", "--json"],
                          capture_output=True, text=True, timeout=480)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["failed"] == 0, figures["failures"]
    assert figures["requests"] == 120 and figures["p99_ms"] > 0


# ---- the token in the printed URL; the loopback decided on the bound address ---------------

def _started(cnndsl_cmd, *args) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen([*cnndsl_cmd, "serve", "--port", "0", *args],
                              stderr=subprocess.PIPE, text=True)
    return server, server.stderr.readline()


def _ask(port: int, path: str, host: str, token: str | None) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host, **({"X-Cnndsl-Token": token} if token else {})}
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    return answer.status, answer.read()


@pytest.mark.parametrize("host", ["LOCALHOST", "127.1", "127.0.0.1"])
def test_loopback_spelt_any_way_keeps_the_host_check(cnndsl_cmd, tmp_path, host):
    spec = tmp_path / "victim.cnn"
    spec.write_bytes((ROOT / "specs" / "lenet.cnn").read_bytes())
    server, line = _started(cnndsl_cmd, str(spec), "--host", host)
    try:
        found = re.match(r"cnndsl serve: http://[^:]+:(\d+)/\?token=([A-Za-z0-9_-]{40,})  "
                         r"\(Ctrl-C to stop\)$", line.rstrip("\n"))
        assert found, line
        port, token = int(found.group(1)), found.group(2)
        assert _ask(port, "/api/session", "evil.example", token)[0] == 421
        assert _ask(port, "/api/session", f"127.0.0.1:{port}", None)[0] == 403
        status, body = _ask(port, "/api/session", f"127.0.0.1:{port}", token)
        assert status == 200 and json.loads(body)["basename"] == "victim.cnn"
    finally:
        server.terminate()
        _, rest = server.communicate(timeout=30)
    assert "listening beyond this machine" not in line + rest


def test_a_connection_that_sends_half_its_headers_is_closed(tmp_path):
    """uvicorn in this process, with the header deadline at a quarter of a second."""
    import threading

    import uvicorn

    from cnndsl.serve.app import create_app
    from cnndsl.serve.server import config
    from cnndsl.serve.workspace import Workspace

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(config(create_app(Workspace(), "t" * 32), header_seconds=0.25))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for sent in (b"", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
            with socket.create_connection(sock.getsockname(), timeout=20) as client:
                client.sendall(sent)
                assert client.recv(100) == b""     # closed by the server, not by the timeout
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
