"""A Starlette app with planted slow routes, served by uvicorn the ways people start it.

    python starlette_app.py --port P --how server [--loop asyncio|uvloop|auto]
                                                   uvicorn.Server(uvicorn.Config(...)).run()
    python starlette_app.py --port P --how run [--loop ...]
                                                   uvicorn.run(app, ...)
    python -m uvicorn starlette_app:app --port P [--loop ...] [--workers 2]

Routes as in aiohttp_app.py. $ASYNCCHECK_TRUTH names the truth file (truth.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator

from planted import PLANTED
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

if os.environ.get("ASYNCCHECK_OTEL_OUT"):  # tests/otel/test_servers.py
    import otel_setup
else:
    otel_setup = None


async def planted(request: Request) -> Response:
    PLANTED[request.path_params["kind"]](request.url.path)
    return PlainTextResponse("planted")


async def fast(request: Request) -> Response:
    return PlainTextResponse("ok")


async def fast_json(request: Request) -> Response:
    return JSONResponse({"ok": True, "items": list(range(10))})


@contextlib.asynccontextmanager
async def dump_metrics_at_shutdown(app: Starlette) -> AsyncIterator[None]:
    yield
    otel_setup.dump()  # a worker stopped by SIGTERM dies of it after the shutdown: no atexit


app = Starlette(
    routes=[
        Route("/fast", fast),
        Route("/fast/json", fast_json),
        Route("/{kind}", planted),
    ],
    lifespan=dump_metrics_at_shutdown if otel_setup else None,
)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--how", choices=("server", "run"), default="server")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    args = parser.parse_args()
    options = dict(host="127.0.0.1", port=args.port, loop=args.loop, log_level="warning")
    if args.how == "server":
        uvicorn.Server(uvicorn.Config(app, **options)).run()
    else:
        uvicorn.run(app, **options)


if __name__ == "__main__":
    main()
