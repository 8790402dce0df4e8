"""What a run produced: per scenario, per step, per frame. The reports read only these.

Plain dataclasses, no behaviour beyond summarising, so every report (console, JUnit, JSON,
transcript, Markdown) renders the same facts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from mockpoint.errors import ExitCode
from mockpoint.rpc.frames import Direction, MessageType


@dataclass(frozen=True)
class FrameRecord:
    """One frame on the wire, as the transcript shows it (docs/behaviour.md, "Reports").

    ``direction`` is ``out`` for what the charge point sent and ``in`` for what it received;
    ``frame`` is the parsed JSON, or the raw text when it is not JSON.
    """

    seq: int
    cp: str
    direction: Direction
    frame: Any
    virtual_time: str
    wall_time: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "cp": self.cp,
            "direction": self.direction,
            "frame": self.frame,
            "virtual_time": self.virtual_time,
            "wall_time": self.wall_time,
        }

    @property
    def action(self) -> str | None:
        """The action of a CALL frame, else None."""
        frame = self.frame
        if isinstance(frame, list) and len(frame) >= 3 and frame[0] == MessageType.CALL:
            return str(frame[2])
        return None


class Status(enum.StrEnum):
    PASSED = "passed"
    #: an expectation not met, a timeout, a CALLERROR, a protocol violation by the CSMS
    FAILED = "failed"
    #: not run: an earlier step failed (a step); something it needs was not given, with the
    #: reason (a scenario)
    SKIPPED = "skipped"
    #: the CSMS lacks a feature the scenario tests (``--csms-lacks``, or the CSMS driver said
    #: so); never a failure (scenario level only)
    NOT_APPLICABLE = "not_applicable"
    #: the CSMS could not be reached (scenario level only)
    UNREACHABLE = "unreachable"
    #: mockpoint itself broke (a bug)
    ERROR = "error"


@dataclass
class StepOutcome:
    index: int
    #: the step kind: send, await, plug_in, ...
    kind: str
    #: what the step did, for humans: "send BootNotification", "plug_in connector 1"
    label: str
    #: "file:line:column" of the step
    location: str
    status: Status
    #: real seconds the step took
    duration: float = 0.0
    #: why it failed, one or more lines
    message: str | None = None
    expected: Any = None
    actual: Any = None
    #: the frames just before the failure (empty when it passed)
    frames_before: list[FrameRecord] = field(default_factory=list)
    #: whether the failure was let through by continue_on_failure
    tolerated: bool = False
    #: why it failed: "check", "refused" (the station refused the step in its state),
    #: "invalid" (no such connector, a payload that breaks the schema) or "timeout" (the
    #: CSMS did not answer in time); None when it did not fail
    cause: str | None = None


@dataclass
class ScenarioOutcome:
    name: str
    #: the scenario file
    file: str
    cp: str
    status: Status
    steps: list[StepOutcome] = field(default_factory=list)
    frames: list[FrameRecord] = field(default_factory=list)
    #: real seconds
    duration: float = 0.0
    #: a scenario-level problem (unreachable CSMS, internal error), else None
    error: str | None = None
    #: why the scenario was skipped or is not applicable, else None
    reason: str | None = None
    description: str = ""
    #: the seed of the scenario's ids and randomness: pinned by the file or ``--seed``, else
    #: drawn fresh against a CSMS other than the embedded one (``--seed`` replays it)
    seed: int | None = None
    #: requests of the CSMS that mockpoint does not implement, answered NotSupported (action
    #: -> how many): "not supported here", never a failure (docs/behaviour.md, "Requests
    #: mockpoint does not implement")
    not_supported: dict[str, int] = field(default_factory=dict)
    #: requests of the CSMS left unanswered because the boot was Rejected (§4.2: the charge
    #: point answers none then), action -> how many
    ignored: dict[str, int] = field(default_factory=dict)

    @property
    def failed_steps(self) -> list[StepOutcome]:
        return [step for step in self.steps if step.status is Status.FAILED]


@dataclass
class RunOutcome:
    scenarios: list[ScenarioOutcome] = field(default_factory=list)
    #: real seconds
    duration: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for s in self.scenarios if s.status is status)

    @property
    def exit_code(self) -> ExitCode:
        """4 if mockpoint broke, else 1 if any failed, else 3 if any could not reach its
        CSMS, else 0 (docs/behaviour.md, "Exit codes"). Invalid files, 2, stop the run before
        it starts."""
        statuses = {s.status for s in self.scenarios}
        if Status.ERROR in statuses:
            return ExitCode.INTERNAL
        if Status.FAILED in statuses:
            return ExitCode.FAILED
        if Status.UNREACHABLE in statuses:
            return ExitCode.UNREACHABLE
        return ExitCode.OK
