"""``mockpoint serve``: the HTTP control API (docs/serve.md) until Ctrl-C or SIGTERM.

It listens on loopback unless ``--host`` says otherwise, and any other address needs
``--token-file``: every request must then bear the token. It prints "mockpoint serve
listening on <url>" on standard output once it serves, and "mockpoint serve stopped" at the
end.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from pathlib import Path

import click
import uvicorn

from mockpoint.cli.main import cli
from mockpoint.csms.control import is_loopback, read_token
from mockpoint.errors import UsageError
from mockpoint.load.shard import run_loop

#: seconds the requests still running at Ctrl-C or SIGTERM (a long poll) get to end
GRACE = 3


@cli.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on; any but loopback needs --token-file.",
)
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8180,
    show_default=True,
    help="The port (0: any free one, printed when it listens).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file holding the bearer token every request must bear.",
)
def serve(host: str, port: int, token_file: Path | None) -> int:
    """Drive charge points, scenario runs and load runs over HTTP, with a live event
    stream; the API is described at /openapi.json."""
    token = read_token(token_file) if token_file is not None else None
    if token is None and not is_loopback(host):
        raise UsageError(
            f"--host {host}: listening beyond this machine needs --token-file (a bearer token "
            "every request must bear)"
        )
    sock = _bind(host, port)
    return run_loop(_serve(sock, token))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


async def _serve(sock: socket.socket, token: str | None) -> int:
    from mockpoint.serve.app import create_app
    from mockpoint.serve.hub import Hub

    hub = Hub()
    app = create_app(hub, token=token)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
        timeout_graceful_shutdown=GRACE,
    )
    server = uvicorn.Server(config)

    def stop() -> None:
        server.should_exit = True
        hub.events.close()  # event streams never end by themselves

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(signum, stop)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    # Server._serve, not serve(): serve() would take over SIGINT and SIGTERM and raise them
    # again at the end, so that the command could not end with its own message and code.
    serving = asyncio.create_task(server._serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(f"mockpoint serve listening on http://{shown}:{port}", flush=True)
    await serving
    print("mockpoint serve stopped", flush=True)
    return 0
