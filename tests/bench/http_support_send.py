"""A loopback HTTP server for bench_send.py: uvicorn (httptools) with a bare ASGI app that
reads the request and answers 200 at once, in a process of its own (so its CPU is not
the client's). Counts requests and the Idempotency-Keys it saw."""

from __future__ import annotations

import asyncio
import socket
from typing import Any


def serve_in_process(ready: Any, stop: Any, counts: Any) -> None:
    """Target of a multiprocessing.Process: serve until `stop` (an Event) is set; sends
    the port on `ready`; keeps counts[0] = requests, counts[1] = body bytes,
    counts[2] = distinct Idempotency-Keys (a shared Array) up to date."""
    import uvicorn

    keys: set[bytes] = set()
    tally = [0, 0]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
                keys.add(value)
        tally[0] += 1
        tally[1] += size
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http="httptools", loop="uvloop", log_level="warning",
                            access_log=False, backlog=2048, timeout_keep_alive=60)
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        ready.send(sock.getsockname()[1])
        while not stop.is_set():
            counts[0], counts[1], counts[2] = tally[0], tally[1], len(keys)
            await asyncio.sleep(0.005)
        counts[0], counts[1], counts[2] = tally[0], tally[1], len(keys)
        server.should_exit = True
        await serving

    import uvloop

    uvloop.run(main())
