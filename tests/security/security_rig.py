"""What the security-profile tests share: minted certificates, a mock CSMS in a thread of its
own, scenario files and ``mockpoint run`` in-process (OCPP 1.6 security whitepaper,
profiles 1 to 3).

The mock CSMS runs its own event loop in a background thread because ``mockpoint run``
(:func:`mockpoint.cli.main.main`) runs ``asyncio.run`` in the test's thread; everything is on
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import pytest
import trustme

from conftest import TEST_PASSWORDS, UNIT
from mockpoint.cli.main import main
from mockpoint.csms.config import CsmsConfig
from mockpoint.csms.server import MockCsms

PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, ENV_PASSWORD = TEST_PASSWORDS

#: The charge point of the scenarios; the client certificate's CN.
CP_ID = "CP-SEC-1"

_T = TypeVar("_T")


@dataclass(frozen=True)
class Pki:
    """PEM files: a CA, the CSMS's certificate (127.0.0.1 and localhost) and key, a client
    certificate and key signed by the same CA, and a CA that signed nothing here."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


@functools.cache
def _mint(folder: Path) -> Pki:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert(CP_ID.lower(), common_name=CP_ID)
    files = Pki(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        other_ca=folder / "other-ca.pem",
    )
    ca.cert_pem.write_to_path(str(files.ca))
    server.cert_chain_pems[0].write_to_path(str(files.server_cert))
    server.private_key_pem.write_to_path(str(files.server_key))
    client.cert_chain_pems[0].write_to_path(str(files.client_cert))
    client.private_key_pem.write_to_path(str(files.client_key))
    trustme.CA().cert_pem.write_to_path(str(files.other_ca))
    return files


def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """The session's certificates, minted once."""
    folder = tmp_path_factory.getbasetemp() / "pki"
    folder.mkdir(exist_ok=True)
    return _mint(folder)


class CsmsThread:
    """A :class:`MockCsms` serving from a background thread with its own event loop.

    ::

        with CsmsThread(passwords={CP_ID: PASSWORD}) as csms:
            main(["run", ..., "--csms", csms.url])
            calls = csms.run(csms.csms.wait_for(CP_ID, "BootNotification", 1))
    """

    def __init__(self, config: CsmsConfig | None = None, **options: Any) -> None:
        self._config = config
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._csms: MockCsms | None = None

    @property
    def csms(self) -> MockCsms:
        assert self._csms is not None, "not started"
        return self._csms

    @property
    def url(self) -> str:
        return self.csms.url

    def run(self, coroutine: Coroutine[Any, Any, _T], timeout: float = 10.0) -> _T:
        """Run ``coroutine`` on the CSMS's loop and return its result (bounded wait)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout * UNIT)

    def __enter__(self) -> Self:
        self._thread.start()

        async def start() -> MockCsms:
            csms = MockCsms(self._config, **self._options)
            await csms.start()
            return csms

        try:
            self._csms = self.run(start())
        except BaseException:
            self._shut_down()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._csms is not None:
                self.run(self._csms.stop())
        finally:
            self._shut_down()

    def _shut_down(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10 * UNIT)
        self._loop.close()


def scenario(
    folder: Path,
    csms: Mapping[str, object],
    *,
    name: str = "secured",
    cp_id: str = CP_ID,
    steps: str | None = None,
) -> Path:
    """A small scenario file with the ``csms:`` long form given; boots and sends a
    Heartbeat unless ``steps`` says otherwise."""
    lines = [f"name: {name}", "csms:"]
    lines += [f"  {key}: {_yaml(value)}" for key, value in csms.items()]
    lines += [
        f"charge_point: {{id: {cp_id}, connectors: 1}}",
        "clock: {start: 2025-06-01T08:00:00Z, speed: 0}",
        "timeout: 5s",
        "steps:",
    ]
    body = steps or (
        "  - send: BootNotification\n"
        "    expect: {status: Accepted}\n"
        "  - send: Heartbeat\n"
        "    expect: {currentTime: {$type: string}}\n"
    )
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
    return path


def _yaml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def run(*args: str | Path) -> int:
    """``mockpoint run`` in-process; a short connect timeout so refusals end quickly."""
    return main(["run", "--connect-timeout", str(1.0 * UNIT), *map(str, args)])
