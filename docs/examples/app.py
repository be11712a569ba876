"""A small order service (Starlette) used by docs/profiling-web-services.md.

    uvicorn app:app --port 8000                      (or: python app.py)
    asynccheck profile -m uvicorn app:app --port 8000  (or: asynccheck profile app.py)

/health and /orders/{id} are fast. Three routes hold the event loop, each in its own way:
    /report   calls a synchronous client (time.sleep stands in for a blocking DB driver)
    /export   serializes 20,000 orders with json.dumps: one C call that holds the GIL
    /notify   queues one short callback per follower; each is quick, together they are not
"""

import asyncio
import contextlib
import hashlib
import json
import time

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ORDERS = [
    {
        "id": i,
        "sku": f"SKU-{i % 977:05d}",
        "qty": 1 + i % 5,
        "price": round(3.5 + (i % 200) * 0.25, 2),
        "status": "shipped" if i % 3 else "open",
    }
    for i in range(20_000)
]
FOLLOWERS = range(60)
OUTBOX: list[str] = []


def fetch_report_rows(day: str) -> list[dict]:
    time.sleep(0.15)  # a synchronous database driver blocks the same way
    return [{"day": day, "orders": len(ORDERS)}]


def push_notification(user_id: int, text: str) -> None:
    body = "".join(f"<p>{text} (update {n}) for user {user_id}</p>" for n in range(1500))
    OUTBOX.append(hashlib.sha256(body.encode()).hexdigest())


async def health(request):
    return JSONResponse({"ok": True})


async def order(request):
    order_id = request.path_params["order_id"]
    return JSONResponse(ORDERS[order_id % len(ORDERS)])


async def report(request):
    rows = fetch_report_rows(request.query_params.get("day", "today"))
    return JSONResponse(rows)


async def export(request):
    body = json.dumps(ORDERS)
    return Response(body, media_type="application/json")


async def notify(request):
    loop = asyncio.get_running_loop()
    for user_id in FOLLOWERS:
        loop.call_soon(push_notification, user_id, "Your order has shipped")
    return JSONResponse({"queued": len(FOLLOWERS)})


async def refresh_prices():
    while True:
        await asyncio.sleep(60)
        ORDERS[0]["price"] = round(ORDERS[0]["price"] * 1.01, 2)


@contextlib.asynccontextmanager
async def lifespan(app):
    # Started at startup and never cancelled at shutdown: the report lists it as left behind.
    app.state.refresher = asyncio.create_task(refresh_prices(), name="refresh-prices")
    yield


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/orders/{order_id:int}", order),
        Route("/report", report),
        Route("/export", export),
        Route("/notify", notify, methods=["POST"]),
    ],
    lifespan=lifespan,
)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000, log_level="warning")
