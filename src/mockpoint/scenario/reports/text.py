"""Text shared by the reports: how a frame, a value, a duration and a failure read.

Every report describes frames the same way, so a CSMS engineer who reads a failure in the
console finds the same words in the JUnit text and the Markdown summary. Frames come from a
peer that may be broken, so nothing here assumes a frame is well formed: a raw
text frame, a short array or a CALLERROR without a description is described, never raised
on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mockpoint.ocpp16.summary import summarize
from mockpoint.rpc.frames import MessageType
from mockpoint.scenario.outcome import FrameRecord, ScenarioOutcome, Status, StepOutcome

FrameKind = Literal["call", "result", "error", "raw", "malformed"]

#: OCPP-J 1.6 §4.1.3 message type numbers.
_CALL, _CALLRESULT, _CALLERROR = MessageType.CALL, MessageType.CALLRESULT, MessageType.CALLERROR

#: How many frames after the failing step's ``frames_before`` the failure text also shows:
#: the answer that arrives just after a failure often explains it.
FRAMES_AFTER = 3


@dataclass(frozen=True)
class FrameView:
    """What a report needs to say about one frame."""

    record: FrameRecord
    kind: FrameKind
    #: the CALL's action; for a CALLRESULT or CALLERROR, the action of the CALL it answers
    #: when that CALL was seen, else None
    action: str | None = None
    #: the CALLERROR's error code
    code: str | None = None

    @property
    def outgoing(self) -> bool:
        return self.record.direction == "out"

    @property
    def arrow(self) -> str:
        return "CP → CSMS" if self.outgoing else "CSMS → CP"

    @property
    def label(self) -> str:
        """``BootNotification``, ``BootNotification ✓``, ``Heartbeat ✗ NotImplemented``."""
        action = self.action or "?"
        if self.kind == "call":
            return action
        if self.kind == "result":
            return f"{action} ✓"
        if self.kind == "error":
            return f"{action} ✗ {self.code}"
        return "(raw text)" if self.kind == "raw" else "(malformed)"

    def summary(self) -> str:
        """A few words for the payload (``summarize``), or the frame itself when it has none."""
        frame = self.record.frame
        if self.kind in ("call", "result"):
            payload = frame[3] if self.kind == "call" else frame[2]
            if self.action is None:
                return compact(payload)
            try:
                return summarize(self.action, payload, response=self.kind == "result")
            except (LookupError, TypeError, AttributeError, ValueError):
                # A summary is decoration: a payload shaped in a way summarize() did not
                # foresee (a CSMS's mistake) still gets shown, as JSON.
                return compact(payload)
        if self.kind == "error":
            description = frame[3] if len(frame) > 3 else ""
            return f"{description}".strip() or compact(frame)
        return self.full()

    def full(self) -> str:
        """The whole frame as compact JSON (a raw text frame as a JSON string)."""
        return compact(self.record.frame)


class FrameDescriber:
    """Classifies frames and remembers each CALL's action, so an answer can name it.

    OCPP-J answers carry only the unique id of the CALL (§4.2.2), so the action of a
    CALLRESULT is known only from the CALL seen before it. Actions are remembered per charge
    point and per direction, and not forgotten when answered: describing the same frames
    again (the frames before a failure) then still names them.
    """

    def __init__(self) -> None:
        self._actions: dict[tuple[str, str, str], str] = {}

    def describe(self, record: FrameRecord) -> FrameView:
        frame = record.frame
        if isinstance(frame, str):
            return FrameView(record, "raw")
        if not isinstance(frame, list) or len(frame) < 3 or not isinstance(frame[1], str):
            return FrameView(record, "malformed")
        kind, unique_id = frame[0], frame[1]
        if kind == _CALL and len(frame) == 4 and isinstance(frame[2], str):
            self._actions[(record.cp, record.direction, unique_id)] = frame[2]
            return FrameView(record, "call", action=frame[2])
        # An answer travels the other way from the CALL it answers.
        caller = "in" if record.direction == "out" else "out"
        action = self._actions.get((record.cp, caller, unique_id))
        if kind == _CALLRESULT and len(frame) == 3:
            return FrameView(record, "result", action=action)
        if kind == _CALLERROR and len(frame) >= 4 and isinstance(frame[2], str):
            return FrameView(record, "error", action=action, code=frame[2])
        return FrameView(record, "malformed")

    def describe_all(self, records: list[FrameRecord]) -> list[FrameView]:
        return [self.describe(record) for record in records]


def describe_frames(records: list[FrameRecord]) -> list[FrameView]:
    """Describe ``records`` in order, pairing answers with the CALLs among them."""
    return FrameDescriber().describe_all(records)


def frame_line(view: FrameView, *, full: bool = True) -> str:
    """One plain-text line per frame: seq, virtual time, direction, label, payload."""
    record = view.record
    detail = view.full() if full else view.summary()
    return one_line(
        f"{record.seq:>5}  {record.virtual_time}  {view.arrow}  {view.label:<28} {detail}"
    )


def frames_around(scenario: ScenarioOutcome | None, step: StepOutcome) -> list[FrameRecord]:
    """The frames after ``step.frames_before`` in ``scenario.frames``, at most FRAMES_AFTER.

    Empty when the step recorded no frames before it or they cannot be found: the runner
    owns what "around" means, this only adds the answer that may follow.
    """
    if scenario is None or not step.frames_before:
        return []
    last = step.frames_before[-1]
    for position, record in enumerate(scenario.frames):
        if record == last:
            return scenario.frames[position + 1 : position + 1 + FRAMES_AFTER]
    return []


def failure_text(step: StepOutcome, scenario: ScenarioOutcome | None = None) -> str:
    """Everything about one failing step, as plain text for the JUnit failure body."""
    tolerated = " (tolerated by continue_on_failure)" if step.tolerated else ""
    lines = [f"step {step.index} {step.label} at {step.location}: {step.status}{tolerated}"]
    if step.message:
        lines += [f"  {line}" for line in step.message.splitlines()]
    for name, value in (("expected", step.expected), ("actual", step.actual)):
        if value is not None:
            lines.append(f"  {name}:")
            lines += [f"    {line}" for line in pretty(value).splitlines()]
    describer = FrameDescriber()
    if step.frames_before:
        lines.append("  frames before:")
        lines += [f"  {frame_line(view)}" for view in describer.describe_all(step.frames_before)]
    after = frames_around(scenario, step)
    if after:
        lines.append("  frames after:")
        lines += [f"  {frame_line(view)}" for view in describer.describe_all(after)]
    return "\n".join(lines)


def step_line(step: StepOutcome) -> str:
    """``passed   12 ms  file:3:5  send BootNotification``: one line per step."""
    status = f"{step.status}{' (tolerated)' if step.tolerated else ''}"
    took = "" if step.status is Status.SKIPPED else duration(step.duration)
    return one_line(f"{status:<20} {took:>8}  {step.location}  {step.label}")


#: How every report names the CSMS requests mockpoint answered NotSupported (docs/behaviour.md,
#: "Charge point behaviour": listed, never a failure).
NOT_SUPPORTED = "not supported here"
#: ... and those it left unanswered because the boot was Rejected.
IGNORED = "not answered while the boot was Rejected (§4.2)"


def tallied(counted: dict[str, int]) -> str:
    """``SetChargingProfile ×2, UpdateFirmware ×1``: actions and how many of each."""
    return ", ".join(f"{one_line(action)} ×{count}" for action, count in counted.items())


def unanswered_lines(scenario: ScenarioOutcome) -> list[str]:
    """A line for the CSMS requests mockpoint does not implement (answered NotSupported)
    and one for those left unanswered while the boot was Rejected (OCPP 1.6 §4.2); none
    for what did not happen."""
    lines = []
    if scenario.not_supported:
        lines.append(f"{NOT_SUPPORTED}: {tallied(scenario.not_supported)}")
    if scenario.ignored:
        lines.append(f"{IGNORED}: {tallied(scenario.ignored)}")
    return lines


def seed_line(seed: int) -> str:
    """How the reports say a scenario's seed, and what to do with it."""
    return f"seed {seed} (replay with --seed {seed})"


def first_failure(scenario: ScenarioOutcome) -> StepOutcome | None:
    """The first failing step: where the scenario started to go wrong, tolerated or not."""
    failed = scenario.failed_steps
    return failed[0] if failed else None


def short_reason(scenario: ScenarioOutcome) -> str:
    """``file:12:5: first line of the message``: why a scenario did not pass, in one line."""
    step = first_failure(scenario)
    if step is not None:
        return one_line(f"{step.location}: {first_line(step.message) or step.label}")
    if scenario.error:
        return one_line(headline(scenario.error))
    if scenario.reason:
        return one_line(headline(scenario.reason))
    return str(scenario.status)


def headline(error: str) -> str:
    """The line of an error message that says what happened: the first, but the last of a
    Python traceback, where the exception is."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1] if lines[0].startswith("Traceback (most recent call last)") else lines[0]


def jsonable(value: Any) -> Any:
    """``value`` as data JSON can encode: expected and actual values come from the runner
    and may hold tuples, sets, enums, non-string keys or matcher objects."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {
            key if isinstance(key, str) else compact(jsonable(key)): jsonable(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return str(value)


def safe_jsonable(value: Any) -> Any:
    """:func:`jsonable`, or the text of ``value`` when it is nested too deep to walk (a peer
    may send a legal frame nested hundreds of levels deep)."""
    try:
        return jsonable(value)
    except RecursionError:
        try:
            text = repr(value)
        except RecursionError:
            text = f"<{type(value).__name__} nested too deep to show>"
        return text if len(text) <= 2000 else text[:1999] + "…"


def compact(value: Any) -> str:
    """Compact JSON of ``value`` (see :func:`jsonable`)."""
    try:
        return json.dumps(jsonable(value), separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        return str(safe_jsonable(value))


def pretty(value: Any) -> str:
    """Short values on one line, longer ones indented: how expected and actual read."""
    text = compact(value)
    if len(text) <= 100:
        return text
    try:
        return json.dumps(jsonable(value), indent=2, ensure_ascii=False)
    except RecursionError:
        return str(safe_jsonable(value))


def duration(seconds: float) -> str:
    """``12 ms``, ``1.25 s``, ``2 m 5 s``: readable at every scale a run takes."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f} m {rest:.0f} s"


def first_line(text: str | None) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def one_line(text: str) -> str:
    """``text`` with control characters and lone surrogates escaped, so it stays one line
    and encodes as UTF-8 (a raw frame can hold anything)."""
    return _UNPRINTABLE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\u{ord(char):04x}")


_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (§2.2), escaped as ``\\uXXXX``:
    ElementTree would write them and the file would no longer parse."""
    return _XML_ILLEGAL.sub(_escape_char, text)


def counts(scenarios: list[ScenarioOutcome]) -> dict[Status, int]:
    """How many scenarios ended with each status, every status present."""
    result = dict.fromkeys(Status, 0)
    for scenario in scenarios:
        result[scenario.status] += 1
    return result


def display_file(file: str) -> str:
    """The scenario file relative to the working directory when it lies below it, with
    forward slashes: how CI job pages and annotations name files."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            pass
    return path.as_posix()


def make_parent(path: Path) -> None:
    """Create the report's folder: CI configs name report paths in folders not made yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
