"""The playground's server: its JSON API, its bounds, its guards and its files.

Through Starlette's TestClient (the app in this process); the CLI and a real
browser are in test_serve_cli.py and test_serve_browser*.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from conftest import ROOT
from starlette.testclient import TestClient

import cnndsl
from cnndsl.files import MAX_SPEC_BYTES
from cnndsl.serve import payload, work
from cnndsl.serve.app import create_app
from cnndsl.serve.bodies import MAX_BODY, nesting
from cnndsl.serve.workspace import Workspace

LOCAL = "http://127.0.0.1:8000"
TOKEN = "test-token-0123456789abcdef"
WITH_TOKEN = {"X-Cnndsl-Token": TOKEN}
LENET = (ROOT / "specs" / "lenet.cnn").read_text(encoding="utf-8")
HAS_DOT = shutil.which("dot") is not None


@pytest.fixture
def opened(tmp_path) -> Path:
    path = tmp_path / "lenet.cnn"
    path.write_text(LENET, encoding="utf-8")
    return path


@pytest.fixture
def client(opened):
    with TestClient(create_app(Workspace(opened, ROOT / "specs"), TOKEN), base_url=LOCAL,
                    headers=WITH_TOKEN) as c:
        yield c


def post(client, path: str, body, **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    data = data.encode("utf-8") if isinstance(data, str) else data
    return client.post(f"/api/{path}", content=data,
                       headers={"Content-Type": "application/json", **headers})


# ---- the page -------------------------------------------------------------------------

def test_the_page_and_its_bundle(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script defer src="/static/app.js"></script>' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/../pyproject.toml").status_code == 404


def test_session_gives_the_opened_file_and_the_examples(client, opened):
    session = client.get("/api/session").json()
    assert session["text"] == LENET and session["basename"] == "lenet.cnn"
    assert session["file"].endswith("lenet.cnn")
    assert "resnet50.cnn" in session["examples"] and "lenet.cnn" in session["examples"]


# ---- checking ---------------------------------------------------------------------------

def test_check_gives_checks_json_and_the_table(client):
    answer = post(client, "check", {"text": LENET, "file": "lenet.cnn"}).json()
    report = answer["report"]
    assert report == json.loads(json.dumps(
        __import__("cnndsl.backends.table.report", fromlist=["x"]).result_json(cnndsl.check(LENET,
                                                                            "lenet.cnn"))))
    assert report["ok"] and report["summary"]["params"] == 62006
    assert [r["name"] for r in answer["table"]["rows"]][:3] == ["conv1", "relu1", "pool1"]


def test_check_reports_errors_at_their_spans(client):
    text = "input 1x28x28\nconv 6 k5 -> maxpool 2 -> conv 16 k5 -> maxpool 2\n-> conv 32 k5\n"
    answer = post(client, "check", {"text": text}).json()
    (diagnostic,) = answer["report"]["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"], diagnostic["column"],
            diagnostic["end_column"]) == ("E0301", 3, 12, 13)
    assert diagnostic["message"] == "kernel does not fit its input"
    table = answer["table"]                     # the layers before the error keep their figures
    assert table["partial"] and [r["name"] for r in table["rows"]] == ["conv1", "pool1",
                                                                       "conv2", "pool2"]
    assert table["rows"][-1]["output"] == [16, 4, 4] and table["totals"]["params"] == 2572


def test_a_failed_assert_alone_leaves_the_table_and_the_diagram(client):
    answer = post(client, "check", {"text": "input 1x8x8\nfc 2\nassert params == 5\n"}).json()
    assert [d["code"] for d in answer["report"]["diagnostics"]] == ["E0501"]
    assert answer["table"]["partial"] is False and answer["table"]["totals"]["params"] == 130
    if HAS_DOT:
        drawn = post(client, "diagram", {"text": "input 1x8x8\nfc 2\nassert params == 5\n"})
        assert drawn.json()["svg"].startswith("<?xml")


def test_the_file_name_names_the_model_but_is_never_a_path(client):
    text = "input 1x8x8\nfc 2"
    named = post(client, "check", {"text": text, "file": "my_net.cnn"}).json()
    assert named["report"]["summary"]["model"] == "MyNet"
    for hostile in ("../../etc/passwd.cnn", "/tmp/x.cnn", "a\nb.cnn", "x.py"):
        answer = post(client, "check", {"text": text, "file": hostile}).json()
        assert answer["report"]["file"] == "playground.cnn"


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_diagram_is_svg_or_says_why_not(client):
    svg = post(client, "diagram", {"text": LENET}).json()["svg"]
    assert svg.startswith("<?xml") and "<!-- drawn by cnndsl -->" in svg and "LeNet" in svg
    broken = post(client, "diagram", {"text": "input 1x4x4\nconv 6 k5"}).json()
    assert broken == {"svg": None, "problem": "the spec has errors"}


def test_explain_by_position_and_by_name(client):
    by_place = post(client, "explain", {"text": LENET, "line": 5, "column": 1}).json()["layer"]
    assert by_place["name"] == "conv1"
    assert "(5·5·3 + 1)·6 = 456" in [s["text"] for s in by_place["steps"]]
    by_name = post(client, "explain", {"text": LENET, "name": "fc1"}).json()["layer"]
    assert by_name["op"] == "fc"
    nowhere = post(client, "explain", {"text": LENET, "line": 1, "column": 1}).json()
    assert nowhere == {"layer": None}


def test_compile_gives_the_module(client):
    answer = post(client, "compile", {"text": LENET, "file": "lenet.cnn"}).json()
    assert answer["filename"] == "lenet.py" and answer["problem"] is None
    compile(answer["code"], "lenet.py", "exec")
    assert "class LeNet(nn.Module):" in answer["code"]
    broken = post(client, "compile", {"text": "input 1x4x4\nconv 6 k5"}).json()
    assert broken["code"] is None and broken["problem"] == "the spec has errors"


def test_examples_by_name_only(client):
    answer = post(client, "example", {"name": "resnet50.cnn"}).json()
    assert answer["text"] == (ROOT / "specs" / "resnet50.cnn").read_text(encoding="utf-8")
    for name in ("../pyproject.toml", "nope.cnn", "/etc/passwd", "specs/lenet.cnn"):
        refused = post(client, "example", {"name": name})
        assert refused.status_code == 404 and refused.json()["error"].startswith("no example")


# ---- saving ------------------------------------------------------------------------------

def test_save_writes_the_opened_file_only_when_asked(client, opened):
    session = client.get("/api/session").json()
    new = LENET.replace("fc 10", "fc 100")
    saved = post(client, "save", {"text": new, "digest": session["digest"]})
    assert saved.status_code == 200 and opened.read_text(encoding="utf-8") == new
    assert saved.json()["digest"] != session["digest"]
    assert sorted(p.name for p in opened.parent.iterdir()) == ["lenet.cnn"]   # no stray files


def test_save_refuses_to_overwrite_a_file_changed_on_disk(client, opened):
    session = client.get("/api/session").json()
    opened.write_text(LENET + "# edited elsewhere\n", encoding="utf-8")
    refused = post(client, "save", {"text": "input 1x8x8\nfc 2\n", "digest": session["digest"]})
    assert refused.status_code == 409 and "changed on disk" in refused.json()["error"]
    assert opened.read_text(encoding="utf-8").endswith("# edited elsewhere\n")
    forced = post(client, "save", {"text": "input 1x8x8\nfc 2\n", "digest": session["digest"],
                                   "force": True})
    assert forced.status_code == 200 and opened.read_text() == "input 1x8x8\nfc 2\n"


def test_save_keeps_crlf_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "win.cnn"
    path.write_bytes(b"\xef\xbb\xbfinput 1x8x8\r\nfc 2\r\n")
    with TestClient(create_app(Workspace(path), TOKEN), base_url=LOCAL,
                    headers=WITH_TOKEN) as c:
        session = c.get("/api/session").json()
        assert session["text"] == "input 1x8x8\nfc 2\n"
        post(c, "save", {"text": "input 1x8x8\nfc 3\n", "digest": session["digest"]})
    assert path.read_bytes() == b"\xef\xbb\xbfinput 1x8x8\r\nfc 3\r\n"


def test_without_an_opened_file_nothing_is_saved(tmp_path):
    with TestClient(create_app(Workspace(None, tmp_path), TOKEN), base_url=LOCAL,
                    headers=WITH_TOKEN) as c:
        assert c.get("/api/session").json()["file"] is None
        refused = post(c, "save", {"text": "input 1x8x8\nfc 2", "digest": "absent"})
    assert refused.status_code == 409 and "no file was opened" in refused.json()["error"]
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_utf8_is_not_opened(tmp_path):
    path = tmp_path / "latin1.cnn"
    path.write_bytes(b"# caf\xe9\ninput 1x8x8\nfc 2\n")
    with pytest.raises(Exception, match="is not UTF-8 text"):
        Workspace(path)


# ---- bounds and refusals --------------------------------------------------------------------

@pytest.mark.parametrize("body, status, words", [
    ("not json", 400, "not valid JSON"),
    ("[1, 2]", 400, "must be a JSON object"),
    ('{"text": 5}', 400, "field `text` must be a string"),
    ('{"text": "x", "line": true, "column": 1}', 400, "field `line` must be an integer"),
    ('{"text": "x", "extra": 1}', 400, "unknown field `extra`"),
    ("{}", 400, "missing field `text`"),
    ('{"text": "\\ud800"}', 400, "lone surrogate"),
    ('{"text": "x", "a": ' + "[" * 50 + "]" * 50 + "}", 400, "nests deeper"),
    (b'{"text": "\xff"}', 400, "not UTF-8"),
])
def test_malformed_requests_get_one_line(client, body, status, words):
    answer = post(client, "explain", body)
    assert answer.status_code == status and words in answer.json()["error"]
    assert "\n" not in answer.json()["error"] and "Traceback" not in answer.text


def test_a_deep_nesting_bomb_is_refused_before_parsing(client):
    bomb = '{"text": "x", "a": ' + "[" * 200_000 + "]" * 200_000 + "}"
    answer = post(client, "check", bomb)
    assert answer.status_code == 400 and "nests deeper" in answer.json()["error"]
    assert nesting('{"a": "[[[[[[[[[[", "b": [[1]]}') == 3   # brackets in strings do not count


def test_size_limits(client):
    too_big = json.dumps({"text": "#" * (MAX_BODY + 10)})
    assert post(client, "check", too_big).status_code == 413
    spec_too_big = json.dumps({"text": "é" * (MAX_SPEC_BYTES // 2 + 1)}, ensure_ascii=False)
    answer = post(client, "check", spec_too_big)
    assert answer.status_code == 413 and "a spec may be at most" in answer.json()["error"]

    def chunks():   # no Content-Length: the limit holds while streaming
        yield b'{"text": "'
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"#" * 65536
        yield b'"}'

    streamed = client.post("/api/check", content=chunks(),
                           headers={"Content-Type": "application/json", **WITH_TOKEN})
    assert streamed.status_code == 413


def test_json_only(client):
    answer = client.post("/api/check", content=json.dumps({"text": "x"}),
                         headers={"Content-Type": "text/plain", **WITH_TOKEN})
    assert answer.status_code == 415


def test_foreign_hosts_and_cross_origin_posts_are_refused(client):
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 421
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8000"}).status_code == 200
    cross = post(client, "check", {"text": LENET}, Origin="http://attacker.example")
    assert cross.status_code == 403
    same = post(client, "check", {"text": LENET}, Origin=LOCAL)
    assert same.status_code == 200


def test_any_host_when_serving_beyond_loopback(opened):
    with TestClient(create_app(Workspace(opened), TOKEN, hosts=None), base_url=LOCAL,
                    headers=WITH_TOKEN) as c:
        assert c.get("/", headers={"Host": "lab-machine:8000"}).status_code == 200


def test_an_internal_error_is_one_line_not_a_traceback(client, monkeypatch):
    def broken(result):
        raise RuntimeError("boom")

    monkeypatch.setattr(payload, "checked", broken)
    answer = post(client, "check", {"text": LENET})
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error: RuntimeError; this is a bug in cnndsl"}


# ---- the workers ------------------------------------------------------------------------------

def test_a_full_queue_answers_busy_at_once():
    workers = work.Workers(threads=1, queue=1)
    gate = threading.Event()

    async def scenario():
        first = asyncio.ensure_future(workers.run(gate.wait, 60))
        await asyncio.sleep(0.05)
        with pytest.raises(work.Busy):
            await workers.run(time.sleep, 0)
        gate.set()
        assert await first is True
        assert await workers.run(lambda: "free again") == "free again"

    try:
        asyncio.run(scenario())
    finally:
        workers.close()


def test_the_same_text_at_once_is_checked_once(monkeypatch):
    calls = []
    real = cnndsl.check

    def slow(text, name):
        calls.append(text)
        time.sleep(0.2)
        return real(text, name)

    monkeypatch.setattr(cnndsl, "check", slow)
    results = work.Results()
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(results.check(LENET, "a.cnn")))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(answers) == 4 and len({id(a) for a in answers}) == 1


def test_concurrent_requests_all_succeed(client):
    texts = [f"{LENET}# {i}\n" for i in range(48)]
    answers = []

    def ask(text):
        answers.append(post(client, "check", {"text": text}).status_code)

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * len(texts)


def test_nothing_is_executed(client, tmp_path, monkeypatch):
    """A spec is data: text that would run as Python, shell or HTML is only ever parsed."""
    marker = tmp_path / "ran"
    hostile = (f"# __import__('os').system('touch {marker}')\n$(touch {marker})\n"
               f"<script>fetch('/{marker}')</script>\ninput 1x8x8\nfc 2\n")
    for path in ("check", "diagram", "explain", "compile"):
        body = {"text": hostile, "line": 1, "column": 1} if path == "explain" else \
            {"text": hostile}
        assert post(client, path, body).status_code == 200
    assert not marker.exists() and not os.path.exists(f"/{marker}")


# ---- the session's token (issue 17 item 3) -------------------------------------------------

def test_every_api_call_needs_the_sessions_token(opened):
    app = create_app(Workspace(opened, ROOT / "specs"), TOKEN)
    with TestClient(app, base_url=LOCAL) as c:
        assert c.get("/").status_code == 200            # the page holds no user data
        for headers in ({}, {"X-Cnndsl-Token": "guess"}, {"X-Cnndsl-Token": TOKEN + "x"}):
            session = c.get("/api/session", headers=headers)
            assert session.status_code == 403 and "token" in session.json()["error"]
            assert LENET not in session.text
            saved = post(c, "save", {"text": "input 1x8x8\nfc 2\n", "digest": "absent",
                                     "force": True}, **headers)
            assert saved.status_code == 403
            assert post(c, "check", {"text": LENET}, **headers).status_code == 403
        assert opened.read_text(encoding="utf-8") == LENET
        assert c.get("/api/session", headers=WITH_TOKEN).json()["text"] == LENET
    with pytest.raises(ValueError, match="too short"):
        create_app(Workspace(opened), "")


# ---- bodies: linear, off the event loop, bounded (issue 17 item 9) ----------------------------

def test_an_unterminated_string_is_scanned_in_linear_time():
    """200 KB of `\\"` inside an unterminated string: the old regex retried at every
    quote (quadratic: minutes); one pass is milliseconds. A hang guard, not a timing."""
    from cnndsl.serve.bodies import BadRequest, parse

    body = ('{"text": "' + '\\"' * 100_000).encode()
    done = []
    worker = threading.Thread(target=lambda: done.append(_refusal(parse, body)), daemon=True)
    worker.start()
    worker.join(30)
    assert done == ["the request is not valid JSON"]
    assert _refusal(parse, ('{"text": "x", ' + '"a": "b", ' * 200 + '"z": 1}').encode()) \
        .startswith("the request holds over 256 strings")
    assert issubclass(BadRequest, Exception)


def _refusal(parse, body: bytes) -> str:
    from cnndsl.serve.bodies import BadRequest

    try:
        parse(body)
    except BadRequest as exc:
        return str(exc)
    return "accepted"


def test_bodies_are_parsed_off_the_event_loop(client, monkeypatch):
    from cnndsl.serve import app as app_module

    threads = []
    real = app_module.parse

    def spy(body):
        threads.append(threading.current_thread().name)
        return real(body)

    monkeypatch.setattr(app_module, "parse", spy)
    assert post(client, "check", {"text": LENET}).status_code == 200
    assert threads and all(name.startswith("cnndsl-serve") for name in threads)


def test_a_body_that_never_arrives_is_refused_in_time():
    from cnndsl.serve.bodies import BadRequest, read_body

    class Stalled:
        headers = {"content-type": "application/json"}

        async def stream(self):
            yield b'{"text": '
            await asyncio.sleep(3600)

    with pytest.raises(BadRequest, match="did not arrive within 0.2 s") as refused:
        asyncio.run(read_body(Stalled(), seconds=0.2))
    assert refused.value.status == 408


# ---- the cache is bounded by bytes (issue 17 item 15) ------------------------------------------

def test_the_check_cache_is_bounded_by_bytes():
    specs = [f"model M{i}\ninput 1x8x8\n(relu * 30) * 30\n" for i in range(6)]
    one = work.footprint(specs[0], cnndsl.check(specs[0], "a.cnn"))
    assert one >= 900 * work.LAYER_BYTES          # 900 layers unrolled from 40 bytes
    results = work.Results(size=16, budget=2 * one + 100)
    for text in specs:
        results.check(text, "a.cnn")
        assert results.held <= results.budget
    assert len(results._done) == 2 and results.held == sum(results._weights.values())
    tiny = work.Results(budget=one - 1)              # larger than the whole budget: not kept
    tiny.check(specs[0], "a.cnn")
    assert len(tiny._done) == 0 and tiny.held == 0
    broken = cnndsl.check("input 1x8x8\n(relu * 30) * 30\nconv 3 k9\n", "a.cnn")
    assert work.footprint("", broken) >= 900 * work.LAYER_BYTES   # a failed check is weighed too


# ---- the opened file: read when the page loads, saved byte-exact (issues 18.1, 17.19) -------

def test_the_session_reads_the_file_as_it_is_now(client, opened):
    assert client.get("/api/session").json()["text"] == LENET
    opened.write_text(LENET + "# edited in another editor\n", encoding="utf-8")
    session = client.get("/api/session").json()
    assert session["text"].endswith("# edited in another editor\n")
    saved = post(client, "save", {"text": session["text"] + "# mine\n",
                                  "digest": session["digest"]})
    assert saved.status_code == 200


def test_an_unedited_save_keeps_mixed_line_endings(tmp_path):
    path = tmp_path / "mixed.cnn"
    original = b"input 1x8x8\r\nfc 2\n# a comment\r\n"
    path.write_bytes(original)
    with TestClient(create_app(Workspace(path), TOKEN), base_url=LOCAL,
                    headers=WITH_TOKEN) as c:
        session = c.get("/api/session").json()
        post(c, "save", {"text": session["text"], "digest": session["digest"]})
        assert path.read_bytes() == original
        session = c.get("/api/session").json()
        post(c, "save", {"text": session["text"].replace("fc 2", "fc 3"),
                         "digest": session["digest"]})
    assert path.read_bytes() == b"input 1x8x8\r\nfc 3\r\n# a comment\r\n"   # most lines: CRLF


def test_a_module_past_the_generated_code_bound_is_a_problem_not_a_crash():
    """The playground's compile download answers E0417 (a generated formula past its bound)
    as a problem line, as `cnndsl compile` does, instead of failing the request."""
    text = (ROOT / "tests" / "diagnostics" / "compile_formula_too_large.cnn").read_text()
    answer = payload.compiled(cnndsl.check(text, "big.cnn"))
    assert answer["code"] is None
    assert answer["problem"].startswith("E0417: ")
