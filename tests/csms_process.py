"""``mockpoint csms`` in a process of its own, for end-to-end tests that read its frame log."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import UNIT


class Csms:
    """``mockpoint csms`` in its own process, logging every frame."""

    def __init__(self, folder: Path, config: str | None = None) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.log = folder / "csms.jsonl"
        args = [sys.executable, "-m", "mockpoint", "csms", "--port", str(self.port)]
        args += ["--log", str(self.log)]
        if config is not None:
            (folder / "csms.yaml").write_text(config, encoding="utf-8")
            args += ["--config", str(folder / "csms.yaml")]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10 * UNIT
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the mock CSMS did not start")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def frames(self) -> list[dict[str, Any]]:
        text = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
        return [json.loads(line) for line in text.splitlines()]

    def calls(self) -> list[tuple[str, str]]:
        """(unique id, action) of every CALL the CSMS received."""
        return [
            (f["frame"][1], f["frame"][2])
            for f in self.frames()
            if f["direction"] == "in" and isinstance(f["frame"], list) and f["frame"][0] == 2
        ]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
