"""What ``mockpoint serve`` takes and gives, as pydantic models.

The OpenAPI document (``/openapi.json``, docs/reference/serve-api.md) is generated from
these and from the scenario format's own models (:mod:`mockpoint.scenario.model`), which the
verbs take as their bodies: a verb's body is the mapping under its key in a scenario step.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mockpoint.quantities import Duration, PositiveDuration
from mockpoint.scenario.model import ChargePointSpec, ClockSpec, CsmsTarget, Json, ReplyError


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateChargePoint(_Body):
    """A charge point to connect: the ``charge_point``, ``csms``, ``clock`` and ``seed`` of
    a scenario file, and how long to wait for its boot."""

    charge_point: ChargePointSpec = Field(
        default_factory=ChargePointSpec,
        description="id, vendor, model, connectors, configuration (as in a scenario file)",
    )
    csms: str | CsmsTarget | None = Field(
        None,
        description="the CSMS URL, or the long form with its security profile; default: a "
        "mock CSMS of its own, embedded in the server",
    )
    mock_csms: Json | None = Field(
        None, description="configuration of the embedded mock CSMS (when no csms is named)"
    )
    clock: ClockSpec = Field(
        default_factory=lambda: ClockSpec(speed=0.0),
        description="start and speed of the virtual clock, as in a scenario file (default: "
        "speed 0, so `charge` and `wait` take no real time)",
    )
    seed: int | None = Field(
        None, description="seed of the message ids; default: 0 with the embedded mock CSMS"
    )
    timeout: PositiveDuration = Field(30.0, description="default real time to wait for each answer")
    boot: bool = Field(
        True, description="send BootNotification at once and wait (up to timeout) for Accepted"
    )
    state: str | None = Field(
        None,
        description="a state file on the server: start from the state saved there and save "
        "after every change (as `--state`)",
    )
    connect_timeout: PositiveDuration = Field(
        10.0, description="how long to keep retrying the connection before giving up"
    )


class ConnectorView(BaseModel):
    status: str
    error_code: str
    plugged: bool
    transaction_id: int | None
    id_tag: str | None
    energy_wh: float | None = None
    session_energy_wh: float | None = None


class TransactionView(BaseModel):
    connector: int
    transaction_id: int | None = Field(description="null until the CSMS has answered")
    id_tag: str
    meter_start_wh: int


class ChargePointView(BaseModel):
    """A charge point as it stands."""

    id: str
    link: str = Field(description="connecting, open, reconnecting, rebooting, offline, ...")
    connected: bool
    registration: str | None = Field(description="the last boot's answer")
    csms_url: str = Field(description="where it connects (no credentials)")
    embedded_csms: bool = Field(description="whether it talks to a mock CSMS of its own")
    seed: int
    virtual_time: str
    connectors: dict[int, ConnectorView]
    transactions: list[TransactionView]
    queue: list[str] = Field(description="actions waiting to be sent, oldest first")
    in_flight: str | None = Field(description="the action waiting for its answer")
    configuration: dict[str, Any] = Field(description="key: value (secrets shown as ***)")
    frames: int = Field(description="frames so far, both ways")


class StepResult(BaseModel):
    """What a verb did: its verdict, the CSMS's answer, and the frames on the way."""

    status: Literal["passed", "failed"]
    step: str = Field(description="what ran, as a report names it")
    message: str | None = Field(None, description="why it failed")
    cause: str | None = Field(
        None, description="check, refused, invalid or timeout (see docs/serve.md)"
    )
    expected: Any = None
    actual: Any = None
    answer: Any = Field(
        None,
        description="the CSMS's answer payload, or {code, description, details} of its "
        "CALLERROR (exchange verbs)",
    )
    request: Any = Field(None, description="the CSMS's request (await)")
    duration_s: float
    frames: list[dict[str, Any]] = Field(description="the frames of this verb, in order")


class SendBody(_Body):
    action: str = Field(description="any OCPP 1.6 action the charge point sends")
    payload: Json = Field(default_factory=dict, description="fields over the station's defaults")
    invalid: bool = Field(False, description="send it even though it breaks the OCA schema")
    expect: Json | None = Field(None, description="a subset of the answer's payload")
    expect_error: str | None = Field(None, description="the CALLERROR code expected instead")


class SendRawBody(_Body):
    text: str = Field(description="any text frame: broken JSON, a wrong message type, ...")


class WaitBody(_Body):
    seconds: Duration = Field(description="virtual time to let pass (timers fire on the way)")


class IgnoreBody(_Body):
    action: str = Field(description="a CSMS request never to answer from now on")
    count: int | None = Field(None, ge=1, description="only the next N such requests")


class AwaitBody(_Body):
    """Wait for the CSMS: the oldest request of ``action`` not awaited before, or the next
    one to arrive within ``within`` real seconds."""

    action: str = Field(description="a request the CSMS sends, e.g. RemoteStopTransaction")
    within: Duration = Field(30.0, description="real time to wait for it")
    expect: Json | None = Field(None, description="a subset of the request's payload")
    reply: Json | None = Field(
        None, description="the answer to send instead of the station's (a later request)"
    )
    reply_error: str | ReplyError | None = Field(None, description="answer with this CALLERROR")


class UploadedFile(_Body):
    name: str = Field(min_length=1, description="a file name, as reports will show it")
    content: str = Field(description="the scenario file's YAML")


class RunRequest(_Body):
    """Scenario files to run as ``mockpoint run`` runs them."""

    paths: list[str] = Field(default_factory=list, description="files or folders on the server")
    files: list[UploadedFile] = Field(default_factory=list, description="uploaded scenarios")
    pack: str | None = Field(None, description="a built-in pack: ocpp16-csms")
    only: list[str] | None = Field(None, description="with pack: the cases to run")
    csms: str | None = Field(None, description="the CSMS to test (as --csms)")
    variables: dict[str, str] = Field(default_factory=dict, description="${NAME} values")
    tags: dict[str, str] = Field(
        default_factory=dict, description="accepted, accepted2, blocked, expired, invalid"
    )
    charge_point_id: str | None = None
    seed: int | None = None
    csms_driver: str | None = Field(None, description="as --csms-driver")
    csms_lacks: list[str] = Field(default_factory=list, description="as --csms-lacks")
    connect_timeout: Duration = 10.0


class RunView(BaseModel):
    id: str
    status: str = Field(description="running, then passed, failed, unreachable or error")
    exit_code: int | None = Field(description="what `mockpoint run` would exit with")
    counts: dict[str, int] = Field(description="scenarios by status")
    report: dict[str, Any] | None = Field(description="the JSON report, once finished")
    error: str | None = None


class LoadRequest(_Body):
    """A load run, as ``mockpoint load`` runs one."""

    scenario: str | None = Field(None, description="a scenario file on the server")
    file: UploadedFile | None = Field(None, description="or an uploaded scenario")
    charge_points: int = Field(ge=1, description="how many (-n)")
    duration: Duration | None = Field(None, description="stop after this long")
    ramp_up: float | None = Field(None, gt=0, description="charge points started per second")
    loop: bool = Field(False, description="take the steps again until duration")
    csms: str | None = Field(None, description="the CSMS (default: an embedded mock CSMS)")
    id_pattern: str = Field("CP-{n:05d}", description="charge point ids; {n} counts from 1")
    speed: float | None = Field(None, ge=0, description="clock speed")
    seed: int = 0
    workers: int = Field(0, ge=0, description="worker processes; 0: in the server's process")
    variables: dict[str, str] = Field(default_factory=dict)


class LoadView(BaseModel):
    id: str
    status: str = Field(description="running, stopped, finished or error")
    connected: int
    target: int
    statistics: dict[str, Any] | None = Field(description="live figures, as `load --json`")
    error: str | None = None


class ErrorBody(BaseModel):
    """Every error answer: what went wrong, and for a bad body the fields."""

    error: str
    fields: list[dict[str, Any]] | None = Field(
        None, description="for 400: {field, message} of each problem"
    )
