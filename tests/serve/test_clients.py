"""The clients of docs/serve-clients.md (examples/serve: curl, Python, TypeScript) against
``mockpoint serve`` in a process of its own, and the page showing them as they are."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import UNIT

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "examples" / "serve"
PAGE = ROOT / "docs" / "serve-clients.md"

#: the line each client prints at the end
SUMMARY = re.compile(
    r"^(?P<cp>\S+): transaction (?P<tx>\d+), (?P<kwh>\d+\.\d\d) kWh, "
    r"(?P<seen>\d+) frames in the event stream, (?P<listed>\d+) listed by the server$",
    re.MULTILINE,
)

#: each client: its command (run in examples/serve, the charge point id appended), and the
#: programs it needs
COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "curl.sh": (["bash", "curl.sh"], ["bash", "curl", "jq"]),
    "client.py": ([sys.executable, "client.py"], []),
    "client.ts": (["node", "node_modules/.bin/tsx", "client.ts"], ["npm", "node"]),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mockpoint serve --port 0`` in a process of its own: its URL; SIGTERM at the end."""
    folder = tmp_path_factory.mktemp("serve")
    with (folder / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockpoint", "serve", "--port", "0"],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20 * UNIT)
        line = process.stdout.readline() if ready else ""
        match = re.fullmatch(r"mockpoint serve listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, f"{line!r}\n{(folder / 'stderr.txt').read_text()}"
        yield match.group(1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            stdout, _ = process.communicate(timeout=20 * UNIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    errors = (folder / "stderr.txt").read_text()
    assert process.returncode == 0, errors
    assert stdout.splitlines() == ["mockpoint serve stopped"], stdout
    assert "Traceback" not in errors, errors


def needs(programs: list[str]) -> None:
    missing = [program for program in programs if shutil.which(program) is None]
    if "npm" in missing:
        pytest.skip("npm is not installed: the TypeScript client needs its packages (tsx)")
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed")
    if "npm" in programs and not (CLIENTS / "node_modules" / ".bin" / "tsx").exists():
        message = (
            "no examples/serve/node_modules: run npm ci --prefix examples/serve (make unit does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


async def frames_until_deleted(events: httpx.Response) -> list[dict[str, Any]]:
    frames = []
    async for line in events.aiter_lines():
        if line.startswith("data:"):
            event = json.loads(line.removeprefix("data:"))
            if event["type"] == "frame":
                frames.append(event)
            elif event.get("change") == "deleted":
                return frames
    raise AssertionError("the event stream ended before the charge point was deleted")


async def run_client(url: str, cp: str, command: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """What the client printed, and the frame events of ``cp`` as this test saw them."""
    async with httpx.AsyncClient(base_url=url, timeout=10 * UNIT) as http:
        params = {"charge_point": cp, "types": "frame,charge_point"}
        async with http.stream("GET", "/events", params=params, timeout=None) as events:
            watching = asyncio.create_task(frames_until_deleted(events))
            try:
                process = await asyncio.create_subprocess_exec(
                    *command,
                    cp,
                    cwd=CLIENTS,
                    env={**os.environ, "MOCKPOINT_URL": url},
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                try:
                    async with asyncio.timeout(40 * UNIT):
                        stdout, stderr = await process.communicate()
                finally:
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
                out = stdout.decode()
                assert process.returncode == 0, f"exit {process.returncode}\n{out}{stderr.decode()}"
                async with asyncio.timeout(10 * UNIT):
                    frames = await watching
            finally:
                watching.cancel()
        held = (await http.get("/charge-points")).raise_for_status().json()
    assert cp not in [each["id"] for each in held]
    return out, frames


@pytest.mark.slow
@pytest.mark.parametrize("client", list(COMMANDS))
async def test_the_client_takes_a_session_and_follows_its_events(server: str, client: str) -> None:
    command, programs = COMMANDS[client]
    needs(programs)
    cp = f"CP-{client.replace('.', '-').upper()}"
    out, frames = await run_client(server, cp, command)

    summary = SUMMARY.search(out)
    assert summary, out
    calls = {f["frame"][1]: f["frame"][2] for f in frames if f["frame"][0] == 2}
    answered = [
        f["frame"][2]
        for f in frames
        if f["frame"][0] == 3 and calls.get(f["frame"][1]) == "StartTransaction"
    ]
    assert len(answered) == 1
    assert summary["cp"] == cp
    assert int(summary["tx"]) == answered[0]["transactionId"]
    assert summary["kwh"] == "5.50"  # 11 kW for 30 minutes
    # The client counted in the stream every frame the server listed before the delete.
    assert int(summary["seen"]) == int(summary["listed"]) == len(frames)
    actions = [a for a in calls.values() if a in ("StartTransaction", "StopTransaction")]
    assert actions == ["StartTransaction", "StopTransaction"]


@pytest.mark.parametrize(
    ("name", "language"), [("curl.sh", "sh"), ("client.py", "python"), ("client.ts", "ts")]
)
def test_the_page_shows_the_client_as_it_is(name: str, language: str) -> None:
    page = PAGE.read_bytes().decode("utf-8")
    link = re.escape(f"[`examples/serve/{name}`](../examples/serve/{name}):")
    blocks = re.findall(rf"^{link}\n\n```{language}\n(.*?)^```$", page, re.M | re.S)
    assert len(blocks) == 1, f"docs/serve-clients.md: one ```{language} block after {name}'s link"
    assert blocks[0] == (CLIENTS / name).read_bytes().decode("utf-8")


def test_the_typescript_client_pins_tsx_and_names_no_registry() -> None:
    package = json.loads((CLIENTS / "package.json").read_text(encoding="utf-8"))
    lock = (CLIENTS / "package-lock.json").read_text(encoding="utf-8")
    version = package["devDependencies"]["tsx"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin tsx to one version"
    assert json.loads(lock)["packages"]["node_modules/tsx"]["version"] == version
    assert package["scripts"]["client"] == "tsx client.ts"
    assert "http" not in lock and '"resolved"' not in lock  # see examples/serve/.npmrc
