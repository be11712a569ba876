"""An aiohttp server with planted slow routes, run the ways people run aiohttp.

    python aiohttp_app.py --port P                 web.run_app (its own loop; Ctrl-C/SIGTERM stop it)
    python aiohttp_app.py --port P --runner        AppRunner + TCPSite under asyncio.run, no signal
                                                   handlers of its own (what a k8s SIGTERM kills)
    python aiohttp_app.py --port P --uvloop        AppRunner + TCPSite under uvloop.run(main())

Routes: /sleep /dumps /busy /sqlite-sleep /burst /pair (planted.py), /fast and /fast/json.
$ASYNCCHECK_TRUTH names the truth file (truth.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os

from aiohttp import web
from planted import PLANTED

if os.environ.get("ASYNCCHECK_OTEL_OUT"):  # tests/otel/test_servers.py
    import otel_setup  # noqa: F401


async def planted(request: web.Request) -> web.Response:
    PLANTED[request.match_info["kind"]](request.path)
    return web.Response(text="planted")


async def fast(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def fast_json(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "items": list(range(10))})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/fast", fast)
    app.router.add_get("/fast/json", fast_json)
    app.router.add_get("/{kind}", planted)
    return app


async def serve_forever(port: int) -> None:
    runner = web.AppRunner(make_app(), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--runner", action="store_true")
    mode.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.runner:
        asyncio.run(serve_forever(args.port))
    elif args.uvloop:
        import uvloop

        uvloop.run(serve_forever(args.port))
    else:
        web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
