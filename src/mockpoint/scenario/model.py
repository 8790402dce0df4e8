"""The scenario format, v1 (docs/scenario-format.md), as typed models.

These models are the single source of the format: the loader validates YAML into them and
``mockpoint schema`` prints their JSON Schema for editors. Every model forbids unknown keys.

Durations are ``500ms``, ``30s``, ``5m``, ``2h`` or a number of seconds; power is ``7.4kW``,
``11000W`` or a number of watts; energy ``20kWh``, ``500Wh`` or a number of watt-hours
(:mod:`mockpoint.quantities`, the one grammar of them, whose names stay importable here).
Strings may hold ``${name}``: a variable saved by an earlier step, or else an environment
variable; they are resolved when the step runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from mockpoint.ocpp16.enums import ChargePointErrorCode, Reason
from mockpoint.quantities import Duration as Duration
from mockpoint.quantities import Energy as Energy
from mockpoint.quantities import Power as Power
from mockpoint.quantities import parse_duration as parse_duration
from mockpoint.quantities import parse_energy as parse_energy
from mockpoint.quantities import parse_power as parse_power

#: A JSON object as the scenario writes it: an OCPP payload, a subset to expect, ...
Json = dict[str, Any]
ConnectorId = Annotated[int, Field(ge=0, description="0 is the charge point as a whole")]
Outlet = Annotated[int, Field(ge=1, description="a connector number, 1 to connectors")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# --- the header ---------------------------------------------------------------------------


class CsmsTarget(_Model):
    """Where the CSMS is and how to reach it (OCPP 1.6 security whitepaper profiles)."""

    url: str = Field(description="ws:// or wss:// URL; the charge point id is appended")
    security_profile: Literal[0, 1, 2, 3] = Field(
        0, description="0 none, 1 Basic auth over ws, 2 Basic auth over TLS, 3 mutual TLS"
    )
    password: str | None = Field(None, description="Basic auth password; never printed")
    ca: str | None = Field(None, description="CA certificate (PEM) to verify the CSMS")
    cert: str | None = Field(None, description="client certificate (PEM), profile 3")
    key: str | None = Field(None, description="client private key (PEM), profile 3")
    insecure: bool = Field(
        False, description="do not verify the CSMS's TLS certificate (prints a warning)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> CsmsTarget:
        # Each message starts with the field to fix, which the loader reports it at
        # (``csms.password: ...``); a model validator can raise only one of them.
        scheme = self.url.split(":", 1)[0].lower()
        literal = "${" not in self.url
        profile = self.security_profile
        if literal and scheme not in ("ws", "wss"):
            raise ValueError(f"url: a CSMS URL starts with ws:// or wss://, got {self.url!r}")
        if profile in (1, 2) and not self.password:
            raise ValueError(f"password: security profile {profile} needs a password")
        if literal and profile >= 2 and scheme != "wss":
            raise ValueError(f"url: security profile {profile} needs a wss:// URL")
        if literal and profile == 1 and scheme != "ws":
            raise ValueError("url: security profile 1 is Basic auth over ws://; over TLS it is 2")
        if profile == 3 and not self.cert:
            raise ValueError("cert: security profile 3 needs a client certificate (cert and key)")
        if profile == 3 and not self.key:
            raise ValueError("key: security profile 3 needs the client certificate's private key")
        return self


class ChargePointSpec(_Model):
    id: str = Field("CP-001", min_length=1, max_length=48)
    vendor: str = Field("mockpoint", min_length=1, max_length=20)
    model: str = Field("Simulator", min_length=1, max_length=20)
    serial_number: str | None = Field(None, max_length=25)
    firmware_version: str | None = Field(None, max_length=50)
    connectors: int = Field(1, ge=1, le=100)
    configuration: dict[str, str | int | bool | list[str]] = Field(
        default_factory=dict,
        description="overrides of the standard configuration keys (read-only ones too)",
    )


class ClockSpec(_Model):
    start: datetime | None = Field(
        None,
        description=(
            "virtual start time; default: 2025-06-01T08:00:00Z against the embedded mock "
            "CSMS, the wall time when the run starts against any other CSMS"
        ),
    )
    speed: float = Field(
        1.0, ge=0, description="0: no real waiting; 1: real time; 60: sixty times faster"
    )

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2025-06-01T08:00:00Z")
        return value


# --- steps --------------------------------------------------------------------------------


class Location(_Model):
    """Where a step stands in its file (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class StepBase(_Model):
    """What every step may say besides its kind."""

    kind: ClassVar[str]

    name: str | None = Field(None, description="a label for reports")
    continue_on_failure: bool = False
    timeout: Duration | None = Field(
        None, description="real time to wait for the CSMS (default: the scenario's timeout)"
    )
    _location: Location | None = PrivateAttr(None)

    @property
    def location(self) -> Location | None:
        return self._location

    def at(self, location: Location) -> StepBase:
        """Attach where the step stands in its file (done by the loader)."""
        self._location = location
        return self


class _Exchange(StepBase):
    """Steps that send one request and check its answer."""

    expect: Json | None = Field(None, description="a subset of the answer's payload")
    expect_error: str | None = Field(None, description="the CALLERROR code expected instead")
    save: dict[str, str] | None = Field(
        None, description="variable: dotted path into the answer, e.g. idTagInfo.status"
    )


class SendStep(_Exchange):
    kind = "send"
    send: str = Field(description="any OCPP 1.6 action the charge point sends")
    payload: Json = Field(default_factory=dict, description="fields over the station's defaults")
    invalid: bool = Field(False, description="send it even though it breaks the OCA schema")


class Connector(_Model):
    connector: Outlet = 1


class PlugInStep(StepBase):
    kind = "plug_in"
    plug_in: Connector


class UnplugStep(StepBase):
    kind = "unplug"
    unplug: Connector


class IdTag(_Model):
    id_tag: str = Field(min_length=1, max_length=20)


class AuthorizeStep(_Exchange):
    kind = "authorize"
    authorize: IdTag


class StartTransaction(_Model):
    connector: Outlet = 1
    id_tag: str | None = Field(None, max_length=20, description="default: the last authorized")
    reservation_id: int | None = None


class StartTransactionStep(_Exchange):
    kind = "start_transaction"
    start_transaction: StartTransaction


class Charge(_Model):
    connector: Outlet = 1
    power: Power = Field(
        description="7.4kW, 11000W, or watts the EV draws; 0 pauses a background charge"
    )
    duration: Duration | None = Field(
        None,
        description=(
            "500ms, 30s, 5m, 2h, or seconds of virtual time to draw `power`, after which "
            "the EV draws nothing; without it, a background charge"
        ),
    )


class ChargeStep(StepBase):
    """The EV on the connector draws power during its transaction; MeterValues report it
    every MeterValueSampleInterval of virtual time (OCPP 1.6 §4.7).

    With ``duration`` the step draws ``power`` for that much virtual time and then stops
    drawing (a foreground charge). Without it the EV starts drawing ``power`` now and the
    step returns at once: the EV keeps drawing while the steps after it run (a background
    charge), so connectors can charge at the same time, until the transaction stops, the
    cable is unplugged, a Reset stops the transaction, or another ``charge`` on that
    connector sets a new power (``power: 0`` pauses it). A foreground charge on another
    connector leaves it drawing; one on the same connector replaces it, so that the EV
    draws nothing after it. Drawing needs the connector's transaction, a cable plugged in
    and a charge point that offers energy (not SuspendedEVSE); pausing needs only the
    transaction.
    """

    kind = "charge"
    charge: Charge


class StopTransaction(_Model):
    connector: Outlet = 1
    reason: Reason = Reason.LOCAL


class StopTransactionStep(_Exchange):
    kind = "stop_transaction"
    stop_transaction: StopTransaction


class Fault(_Model):
    connector: ConnectorId = 1
    error_code: ChargePointErrorCode
    info: str | None = Field(None, max_length=50)
    vendor_error_code: str | None = Field(None, max_length=50)


class FaultStep(StepBase):
    kind = "fault"
    fault: Fault


class ClearFault(_Model):
    connector: ConnectorId = 1


class ClearFaultStep(StepBase):
    kind = "clear_fault"
    clear_fault: ClearFault


class Availability(_Model):
    connector: ConnectorId = 1
    type: Literal["Operative", "Inoperative"]


class SetAvailabilityStep(StepBase):
    kind = "set_availability"
    set_availability: Availability


class Session(_Model):
    connector: Outlet = 1
    id_tag: str = Field(min_length=1, max_length=20)
    power: Power = 11_000.0
    duration: Duration = 1800.0
    reason: Reason = Reason.LOCAL


class SessionStep(StepBase):
    kind = "session"
    session: Session


class ReplyError(_Model):
    code: str
    description: str = ""


class AwaitStep(StepBase):
    kind = "await"
    await_: str = Field(alias="await", description="a request the CSMS sends")
    within: Duration | None = Field(None, description="real time to wait for it")
    expect: Json | None = Field(None, description="a subset of the request's payload")
    reply: Json | None = Field(None, description="the answer to send instead of the station's")
    reply_error: str | ReplyError | None = Field(None, description="answer with this CALLERROR")
    save: dict[str, str] | None = Field(None, description="variable: path into the request")
    prompt: str | None = Field(
        None,
        description=(
            "shown while waiting, to the person or automation driving the CSMS: "
            "what it should do now"
        ),
    )


class Disconnect(_Model):
    reconnect_after: Duration | None = Field(
        None, description="virtual time offline; without it, until a `reconnect` step"
    )


class DisconnectStep(StepBase):
    """The connection drops (the charge point goes offline); it reconnects without a new
    boot, as a real charge point does, and delivers what it queued meanwhile."""

    kind = "disconnect"
    disconnect: Disconnect

    @field_validator("disconnect", mode="before")
    @classmethod
    def _bare(cls, value: object) -> object:
        return {} if value is None else value  # `- disconnect:` alone


class Reconnect(_Model):
    pass


class ReconnectStep(StepBase):
    kind = "reconnect"
    reconnect: Reconnect

    @field_validator("reconnect", mode="before")
    @classmethod
    def _bare(cls, value: object) -> object:
        return {} if value is None else value  # `- reconnect:` alone


# --- faults ---------------------------------------------------------------------------------


class CloseExpectation(_Model):
    code: int | None = Field(None, description="the close code the CSMS should use")


class FaultExpectation(_Model):
    """What the CSMS should do in answer to a fault: exactly one of these."""

    callerror: str | None = Field(None, description="answer with this CALLERROR code")
    result: Json | None = Field(None, description="answer with a CALLRESULT containing this")
    close: bool | CloseExpectation | None = Field(None, description="close the connection")
    nothing: bool | None = Field(None, description="neither answer nor close (within timeout)")

    @model_validator(mode="after")
    def _one(self) -> FaultExpectation:
        fields = ("callerror", "result", "close", "nothing")
        given = [k for k in fields if getattr(self, k) not in (None, False)]
        if len(given) != 1:
            raise ValueError("expect one of: callerror, result, close, nothing")
        return self


class _FaultStep(StepBase):
    expect: FaultExpectation | None = Field(
        None, description="what the CSMS should do in answer (within the step's timeout)"
    )


class SendRawStep(_FaultStep):
    kind = "send_raw"
    send_raw: str = Field(description="any text frame: broken JSON, a wrong message type, ...")


class IgnoreStep(StepBase):
    kind = "ignore"
    ignore: str = Field(description="a CSMS request never to answer from now on")
    count: int | None = Field(None, ge=1, description="only the next N such requests")


class Delay(_Model):
    action: str
    by: Duration = Field(description="real time, since it plays against the CSMS's timeout")
    count: int | None = Field(None, ge=1)


class DelayStep(StepBase):
    kind = "delay"
    delay: Delay


class Drop(_Model):
    direction: Literal["in", "out"]
    action: str | None = Field(None, description="frames of this action (default: any)")
    count: int | None = Field(1, ge=1, description="how many frames (null: all)")


class DropStep(StepBase):
    kind = "drop"
    drop: Drop


class Close(_Model):
    code: int = Field(1000, ge=1000, le=4999)
    reason: str = Field("", max_length=123)


class CloseStep(StepBase):
    kind = "close"
    close: Close


class Duplicate(_Model):
    action: str = Field(description="a request the charge point sends")
    payload: Json = Field(default_factory=dict, description="fields over the station's defaults")


class DuplicateStep(_FaultStep):
    """The same CALL twice with the same unique id; ``expect`` is about the second."""

    kind = "duplicate"
    duplicate: Duplicate


class ViolateOneCallRule(_Model):
    actions: list[str] = Field(min_length=2, max_length=2, description="two requests")


class ViolateOneCallRuleStep(_FaultStep):
    """A second CALL before the first is answered (OCPP-J 1.6 §4.1.1 forbids it);
    ``expect`` is about the second."""

    kind = "violate_one_call_rule"
    violate_one_call_rule: ViolateOneCallRule


class RandomFaultsSpec(_Model):
    """Random faults over the whole run, reproducible from ``seed``."""

    seed: int = 0
    latency: tuple[Duration, Duration] | None = Field(
        None, description="[min, max] real time added before each frame is sent"
    )
    drop: float = Field(0.0, ge=0, le=1, description="probability a frame is lost")
    disconnect: float = Field(
        0.0, ge=0, le=1, description="probability, per frame sent, that the connection drops"
    )


class WaitStep(StepBase):
    kind = "wait"
    wait: Duration


#: What ``expect_state.connectors.<n>`` may compare: what the runner reads off each
#: connector (docs/scenario-format.md, ``expect_state``).
CONNECTOR_STATE_KEYS: tuple[str, ...] = (
    "status",
    "error_code",
    "plugged",
    "transaction_id",
    "id_tag",
    "energy_wh",
    "session_energy_wh",
)

ConnectorState = Annotated[
    Json,
    WithJsonSchema(
        {
            "type": "object",
            "properties": {key: {} for key in CONNECTOR_STATE_KEYS},
            "additionalProperties": False,
        }
    ),
]


class ExpectedState(_Model):
    """A subset of the station's state, compared as ``expect`` compares (matchers too)."""

    connectors: dict[int, ConnectorState] | None = Field(
        None,
        description=(
            "connector number (0 is the charge point as a whole): a subset of "
            + ", ".join(CONNECTOR_STATE_KEYS)
        ),
    )
    configuration: dict[str, Any] | None = Field(
        None,
        description=(
            "key: value as GetConfiguration shows it (120 and '120' both match); a standard "
            "key, or one charge_point.configuration sets, spelled as there"
        ),
    )
    connected: Any = Field(None, description="whether the charge point is online: true or false")
    registration: Any = Field(
        None, description="the last boot's answer: Accepted, Pending or Rejected (null before)"
    )


class ExpectStateStep(StepBase):
    """Waits until everything the station queued is sent and answered, then compares the
    station's state at that moment with the mapping. A CSMS may send its next request right
    behind its last answer: what that request changes, and a failure it causes, belong to the
    steps after this one."""

    kind = "expect_state"
    expect_state: ExpectedState


STEP_TYPES: tuple[type[StepBase], ...] = (
    SendStep,
    PlugInStep,
    UnplugStep,
    AuthorizeStep,
    StartTransactionStep,
    ChargeStep,
    StopTransactionStep,
    FaultStep,
    ClearFaultStep,
    SetAvailabilityStep,
    SessionStep,
    AwaitStep,
    WaitStep,
    ExpectStateStep,
    DisconnectStep,
    ReconnectStep,
    SendRawStep,
    IgnoreStep,
    DelayStep,
    DropStep,
    CloseStep,
    DuplicateStep,
    ViolateOneCallRuleStep,
)
STEP_KINDS: tuple[str, ...] = tuple(t.kind for t in STEP_TYPES)


def step_kind(value: object) -> str | None:
    """The kind of a step: its one kind key (None when it has none or several)."""
    if isinstance(value, StepBase):
        return value.kind
    if isinstance(value, dict):
        kinds = [key for key in value if key in STEP_KINDS]
        return kinds[0] if len(kinds) == 1 else None
    return None


Step = Annotated[
    Annotated[SendStep, Tag("send")]
    | Annotated[PlugInStep, Tag("plug_in")]
    | Annotated[UnplugStep, Tag("unplug")]
    | Annotated[AuthorizeStep, Tag("authorize")]
    | Annotated[StartTransactionStep, Tag("start_transaction")]
    | Annotated[ChargeStep, Tag("charge")]
    | Annotated[StopTransactionStep, Tag("stop_transaction")]
    | Annotated[FaultStep, Tag("fault")]
    | Annotated[ClearFaultStep, Tag("clear_fault")]
    | Annotated[SetAvailabilityStep, Tag("set_availability")]
    | Annotated[SessionStep, Tag("session")]
    | Annotated[AwaitStep, Tag("await")]
    | Annotated[WaitStep, Tag("wait")]
    | Annotated[ExpectStateStep, Tag("expect_state")]
    | Annotated[DisconnectStep, Tag("disconnect")]
    | Annotated[ReconnectStep, Tag("reconnect")]
    | Annotated[SendRawStep, Tag("send_raw")]
    | Annotated[IgnoreStep, Tag("ignore")]
    | Annotated[DelayStep, Tag("delay")]
    | Annotated[DropStep, Tag("drop")]
    | Annotated[CloseStep, Tag("close")]
    | Annotated[DuplicateStep, Tag("duplicate")]
    | Annotated[ViolateOneCallRuleStep, Tag("violate_one_call_rule")],
    Discriminator(step_kind),
]


class Scenario(_Model):
    """One scenario file: a charge point, a clock, and the steps it takes."""

    name: str = Field(min_length=1)
    description: str = ""
    csms: str | CsmsTarget | None = Field(
        None, description="CSMS URL (the charge point id is appended), or the long form"
    )
    mock_csms: Json | None = Field(
        None,
        description=(
            "configuration of the embedded mock CSMS, used when no CSMS is named: boot, "
            "id_tags, answers, on_boot, periodic (as in `mockpoint csms --config`)"
        ),
    )
    csms_driver: str | None = Field(
        None,
        description=(
            "a command, or an http(s):// URL to POST to, that makes the CSMS send what an "
            "`await` step waits for, through the CSMS's own API (docs/csms-driver.md); "
            "`--csms-driver` overrides it"
        ),
    )
    charge_point: ChargePointSpec = Field(default_factory=ChargePointSpec)
    clock: ClockSpec = Field(default_factory=ClockSpec)
    seed: int | None = Field(
        None,
        description=(
            "seed of the message ids and of everything random; default: 0 against the "
            "embedded mock CSMS, drawn fresh for every run against any other CSMS"
        ),
    )
    timeout: Duration = Field(30.0, description="default real time to wait for each answer")
    faults: RandomFaultsSpec | None = Field(
        None, description="random latency, drops and disconnects over the whole run"
    )
    steps: list[Step] = Field(min_length=1)
    thresholds: list[str] = Field(
        default_factory=list,
        description=(
            "pass/fail criteria of `mockpoint load`, e.g. 'p99<500ms', 'errors<0.1%', "
            "'StartTransaction.p95<300ms'"
        ),
    )

    @property
    def target(self) -> CsmsTarget | None:
        if isinstance(self.csms, str):
            return CsmsTarget(url=self.csms)
        return self.csms


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the scenario format, for editors."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mockpoint scenario (format v1)"
    return schema
