"""The mock CSMS's frame log (``--log FILE``): JSON Lines, one record per frame."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import TextIO

from mockpoint.clock import Clock, format_timestamp
from mockpoint.ocpp16.secrets import redact_frame
from mockpoint.rpc.frames import WireFrame

logger = logging.getLogger("mockpoint.csms.server")


class FrameLog:
    """Every frame as a JSON Lines record, flushed line by line (``tail -f`` works).

    ``{"seq": n, "cp": id, "direction": "in"|"out", "frame": <parsed JSON or the raw text>,
    "virtual_time": <the injected clock>, "wall_time": <ISO 8601 UTC>}``; ``direction`` is
    from the CSMS's point of view (``in`` = received by the CSMS). A path is truncated when
    opened, so ``seq`` counts from 1 in each file.
    """

    def __init__(self, target: str | os.PathLike[str] | TextIO, clock: Clock) -> None:
        if isinstance(target, str | os.PathLike):
            self._file: TextIO = open(target, "w", encoding="utf-8")  # noqa: SIM115
            self._owned = True
        else:
            self._file = target
            self._owned = False
        self._clock = clock
        self._seq = 0
        self._broken = False

    def write_frame(self, cp_id: str, wire: WireFrame) -> None:
        """Log a frame as the connection decoded it."""
        if self._broken:
            return
        self._seq += 1
        record = {
            "seq": self._seq,
            "cp": cp_id,
            "direction": wire.direction,
            "frame": redact_frame(wire.data()),
            "virtual_time": format_timestamp(self._clock.now()),
            "wall_time": datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
        }
        try:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()
        except (OSError, ValueError) as exc:
            # A full disk must not take the connections down with it: stop logging, say so.
            self._broken = True
            logger.error("frame log disabled: %s", exc)

    def close(self) -> None:
        if self._owned:
            self._file.close()
