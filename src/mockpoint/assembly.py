"""One way to build a charge point: its clock and seed, its station, where its CSMS is and
how it reaches it, and the driver over them.

``mockpoint run``, ``load``, ``shell``, ``serve`` and the Python API all build their charge
points here, from a charge point spec (the ``charge_point`` of a scenario file) and a
:class:`Target`, not from a whole scenario.

Time and ids (docs/reference/run.md): against the embedded mock CSMS the seed is 0 and the
clock starts at :data:`PINNED_START`, so two runs give byte-identical transcripts; against
any other CSMS, unless pinned, the seed is drawn from the operating system and the clock
starts at the wall-clock time, as a real charge point's would (:func:`seed_and_start`).
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mockpoint.clock import VirtualClock
from mockpoint.csms.config import CsmsConfig, config_from_mapping
from mockpoint.csms.server import MockCsms
from mockpoint.errors import UsageError
from mockpoint.faults.transport import FaultyTransport, RandomFaults
from mockpoint.ids import IdGenerator
from mockpoint.runtime.charge_point import ChargePoint, Connect, Observer, WireObserver
from mockpoint.runtime.timers import Timers
from mockpoint.scenario import model
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station
from mockpoint.transport.base import Transport
from mockpoint.transport.security import Dial, check_profile, tls_context, uses_basic_auth
from mockpoint.transport.websocket import check_csms_url, connect
from mockpoint.variables import UnknownVariable, resolve

#: Where the virtual clock starts against the embedded mock CSMS, unless the file says.
PINNED_START = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
#: The seed against the embedded mock CSMS, unless the file or ``--seed`` says.
PINNED_SEED = 0


def seed_and_start(
    seed: int | None, start: datetime | None, *, embedded: bool
) -> tuple[int, float]:
    """The seed and the virtual start time (Unix seconds) of a charge point: the ones given
    (by the file, ``--seed``, an API argument), else:

    - against the embedded mock CSMS, seed 0 and :data:`PINNED_START`, so two runs give
      byte-identical transcripts;
    - against any other CSMS, a seed drawn from the operating system and the wall-clock
      time, as a real charge point: its message ids never repeat between runs (a CSMS
      deduplicates retransmissions by message id, OCPP-J 1.6 §4.1.3) and its timestamps
      are not months old (a CSMS takes an old StartTransaction for history).
    """
    if seed is None:
        seed = PINNED_SEED if embedded else secrets.randbits(32)
    if start is not None:
        return seed, start.timestamp()
    return seed, PINNED_START.timestamp() if embedded else time.time()


def new_clock(
    clock: model.ClockSpec, seed: int | None, *, embedded: bool, speed: float | None = None
) -> tuple[int, VirtualClock]:
    """The seed and the virtual clock of a charge point whose file (or request) says
    ``clock`` and ``seed`` (``speed`` overrides the clock's)."""
    seed, start = seed_and_start(seed, clock.start, embedded=embedded)
    return seed, VirtualClock(start, clock.speed if speed is None else speed)


def build_station(
    spec: model.ChargePointSpec, charge_point_id: str, clock: VirtualClock
) -> Station:
    """The station ``spec`` describes, under ``charge_point_id``."""
    identity = Identity(
        charge_point_id,
        vendor=spec.vendor,
        model=spec.model,
        serial_number=spec.serial_number,
        firmware_version=spec.firmware_version,
        connectors=spec.connectors,
    )
    configuration = Configuration(spec.configuration, number_of_connectors=spec.connectors)
    return Station(identity, clock, configuration)


@dataclass(frozen=True)
class Target:
    """Where a charge point's CSMS is and how it reaches it.

    ``security`` is the long form of a scenario's ``csms`` (profile, password, TLS files),
    whose file names are relative to ``folder``; ``${NAME}`` in the URL and the settings
    reads ``variables``, then ``env`` (the environment). ``source`` names where it came from in
    messages (a scenario file, ``serve``).
    """

    url: str
    security: model.CsmsTarget | None = None
    folder: Path = Path(".")
    source: str = "csms"
    variables: Mapping[str, Any] = field(default_factory=dict)
    #: random latency, drops and disconnects over every connection (a scenario's ``faults``)
    faults: model.RandomFaultsSpec | None = None
    #: where ``${NAME}`` looks after ``variables`` (none for ``mockpoint serve``, whose
    #: clients must not read the server's environment)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @property
    def profile(self) -> int:
        return self.security.security_profile if self.security else 0

    def setting(self, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(resolve(value, self.variables, self.env))
        except UnknownVariable as exc:
            raise UsageError(f"{self.source}: csms: {exc}") from None

    def file(self, value: str | None) -> Path | None:
        """A file a setting names: next to the scenario, or where the user is when it came
        through a variable (``--var``, the environment)."""
        resolved = self.setting(value)
        if value is None or resolved is None:
            return None
        return Path(resolved) if "${" in value else self.folder / resolved


def connector(
    target: Target,
    station: Station,
    *,
    connect_timeout: float,
    dial: Dial = connect,
) -> Connect:
    """How the charge point connects: the URL, and the security profile's credentials
    (OCPP 1.6 security whitepaper: 1 Basic auth, 2 Basic auth over TLS, 3 mutual TLS).

    The Basic-auth password is the AuthorizationKey; a new one the CSMS sets is used from the
    next connection on. Passwords are never printed.
    """
    security, profile = target.security, target.profile
    url = str(target.setting(target.url))
    check_csms_url(url, f"{target.source}: csms")  # once more after ${NAME} expansion
    check_profile(url, profile, target.source)
    if security is not None and profile:
        with contextlib.suppress(UsageError):
            station.configuration.set_internal("SecurityProfile", profile)
    ssl_context = None
    if url.startswith("wss://"):
        ssl_context = tls_context(
            ca=target.file(security.ca) if security else None,
            cert=target.file(security.cert) if security and security.cert else None,
            key=target.file(security.key) if security and security.key else None,
            insecure=bool(security and security.insecure),
            source=target.source,
        )
    password = None
    if security is not None and uses_basic_auth(profile):
        password = target.setting(security.password)
        with contextlib.suppress(UsageError):  # a password the key's rules refuse is kept aside
            station.configuration.set_internal("AuthorizationKey", password)
    cp_id = station.identity.charge_point_id
    open_timeout = min(connect_timeout, 10.0)
    spec = target.faults
    faults = RandomFaults(spec.seed, spec.latency, spec.drop, spec.disconnect) if spec else None
    # One generator for the whole run, reconnections included: reproducible. (Only with
    # faults: its state is 2.5 KB, which a load run would pay per charge point.)
    rng = random.Random(spec.seed) if spec else None

    async def make() -> Transport:
        current = None
        if uses_basic_auth(profile):
            current = station.configuration.get("AuthorizationKey") or password
        transport: Transport = await dial(
            url,
            cp_id,
            open_timeout=open_timeout,
            basic_auth_password=current,
            ssl_context=ssl_context,
        )
        if faults is not None and rng is not None:
            transport = FaultyTransport(transport, faults, rng)
        return transport

    return make


def assemble(
    spec: model.ChargePointSpec,
    charge_point_id: str,
    clock: VirtualClock,
    target: Target,
    *,
    ids: IdGenerator,
    call_timeout: float,
    connect_timeout: float,
    observer: Observer | WireObserver | None = None,
    timers: Timers | None = None,
    dial: Dial = connect,
    station: Station | None = None,
) -> ChargePoint:
    """The charge point ``spec`` describes, as ``charge_point_id``, ready to start against
    ``target`` (``station``: one built already, e.g. restored from a state file)."""
    if station is None:
        station = build_station(spec, charge_point_id, clock)
    return ChargePoint(
        station,
        connector(target, station, connect_timeout=connect_timeout, dial=dial),
        clock=clock,
        ids=ids,
        call_timeout=call_timeout,
        connect_timeout=connect_timeout,
        observer=observer,
        timers=timers,
    )


def csms_choice(
    override: str | None,
    target: model.CsmsTarget | None,
    config: CsmsConfig | None = None,
    mock_csms: Mapping[str, Any] | None = None,
) -> tuple[str | None, CsmsConfig | None]:
    """Which CSMS a charge point talks to: the URL named (``override``, a command's
    ``--csms``, else the file's ``csms``), or, when none is, the embedded mock CSMS, with
    ``config`` (``--csms-config``), else the file's ``mock_csms`` block. The one place that
    decides, for run, load, the shell and ``mockpoint serve``."""
    named = override or (target.url if target is not None else None)
    if named is not None:
        return named, None
    if config is None and mock_csms is not None:
        config = config_from_mapping(dict(mock_csms), "mock_csms")
    return None, config


@contextlib.asynccontextmanager
async def csms_url(
    named: str | None, config: CsmsConfig | None, clock: VirtualClock | None = None
) -> AsyncIterator[str]:
    """The URL of the CSMS: ``named``, else that of a mock CSMS embedded for as long as the
    block runs, configured by ``config`` and sharing ``clock`` (so runs against it are
    deterministic end to end)."""
    if named is not None:
        yield named
        return
    async with MockCsms(config=config, clock=clock) as csms:
        yield csms.url
