"""Send a bounded load to the example service and print how long requests took.

    python load.py [http://127.0.0.1:8000] [--requests 400]

Twenty clients ask for fast routes; every 50th request is a slow one (/report, /export or
/notify, in turn). Prints the latency of the fast requests, which is what users feel.
"""

import argparse
import asyncio
import statistics
import time

import httpx

SLOW = [("GET", "/report"), ("GET", "/export"), ("POST", "/notify")]


async def main(base_url: str, requests: int, clients: int) -> None:
    plan = []
    for i in range(requests):
        if i % 50 == 25:
            plan.append(SLOW[(i // 50) % len(SLOW)])
        else:
            plan.append(("GET", f"/orders/{i}" if i % 2 else "/health"))
    queue: asyncio.Queue = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    fast: list[float] = []

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            method, path = queue.get_nowait()
            start = time.perf_counter()
            response = await http.request(method, path)
            response.raise_for_status()
            if (method, path) not in SLOW:
                fast.append(time.perf_counter() - start)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    fast.sort()
    p50 = statistics.median(fast) * 1000
    p99 = fast[int(len(fast) * 0.99)] * 1000
    worst = fast[-1] * 1000
    print(
        f"{len(plan)} requests: fast routes p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.base_url, args.requests, args.clients))
