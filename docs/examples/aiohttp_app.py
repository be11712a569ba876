"""The same order service on aiohttp, used by docs/profiling-web-services.md.

    python aiohttp_app.py [--port 8000]            web.run_app() makes and runs the loop
    python aiohttp_app.py --port 8000 --uvloop     uvloop.run() and an AppRunner instead

/health and /orders/{id} are fast; /report calls a synchronous client, /export serializes
every order with json.dumps, and /notify queues one short callback per follower.
"""

import argparse
import asyncio
import hashlib
import json
import time

from aiohttp import web

ORDERS = [
    {"id": i, "qty": 1 + i % 5, "price": round(3.5 + (i % 200) * 0.25, 2)} for i in range(30_000)
]
FOLLOWERS = range(60)
OUTBOX: list[str] = []


def fetch_report_rows(day: str) -> list[dict]:
    time.sleep(0.15)  # a synchronous database driver blocks the same way
    return [{"day": day, "orders": len(ORDERS)}]


def push_notification(user_id: int, text: str) -> None:
    body = "".join(f"<p>{text} (update {n}) for user {user_id}</p>" for n in range(1500))
    OUTBOX.append(hashlib.sha256(body.encode()).hexdigest())


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def order(request: web.Request) -> web.Response:
    return web.json_response(ORDERS[int(request.match_info["order_id"]) % len(ORDERS)])


async def report(request: web.Request) -> web.Response:
    return web.json_response(fetch_report_rows(request.query.get("day", "today")))


async def export(request: web.Request) -> web.Response:
    return web.Response(text=json.dumps(ORDERS), content_type="application/json")


async def notify(request: web.Request) -> web.Response:
    loop = asyncio.get_running_loop()
    for user_id in FOLLOWERS:
        loop.call_soon(push_notification, user_id, "Your order has shipped")
    return web.json_response({"queued": len(FOLLOWERS)})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get(r"/orders/{order_id:\d+}", order)
    app.router.add_get("/report", report)
    app.router.add_get("/export", export)
    app.router.add_post("/notify", notify)
    return app


async def serve(port: int) -> None:
    runner = web.AppRunner(make_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()  # until Ctrl-C or SIGTERM
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(serve(args.port))
    else:
        web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None)
