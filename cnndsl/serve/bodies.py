"""Request bodies, read within bounds: a size limit while reading, a nesting
limit before parsing, and a fixed set of fields of fixed types after."""

from __future__ import annotations

import asyncio
import json
import re

from cnndsl.files import MAX_SPEC_BYTES

#: A request carries one spec, JSON-escaped (newlines and quotes double in size).
MAX_BODY = 2 * MAX_SPEC_BYTES
#: Every request is one flat object; nothing legitimate nests deeper.
MAX_DEPTH = 4
#: Every request is one flat object of a few fields: its strings and brackets are
#: counted, and a body with more is refused before any parser walks it.
MAX_TOKENS = 256
#: A request's body must arrive within this many seconds of its headers.
BODY_SECONDS = 30

#: the next character that matters outside a string: a quote or a bracket
_SIGNIFICANT = re.compile(r'["\[\]{}]')


class BadRequest(Exception):
    """A request the server refuses, with the HTTP status and one line saying why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_json(request, limit: int = MAX_BODY) -> dict:
    """The request's JSON object; refuses other media types, bodies over `limit`
    bytes (declared or streamed) and nesting deeper than `MAX_DEPTH`. Parses on the
    calling thread: the server reads with `read_body` and parses on a worker."""
    return parse(await read_body(request, limit))


async def read_body(request, limit: int = MAX_BODY, seconds: float = BODY_SECONDS) -> bytes:
    """The request's body as bytes, within `limit` bytes and `seconds` seconds; refuses
    other media types than JSON."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise BadRequest("send a JSON body (Content-Type: application/json)", 415)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"the request is over {limit:,} bytes", 413)
    from starlette.requests import ClientDisconnect

    body = bytearray()

    async def receive() -> None:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                raise BadRequest(f"the request is over {limit:,} bytes", 413)

    try:
        await asyncio.wait_for(receive(), seconds)
    except ClientDisconnect:   # nobody is left to answer, but the console stays quiet
        raise BadRequest("the request was cut short") from None
    except asyncio.TimeoutError:   # a client that sends half a body holds no connection
        raise BadRequest(f"the request's body did not arrive within {seconds:g} s", 408) \
            from None
    return bytes(body)


def parse(body: bytes) -> dict:
    """A JSON object from bytes, its nesting checked before the parser sees it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request is not UTF-8 text") from None
    if nesting(text) > MAX_DEPTH:
        raise BadRequest(f"the request nests deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(text)
    except ValueError:
        raise BadRequest("the request is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the request must be a JSON object")
    return data


def nesting(text: str) -> int:
    """How deep brackets nest in JSON text, strings aside: one left-to-right pass
    (linear time, no recursion). Stops past `MAX_DEPTH`, at an unterminated
    string (the parser refuses it) and past `MAX_TOKENS` strings and brackets."""
    depth = deepest = tokens = 0
    at = 0
    while (found := _SIGNIFICANT.search(text, at)) is not None:
        tokens += 1
        if tokens > MAX_TOKENS:
            raise BadRequest(f"the request holds over {MAX_TOKENS} strings and brackets; "
                             "send one flat object")
        if found.group() == '"':   # the json module's own C scanner: one pass to its end
            try:
                at = json.decoder.scanstring(text, found.end(), False)[1]
            except ValueError:     # never closed, or a bad escape: not JSON
                return deepest
            continue
        depth += 1 if found.group() in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        at = found.end()
    return deepest


def fields(data: dict, required: dict[str, type], optional: dict[str, type] | None = None) -> dict:
    """`data` checked against a schema: every required field, no unknown field,
    each of its type (a bool is not an int)."""
    optional = optional or {}
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        raise BadRequest(f"unknown field `{unknown[0][:40]}`")
    for name, kind in {**required, **optional}.items():
        if name not in data:
            if name in required:
                raise BadRequest(f"missing field `{name}`")
            continue
        value = data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadRequest(f"field `{name}` must be {_TYPE_NAMES[kind]}")
    return data


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def spec_text(data: dict) -> str:
    """The spec a request carries, within the size a spec file may have."""
    text = data["text"]
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:   # JSON may spell a lone surrogate, `"\ud800"`
        raise BadRequest("the spec is not valid Unicode text (a lone surrogate)") from None
    if size > MAX_SPEC_BYTES:
        raise BadRequest(f"the spec is over {MAX_SPEC_BYTES:,} bytes; a spec may be at most "
                         f"{MAX_SPEC_BYTES:,}", 413)
    return text


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\.cnn")


def spec_name(data: dict, default: str = "playground.cnn") -> str:
    """The file name the spec is checked under (it names the model when the spec
    does not): a plain `name.cnn`, never a path; anything else gets the default."""
    name = data.get("file", default)
    return name if _NAME.fullmatch(name) else default
