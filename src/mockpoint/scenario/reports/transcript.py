"""``--transcript FILE``: every frame of a run as JSON Lines (docs/behaviour.md, "Reports").

One object per line, keys in this order::

    {"seq":1,"cp":"CP-001","direction":"out","frame":[2,"…","BootNotification",{…}],
     "virtual_time":"2025-06-01T08:00:00Z","wall_time":"…"}

The charge point's frames of two runs with the same seed and ``clock.start`` are
byte-identical (docs/behaviour.md, "Time and ids"), so the encoding is fixed: compact separators,
non-ASCII text as UTF-8, no sorting. Each line is flushed as it is written: a run that
hangs or is killed leaves the frames up to that point behind, which is when they matter.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import TextIO

from mockpoint.scenario.outcome import FrameRecord
from mockpoint.scenario.reports.text import make_parent


def transcript_line(record: FrameRecord) -> str:
    """One transcript line of ``record``, without the newline."""
    return json.dumps(record.to_json(), separators=(",", ":"), ensure_ascii=False)


class TranscriptWriter:
    """Appends frames to a JSON Lines file, opened (and truncated) when created.

    Frames of every scenario of a run go into the one file, in the order written.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        make_parent(self.path)
        # A lone surrogate (from a CSMS's broken string) cannot be UTF-8; written as
        # \\udXXX it stays a valid JSON escape of the same string.
        self._file: TextIO = self.path.open(
            "w", encoding="utf-8", errors="backslashreplace", newline="\n"
        )

    def write(self, record: FrameRecord) -> None:
        """Append ``record`` as one line and flush it."""
        self._file.write(transcript_line(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file; closing twice is harmless."""
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def __enter__(self) -> TranscriptWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
