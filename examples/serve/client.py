"""One charging session driven through ``mockpoint serve`` (docs/serve.md) with httpx,
following the charge point's event stream as it goes.

    mockpoint serve &
    python examples/serve/client.py [CHARGE_POINT_ID]      # MOCKPOINT_URL: the server
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import httpx

URL = os.environ.get("MOCKPOINT_URL", "http://127.0.0.1:8180")
CP = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CHARGE_POINT_ID", "CP-PYTHON")


class Failed(Exception):
    pass


async def post(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    """POST a JSON body; the answer, or Failed with the server's message."""
    response = await http.post(path, json=body)
    answer = response.json()
    if response.is_error:
        message = answer.get("message") or answer.get("error")
        raise Failed(f"POST {path}: {response.status_code} {message}")
    return answer


async def verb(http: httpx.AsyncClient, name: str, body: dict[str, Any]) -> Any:
    """Make the charge point act: plug_in, start_transaction, charge..."""
    return await post(http, f"/charge-points/{CP}/{name}", body)


async def frames_until_deleted(events: httpx.Response) -> list[dict[str, Any]]:
    """The frame events of the stream, up to the one saying the charge point was deleted."""
    frames = []
    async for line in events.aiter_lines():
        if not line.startswith("data:"):
            continue  # the event's id and type are in its data too
        event = json.loads(line.removeprefix("data:"))
        if event["type"] == "frame":
            frames.append(event)
        elif event.get("change") == "deleted":
            return frames
    raise Failed("the event stream ended before the charge point was deleted")


async def session(http: httpx.AsyncClient) -> None:
    # The stream answers once it listens: nothing the charge point does is missed.
    params = {"charge_point": CP, "types": "frame,charge_point"}
    async with http.stream("GET", "/events", params=params, timeout=None) as events:
        events.raise_for_status()
        reading = asyncio.create_task(frames_until_deleted(events))
        try:
            await post(http, "/charge-points", {"charge_point": {"id": CP, "connectors": 1}})
            try:
                await verb(http, "plug_in", {"connector": 1})
                started = await verb(http, "start_transaction", {"connector": 1, "id_tag": "TAG-1"})
                await verb(http, "charge", {"connector": 1, "power": "11kW", "duration": "30m"})
                await verb(http, "stop_transaction", {"connector": 1})
                await verb(http, "unplug", {"connector": 1})
                listed = (await http.get(f"/charge-points/{CP}/frames")).raise_for_status()
            finally:
                # Deleting it ends its story in the stream.
                (await http.delete(f"/charge-points/{CP}")).raise_for_status()
            frames = await asyncio.wait_for(reading, 10)
        finally:
            reading.cancel()

    calls = [f["frame"] for f in frames if f["direction"] == "out" and f["frame"][0] == 2]
    order = [call[2] for call in calls if call[2] in ("StartTransaction", "StopTransaction")]
    if order != ["StartTransaction", "StopTransaction"]:
        raise Failed(f"expected StartTransaction then StopTransaction in the stream, saw {order}")
    start = next(call[3] for call in calls if call[2] == "StartTransaction")
    stop = next(call[3] for call in calls if call[2] == "StopTransaction")
    print(
        f"{CP}: transaction {started['answer']['transactionId']}, "
        f"{(stop['meterStop'] - start['meterStart']) / 1000:.2f} kWh, "
        f"{len(frames)} frames in the event stream, {len(listed.json())} listed by the server"
    )


async def main() -> int:
    try:
        async with httpx.AsyncClient(base_url=URL, timeout=60) as http:
            await session(http)
    except (Failed, httpx.HTTPError, TimeoutError, ValueError) as exc:
        print(f"client.py: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
