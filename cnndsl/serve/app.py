"""The playground's routes: the page, its static bundle, and a small JSON API.

    GET  /                 the page (static: no user text is ever put into HTML)
    GET  /api/session      the opened file's text (read now), its digest, the examples
    POST /api/check        {text, file?} -> diagnostics, summary, table
    POST /api/diagram      {text, file?, collapse?} -> {svg | problem}
    POST /api/explain      {text, file?, line, column | name} -> {layer}
    POST /api/compile      {text, file?} -> {code, filename | problem}
    POST /api/example      {name} -> {name, text}
    POST /api/save         {text, digest, force?} -> {file, digest, bytes}

Every `/api/` request carries the session's token (header `X-Cnndsl-Token`).
Errors are `{"error": "one line"}` with a 4xx/5xx status. Nothing a request
holds is executed: text is only ever parsed by the checker.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from cnndsl.files import FileProblem, printable
from cnndsl.serve import payload
from cnndsl.serve.bodies import BadRequest, fields, parse, read_body, spec_name, spec_text
from cnndsl.serve.guard import LOCAL_HOSTS, Guard
from cnndsl.serve.work import Drawings, Results, Workers
from cnndsl.serve.workspace import Workspace

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("cnndsl.serve")


class Api:
    """The JSON endpoints over one workspace, one pool of workers, one cache."""

    def __init__(self, workspace: Workspace, workers: Workers, results: Results) -> None:
        self.workspace = workspace
        self.workers = workers
        self.results = results
        self.drawings = Drawings()

    async def answer(self, job, *args) -> Response:
        """Run `job` on a worker; its dict becomes the JSON answer, a refusal an error."""
        try:
            return Response(payload.encode(await self.workers.run(job, *args)),
                            media_type="application/json")
        except BadRequest as exc:
            return _error(str(exc), exc.status)
        except FileProblem as exc:
            return _error(str(exc).split("\n")[0], 409)
        except Exception as exc:   # a bug: one line to the page, the traceback to the console
            log.exception("internal error")
            return _error(f"internal error: {type(exc).__name__}; this is a bug in cnndsl", 500)

    async def json(self, request) -> dict:
        """The request's JSON object: read on the event loop (bounded in bytes and
        time), parsed on a worker (bounded in work), so a hostile body holds no one up."""
        return await self.workers.run(parse, await read_body(request))

    async def spec(self, request, optional: dict | None = None) -> tuple[dict, str, str]:
        """A request carrying a spec: its fields, its text and the name to check it under."""
        data = fields(await self.json(request), {"text": str}, {"file": str, **(optional or {})})
        return data, spec_text(data), spec_name(data)

    async def session(self, request) -> Response:
        return await self.answer(self.workspace.session)

    async def check(self, request) -> Response:
        _, text, name = await self.spec(request)
        return await self.answer(lambda: payload.checked(self.results.check(text, name)))

    async def diagram(self, request) -> Response:
        data, text, name = await self.spec(request, {"collapse": bool})
        return await self.answer(lambda: payload.diagram(self.results.check(text, name),
                                                          self.drawings,
                                                          data.get("collapse", False)))

    async def explain(self, request) -> Response:
        data, text, name = await self.spec(request, {"line": int, "column": int, "name": str})
        return await self.answer(lambda: payload.explained(self.results.check(text, name), data))

    async def compile(self, request) -> Response:
        _, text, name = await self.spec(request)
        return await self.answer(lambda: payload.compiled(self.results.check(text, name)))

    async def example(self, request) -> Response:
        name = fields(await self.json(request), {"name": str})["name"]
        return await self.answer(lambda: {"name": name, "text": self.workspace.example(name)})

    async def save(self, request) -> Response:
        data = fields(await self.json(request), {"text": str, "digest": str},
                      {"force": bool})
        text = spec_text(data)
        return await self.answer(self.workspace.save, text, data["digest"],
                                 data.get("force", False))


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": printable(message)}, status_code=status)


async def _refused(request, exc: BadRequest) -> JSONResponse:
    return _error(str(exc), exc.status)


async def _page(request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


def create_app(workspace: Workspace, token: str, *, threads: int | None = None,
               queue: int = 64, hosts: frozenset[str] | None = LOCAL_HOSTS):
    """The playground as an ASGI application (wrapped in the host, origin and token
    guard): every `/api/` request must carry `token` (`cnndsl serve` prints it)."""
    workers = Workers(threads, queue)
    api = Api(workspace, workers, Results())

    @asynccontextmanager
    async def lifespan(app):
        yield
        workers.close()

    posts = {"check": api.check, "diagram": api.diagram, "explain": api.explain,
             "compile": api.compile, "example": api.example, "save": api.save}
    routes = [Route("/", _page), Route("/api/session", api.session),
              *(Route(f"/api/{name}", handler, methods=["POST"])
                for name, handler in posts.items()),
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={BadRequest: _refused})
    app.state.api = api
    return Guard(app, token, hosts)
