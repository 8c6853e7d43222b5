"""`cnndsl serve`: the playground, a local web page where a spec is checked as it is typed.

The server (Starlette on uvicorn, the optional `serve` extra) answers the page
over JSON with what the library computes: `cnndsl.check`,
`cnndsl.backends.table.report`'s JSON, `cnndsl.backends.diagram`'s diagram,
`cnndsl.backends.pytorch`'s module and `cnndsl.backends.query`'s per-position arithmetic.
The page itself is bundled from `web/` into `static/`.

Modules: `bodies` (bounded, validated request bodies), `work` (the thread pool,
its bounded queue and the cache of checked specs), `workspace` (the file opened
for editing and the examples), `payload` (the JSON answers), `guard` (host,
origin, the session's token and security headers), `app` (the routes), `server`
(uvicorn with a deadline on each request's headers).
"""
