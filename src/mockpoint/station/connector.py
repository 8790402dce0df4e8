"""The connector status machine of OCPP 1.6 §4.9 StatusNotification, drawn as data.

Everything that decides a connector's status lives in this file, the way h11's ``_state.py``
holds its whole state machine. A :class:`Connector` keeps its reported ``status`` plus a few
*facts* (cable plugged in, an id presented, a transaction running, operative, reserved, ...).
An event (:class:`ConnectorEvent`) is looked up in :data:`TRANSITIONS` by (status, event):
absent means refused with :class:`InvalidTransition`; present gives the next status. Two
events do not have a fixed target and are listed in :data:`RESTORING` instead: clearing a
fault (OCPP 1.6 §4.9 transitions I1-I8) and becoming operative again (H1-H2) return to the
status the facts give, which :meth:`Connector.status_from_facts` computes. Facts also refuse
events a status alone would allow, e.g. unplugging when only an id was presented.

Transition codes in comments are those of the §4.9 table: the letter is the status left
(A Available, B Preparing, C Charging, D SuspendedEV, E SuspendedEVSE, F Finishing,
G Reserved, H Unavailable, I Faulted), the digit the status reached (1 Available ...
9 Faulted). Every status change in :data:`TRANSITIONS` is one the spec lists; entries that
keep the status (``=`` below) change facts only and report nothing.

The table, as :func:`render_table` draws it from :data:`TRANSITIONS` (rows are events,
columns the status the event comes from; a test keeps this copy in step)::

    ======================================================================
    event              Avail Prep  Charg SusEV SusSE Finis Resvd Unav  Fault
    plug_in            Prep  =     -     Charg =     -     Prep  =     =
    unplug             -     Avail -     -     -     Avail -     =     =
    authorize          Prep  =     -     -     -     Prep  Prep  -     -
    ev_disconnect      -     -     SusEV =     =     -     -     -     =
    ev_side_unplug     -     -     SusEV =     =     -     -     -     =
    start              -     Charg -     -     -     -     -     -     -
    stop               -     -     Finis *     *     -     -     -     =
    ev_suspend         -     -     SusEV -     -     -     -     -     =
    ev_resume          -     -     -     Charg -     -     -     -     =
    evse_suspend       -     -     SusSE SusSE -     -     -     -     =
    evse_resume        -     -     -     -     *     -     -     -     =
    preparing_timeout  -     Avail -     -     -     -     -     -     =
    reserve            Resvd -     -     -     -     -     -     -     -
    reservation_end    -     -     -     -     -     -     Avail -     =
    set_inoperative    Unav  -     -     -     -     Unav  Unav  =     =
    set_operative      =     =     =     =     =     =     =     *     =
    fault              Fault Fault Fault Fault Fault Fault Fault Fault =
    clear_fault        -     -     -     -     -     -     -     -     *
    ======================================================================
    =  the status stays (facts may change; no StatusNotification, except
       a fault whose error code changes)
    -  refused: InvalidTransition
    *  the status the facts give (RESTORING)

Connector 0, the charge point as a whole, only takes ``set_inoperative``, ``set_operative``,
``fault`` and ``clear_fault`` (§4.9: its status is Available, Unavailable or Faulted).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from mockpoint.errors import InvalidTransition
from mockpoint.ocpp16.enums import ChargePointErrorCode, ChargePointStatus

__all__ = [
    "CHARGE_POINT_EVENTS",
    "RESTORING",
    "SPEC_ORDER",
    "TRANSITIONS",
    "Connector",
    "ConnectorEvent",
    "InvalidTransition",
    "allowed_events",
    "render_table",
]


class ConnectorEvent(StrEnum):
    """Something that happens to a connector; the station decides when, this file what follows."""

    #: a cable is connected between the connector and an EV
    PLUG_IN = "plug_in"
    #: the cable is removed from the charge point's socket (B1, F1); never during a
    #: transaction, whose cable leaves the EV first (EV_SIDE_UNPLUG or EV_DISCONNECT)
    UNPLUG = "unplug"
    #: an id tag was accepted (local or Authorize.conf) or a RemoteStartTransaction accepted,
    #: with no transaction running yet
    AUTHORIZE = "authorize"
    #: the cable is removed during a transaction that goes on: StopTransactionOnEVSideDisconnect
    #: is false (§9.1.23), so the EV counts as suspended until it is plugged in again
    EV_DISCONNECT = "ev_disconnect"
    #: the cable leaves the EV during a transaction that is about to stop
    #: (StopTransactionOnEVSideDisconnect true, §9.1.23): the EV takes nothing more
    #: (SuspendedEV) while the cable is still in the charge point's socket, so the STOP that
    #: follows ends in Finishing, and UNPLUG when the cable leaves the socket (OCTT TC_005_1)
    EV_SIDE_UNPLUG = "ev_side_unplug"
    #: StartTransaction was sent: cable and (if required) authorization are both there
    START = "start"
    #: the transaction stopped while the cable is still in (local, remote, reset, ...)
    STOP = "stop"
    #: the EV stops taking energy during a transaction (e.g. its battery is full)
    EV_SUSPEND = "ev_suspend"
    EV_RESUME = "ev_resume"
    #: the EVSE stops offering energy during a transaction (smart charging, invalid id, ...)
    EVSE_SUSPEND = "evse_suspend"
    EVSE_RESUME = "evse_resume"
    #: ConnectionTimeOut elapsed after an authorization without a cable being plugged in
    PREPARING_TIMEOUT = "preparing_timeout"
    #: ReserveNow accepted for this connector
    RESERVE = "reserve"
    #: the reservation expired or was cancelled
    RESERVATION_END = "reservation_end"
    #: ChangeAvailability Inoperative took effect (never during a transaction)
    SET_INOPERATIVE = "set_inoperative"
    #: ChangeAvailability Operative took effect
    SET_OPERATIVE = "set_operative"
    #: a fault that prevents charging was detected
    FAULT = "fault"
    #: the fault is gone
    CLEAR_FAULT = "clear_fault"


_S = ChargePointStatus
_E = ConnectorEvent

#: The statuses in the order of the §4.9 table (A to I).
SPEC_ORDER = (
    _S.AVAILABLE,
    _S.PREPARING,
    _S.CHARGING,
    _S.SUSPENDED_EV,
    _S.SUSPENDED_EVSE,
    _S.FINISHING,
    _S.RESERVED,
    _S.UNAVAILABLE,
    _S.FAULTED,
)
_OPERATIVE_STATUSES = SPEC_ORDER[:7]

#: Events that may happen to a faulted connector. The fault hides the status but not the
#: world: a cable can still be pulled, a transaction still stopped; the facts follow and
#: clearing the fault shows where they ended up (§4.9 I1-I8). Starting anything new
#: (authorize, start, reserve) is refused: ReserveNow answers Faulted (§5.13).
_WHILE_FAULTED = (
    _E.PLUG_IN,
    _E.UNPLUG,
    _E.EV_DISCONNECT,
    _E.EV_SIDE_UNPLUG,
    _E.STOP,
    _E.EV_SUSPEND,
    _E.EV_RESUME,
    _E.EVSE_SUSPEND,
    _E.EVSE_RESUME,
    _E.PREPARING_TIMEOUT,
    _E.RESERVATION_END,
    _E.SET_INOPERATIVE,
    _E.SET_OPERATIVE,
)

#: (status, event) -> the status reached. The single source of truth for which events a
#: status allows; see the module docstring for the rendered table.
TRANSITIONS: dict[tuple[ChargePointStatus, ConnectorEvent], ChargePointStatus] = {
    # Available: usage is initiated by a cable or by an id (A2).
    (_S.AVAILABLE, _E.PLUG_IN): _S.PREPARING,
    (_S.AVAILABLE, _E.AUTHORIZE): _S.PREPARING,
    (_S.AVAILABLE, _E.RESERVE): _S.RESERVED,  # A7
    (_S.AVAILABLE, _E.SET_INOPERATIVE): _S.UNAVAILABLE,  # A8
    # A3-A5 (starting straight from Available) are not used: the station always passes
    # through Preparing, so a CSMS sees the same sequence whatever triggered the session.
    #
    # Preparing: waiting for the other half (cable or id), or for the station to start.
    (_S.PREPARING, _E.PLUG_IN): _S.PREPARING,
    (_S.PREPARING, _E.AUTHORIZE): _S.PREPARING,
    (_S.PREPARING, _E.START): _S.CHARGING,  # B3
    (_S.PREPARING, _E.UNPLUG): _S.AVAILABLE,  # B1: plug removed, intended usage ended
    (_S.PREPARING, _E.PREPARING_TIMEOUT): _S.AVAILABLE,  # B1: ConnectionTimeOut (§9.1)
    # B8 is not in the spec, so ChangeAvailability Inoperative in Preparing has to be
    # Scheduled by the station until the connector leaves Preparing.
    #
    # Charging and the two suspended statuses: a transaction runs.
    (_S.CHARGING, _E.EV_SUSPEND): _S.SUSPENDED_EV,  # C4
    (_S.CHARGING, _E.EVSE_SUSPEND): _S.SUSPENDED_EVSE,  # C5
    (_S.CHARGING, _E.STOP): _S.FINISHING,  # C6
    (_S.SUSPENDED_EV, _E.EV_RESUME): _S.CHARGING,  # D3
    # D5: the EVSE restriction outranks the EV's own pause; when it is lifted the connector
    # goes back to Charging (E3) and the EV suspends again if it still takes nothing. E4
    # (SuspendedEVSE -> SuspendedEV) happens only when the EV was unplugged meanwhile
    # (RESTORING): one suspension is kept at a time.
    (_S.SUSPENDED_EV, _E.EVSE_SUSPEND): _S.SUSPENDED_EVSE,
    # Unplugging during a transaction is never one UNPLUG (no C1/D1/E1): the cable leaves
    # the EV first. With StopTransactionOnEVSideDisconnect true (§9.1.23, the usual setting)
    # that is EV_SIDE_UNPLUG: C4, the EV takes nothing more; the station then stops the
    # transaction (reason EVDisconnected), STOP gives D6 Finishing since the cable is still
    # in the socket, and UNPLUG gives F1 once the cable is out of it: at once when
    # UnlockConnectorOnEVSideDisconnect (§9.1.33) releases it, else when the user pulls it
    # (OCTT TC_005_1). An EVSE suspension stays in force until the stop.
    (_S.CHARGING, _E.EV_SIDE_UNPLUG): _S.SUSPENDED_EV,  # C4
    (_S.SUSPENDED_EV, _E.EV_SIDE_UNPLUG): _S.SUSPENDED_EV,
    (_S.SUSPENDED_EVSE, _E.EV_SIDE_UNPLUG): _S.SUSPENDED_EVSE,
    # With the key false the cable leaves and the transaction stays: C4, the EV can take no
    # energy; plugging it back in resumes charging (D3). An EVSE suspension stays in force.
    (_S.CHARGING, _E.EV_DISCONNECT): _S.SUSPENDED_EV,  # C4
    (_S.SUSPENDED_EV, _E.EV_DISCONNECT): _S.SUSPENDED_EV,
    (_S.SUSPENDED_EVSE, _E.EV_DISCONNECT): _S.SUSPENDED_EVSE,
    (_S.SUSPENDED_EV, _E.PLUG_IN): _S.CHARGING,  # D3
    (_S.SUSPENDED_EVSE, _E.PLUG_IN): _S.SUSPENDED_EVSE,
    # C8/D8/E8 (straight to Unavailable) are not used: ChangeAvailability during a
    # transaction is Scheduled by the station and applied once the connector is free.
    #
    # Finishing: the transaction is over, the cable still in.
    (_S.FINISHING, _E.UNPLUG): _S.AVAILABLE,  # F1
    (_S.FINISHING, _E.AUTHORIZE): _S.PREPARING,  # F2: id presented again, new transaction
    (_S.FINISHING, _E.SET_INOPERATIVE): _S.UNAVAILABLE,  # F8
    #
    # Reserved. Decision (a): plugging in while Reserved goes to Preparing (G2) just like
    # presenting an id does. The connector's reservation is then claimed: the station keeps
    # the reservationId for StartTransaction and lets only the reserved idTag (or its parent)
    # start (§5.13 Reserve Now). Going back to Reserved from Preparing is not in the spec
    # (no B7), so if that session is abandoned the connector ends up Available.
    (_S.RESERVED, _E.PLUG_IN): _S.PREPARING,  # G2
    (_S.RESERVED, _E.AUTHORIZE): _S.PREPARING,  # G2
    (_S.RESERVED, _E.RESERVATION_END): _S.AVAILABLE,  # G1
    # G8: an Unavailable connector cannot honour a reservation, so the reservation is
    # dropped; the station sees ``reserved`` false and discards its record.
    (_S.RESERVED, _E.SET_INOPERATIVE): _S.UNAVAILABLE,
    #
    # Unavailable: a cable can still be plugged in or out; the status shows it only once
    # operative again (RESTORING: H1 or H2). Repeating Inoperative changes nothing.
    (_S.UNAVAILABLE, _E.PLUG_IN): _S.UNAVAILABLE,
    (_S.UNAVAILABLE, _E.UNPLUG): _S.UNAVAILABLE,
    (_S.UNAVAILABLE, _E.SET_INOPERATIVE): _S.UNAVAILABLE,
    # A fault can strike in any status (A9-H9); a second fault may change the error code.
    **{(status, _E.FAULT): _S.FAULTED for status in ChargePointStatus},
    # Operative again while operative: ChangeAvailability is Accepted (§5.2), nothing to report.
    **{(status, _E.SET_OPERATIVE): status for status in _OPERATIVE_STATUSES},
    **{(_S.FAULTED, event): _S.FAULTED for event in _WHILE_FAULTED},
}

#: (status, event) -> the statuses it may lead to, chosen by the facts at that moment.
RESTORING: dict[tuple[ChargePointStatus, ConnectorEvent], frozenset[ChargePointStatus]] = {
    # I1-I8: the fault is resolved, back to whatever the facts now say.
    (_S.FAULTED, _E.CLEAR_FAULT): frozenset(_S) - {_S.FAULTED},
    # H1 (nothing going on) or H2 (a cable was plugged in meanwhile). H3-H5 cannot happen:
    # no transaction runs on an inoperative connector. H6/H7 are not in the spec, which is
    # why going inoperative forgets Finishing and the reservation.
    (_S.UNAVAILABLE, _E.SET_OPERATIVE): frozenset({_S.AVAILABLE, _S.PREPARING}),
    # D6 / E6 with the cable in; D1 / E1 when the EV left earlier (EV_DISCONNECT) and the
    # transaction now stops: nobody needs to unplug, so no Finishing.
    (_S.SUSPENDED_EV, _E.STOP): frozenset({_S.FINISHING, _S.AVAILABLE}),
    (_S.SUSPENDED_EVSE, _E.STOP): frozenset({_S.FINISHING, _S.AVAILABLE}),
    # E3, or E4 when the EV was unplugged during the EVSE suspension.
    (_S.SUSPENDED_EVSE, _E.EVSE_RESUME): frozenset({_S.CHARGING, _S.SUSPENDED_EV}),
}

#: The events connector 0 (the charge point as a whole) takes.
CHARGE_POINT_EVENTS = frozenset({_E.SET_INOPERATIVE, _E.SET_OPERATIVE, _E.FAULT, _E.CLEAR_FAULT})


def allowed_events(status: ChargePointStatus) -> frozenset[ConnectorEvent]:
    """The events ``status`` allows by the table (a connector's facts may still refuse one)."""
    return frozenset(e for (s, e) in (*TRANSITIONS, *RESTORING) if s is status)


_Guard = Callable[["Connector"], bool]

#: Fact preconditions on top of the table: an event the status allows that would make no
#: sense (unplugging what is not plugged in) is refused rather than silently ignored.
_GUARDS: dict[ConnectorEvent, tuple[_Guard, str]] = {
    _E.PLUG_IN: (lambda c: not c.plugged, "a cable is already plugged in"),
    _E.UNPLUG: (lambda c: c.plugged, "no cable is plugged in"),
    _E.AUTHORIZE: (lambda c: not c.authorized, "an id is already authorized"),
    _E.START: (lambda c: c.plugged, "no cable is plugged in"),
    _E.EV_RESUME: (lambda c: c.plugged, "the EV is not plugged in"),
    _E.EV_DISCONNECT: (
        lambda c: c.plugged and c.in_transaction,
        "no transaction with a cable plugged in",
    ),
    _E.EV_SIDE_UNPLUG: (
        lambda c: c.plugged and c.in_transaction,
        "no transaction with a cable plugged in",
    ),
    _E.PREPARING_TIMEOUT: (
        lambda c: c.authorized and not c.plugged,
        "nothing is waiting for a cable",
    ),
}

_ABBREVIATIONS = {
    _S.AVAILABLE: "Avail",
    _S.PREPARING: "Prep",
    _S.CHARGING: "Charg",
    _S.SUSPENDED_EV: "SusEV",
    _S.SUSPENDED_EVSE: "SusSE",
    _S.FINISHING: "Finis",
    _S.RESERVED: "Resvd",
    _S.UNAVAILABLE: "Unav",
    _S.FAULTED: "Fault",
}


def render_table() -> str:
    """:data:`TRANSITIONS` and :data:`RESTORING` as the text table of the module docstring."""
    rule = "=" * 70
    header = " ".join(f"{_ABBREVIATIONS[s]:<5}" for s in SPEC_ORDER)
    lines = [rule, f"{'event':<19}{header}".rstrip()]
    for event in ConnectorEvent:
        cells = []
        for status in SPEC_ORDER:
            target = TRANSITIONS.get((status, event))
            if (status, event) in RESTORING:
                cells.append("*")
            elif target is None:
                cells.append("-")
            elif target is status:
                cells.append("=")
            else:
                cells.append(_ABBREVIATIONS[target])
        lines.append(f"{event.value:<19}" + " ".join(f"{c:<5}" for c in cells).rstrip())
    lines.append(rule)
    return "\n".join(lines)


class Connector:
    """One connector's status and the facts behind it (OCPP 1.6 §4.9 StatusNotification).

    Read the attributes freely; change them only through :meth:`apply`, which keeps status
    and facts in step. ``connector_id`` 0 stands for the charge point as a whole.
    """

    # Slots: a load run holds thousands of these.
    __slots__ = (
        "authorized",
        "connector_id",
        "error_code",
        "ev_suspended",
        "evse_suspended",
        "finishing",
        "in_transaction",
        "info",
        "operative",
        "plugged",
        "reserved",
        "status",
        "vendor_error_code",
    )

    #: The facts behind the status (what :meth:`to_state` saves besides the fault's details).
    FACTS: tuple[str, ...] = (
        "plugged",
        "authorized",
        "in_transaction",
        "ev_suspended",
        "evse_suspended",
        "finishing",
        "operative",
        "reserved",
    )

    def __init__(self, connector_id: int, *, operative: bool = True) -> None:
        if connector_id < 0:
            raise ValueError(f"connector id must be >= 0, got {connector_id}")
        self.connector_id = connector_id
        self.error_code = ChargePointErrorCode.NO_ERROR
        self.info: str | None = None
        self.vendor_error_code: str | None = None
        #: a cable connects the connector and an EV
        self.plugged: bool = False
        #: an id was accepted (or a remote start) and waits for a cable or for START
        self.authorized: bool = False
        self.in_transaction: bool = False
        #: during a transaction, who holds the energy back (at most one of the two)
        self.ev_suspended: bool = False
        self.evse_suspended: bool = False
        #: a transaction ended with the cable still in; the user has to unplug
        self.finishing: bool = False
        self.operative: bool = operative
        self.reserved: bool = False
        self.status = self.status_from_facts()

    def __repr__(self) -> str:
        return (
            f"Connector({self.connector_id}, status={self.status}, "
            f"error_code={self.error_code}, {self._facts_text()})"
        )

    def _facts_text(self) -> str:
        return ", ".join(f"{n}={getattr(self, n)}" for n in self.FACTS)

    def status_from_facts(self) -> ChargePointStatus:
        """The status the facts give (what clearing a fault or going operative returns to)."""
        if self.error_code is not ChargePointErrorCode.NO_ERROR:
            return _S.FAULTED
        return self._status_beneath_fault()

    def _status_beneath_fault(self) -> ChargePointStatus:
        if self.in_transaction:
            if self.evse_suspended:
                return _S.SUSPENDED_EVSE
            return _S.SUSPENDED_EV if self.ev_suspended else _S.CHARGING
        if not self.operative:
            return _S.UNAVAILABLE
        if self.finishing:
            return _S.FINISHING
        if self.plugged or self.authorized:
            return _S.PREPARING
        return _S.RESERVED if self.reserved else _S.AVAILABLE

    def _refusal(self, event: ConnectorEvent) -> str | None:
        """Why ``event`` is refused now ("" when the table itself refuses), or None."""
        if self.connector_id == 0 and event not in CHARGE_POINT_EVENTS:
            return "connector 0 only changes availability and faults"
        key = (self.status, event)
        if key not in TRANSITIONS and key not in RESTORING:
            return ""
        if self.status is _S.FAULTED and event not in (_E.FAULT, _E.CLEAR_FAULT):
            underlying = self._status_beneath_fault()
            if (underlying, event) not in TRANSITIONS and (underlying, event) not in RESTORING:
                return f"not allowed in {underlying} either, which the fault hides"
        guard = _GUARDS.get(event)
        if guard is not None and not guard[0](self):
            return guard[1]
        return None

    def can_apply(self, event: ConnectorEvent) -> bool:
        """Whether :meth:`apply` would accept ``event`` now."""
        return self._refusal(event) is None

    def apply(
        self,
        event: ConnectorEvent,
        *,
        error_code: ChargePointErrorCode | None = None,
        info: str | None = None,
        vendor_error_code: str | None = None,
    ) -> ChargePointStatus | None:
        """Apply ``event``; return the new status if a StatusNotification is due, else None.

        A notification is due when the status changes, or, for :attr:`ConnectorEvent.FAULT`,
        when the error code, ``info`` or ``vendor_error_code`` changes (§4.9: each report
        carries them). ``error_code`` (default OtherError), ``info`` and
        ``vendor_error_code`` go with FAULT only. Raises :class:`InvalidTransition`, leaving
        the connector unchanged, when the status or the facts do not allow the event.
        """
        if event is not _E.FAULT and (error_code, info, vendor_error_code) != (None, None, None):
            raise ValueError("error_code, info and vendor_error_code go with FAULT only")
        if error_code is ChargePointErrorCode.NO_ERROR:
            raise ValueError("a fault needs an error code other than NoError")
        refusal = self._refusal(event)
        if refusal is not None:
            raise InvalidTransition(self.connector_id, self.status, event, refusal)

        before = (self.status, self.error_code, self.info, self.vendor_error_code)
        self._update_facts(event, error_code, info, vendor_error_code)
        target = TRANSITIONS.get((self.status, event))
        self.status = self.status_from_facts() if target is None else target
        after = (self.status, self.error_code, self.info, self.vendor_error_code)
        return self.status if after != before else None

    def _update_facts(
        self,
        event: ConnectorEvent,
        error_code: ChargePointErrorCode | None,
        info: str | None,
        vendor_error_code: str | None,
    ) -> None:
        match event:
            case _E.PLUG_IN:
                self.plugged = True
                # Decision (a), see TRANSITIONS: a cable claims the reservation.
                self.reserved = False
                if self.in_transaction:
                    self.ev_suspended = False  # D3: the EV is back
            case _E.EV_DISCONNECT:
                self.plugged = False
                if not self.evse_suspended:
                    self.ev_suspended = True
            case _E.EV_SIDE_UNPLUG:
                # The cable stays in the socket (``plugged``) until UNPLUG after the stop.
                if not self.evse_suspended:
                    self.ev_suspended = True
            case _E.UNPLUG:
                self.plugged = False
                # B1: a session that had not started is abandoned with its authorization.
                self.authorized = False
                self.finishing = False
            case _E.AUTHORIZE:
                self.authorized = True
                self.reserved = False
                # F2: a new session begins on the cable left in.
                self.finishing = False
            case _E.START:
                self.in_transaction = True
                self.authorized = False
            case _E.STOP:
                self._end_transaction()
                self.finishing = self.plugged
            case _E.EV_SUSPEND:
                self.ev_suspended = True
            case _E.EV_RESUME:
                self.ev_suspended = False
            case _E.EVSE_SUSPEND:
                self.evse_suspended = True
                self.ev_suspended = False
            case _E.EVSE_RESUME:
                self.evse_suspended = False
                self.ev_suspended = not self.plugged
            case _E.PREPARING_TIMEOUT:
                self.authorized = False
            case _E.RESERVE:
                self.reserved = True
            case _E.RESERVATION_END:
                self.reserved = False
            case _E.SET_INOPERATIVE:
                # H6/H7 do not exist: an inoperative connector forgets Finishing and its
                # reservation, and a pending authorization cannot outlive it either.
                self.operative = False
                self.finishing = False
                self.reserved = False
                self.authorized = False
            case _E.SET_OPERATIVE:
                self.operative = True
            case _E.FAULT:
                self.error_code = error_code or ChargePointErrorCode.OTHER_ERROR
                self.info = info
                self.vendor_error_code = vendor_error_code
            case _E.CLEAR_FAULT:
                self.error_code = ChargePointErrorCode.NO_ERROR
                self.info = None
                self.vendor_error_code = None

    def to_state(self) -> dict[str, object]:
        """Status, fault details and facts as JSON values (``station/persist.py``)."""
        state: dict[str, object] = {
            "id": self.connector_id,
            "status": self.status.value,
            "error_code": self.error_code.value,
            "info": self.info,
            "vendor_error_code": self.vendor_error_code,
        }
        state.update({name: getattr(self, name) for name in self.FACTS})
        return state

    def restore_state(
        self,
        status: ChargePointStatus,
        error_code: ChargePointErrorCode,
        info: str | None,
        vendor_error_code: str | None,
        facts: dict[str, bool],
    ) -> None:
        """Take back what :meth:`to_state` saved (a restart, not an event: nothing to report).

        The status always follows from the facts (``status_from_facts``, which the state
        machine tests check after every event), so a saved status that contradicts its facts
        was not saved by this class: ValueError, and the connector is unchanged.
        """
        if set(facts) != set(self.FACTS):
            raise ValueError(f"expected the facts {', '.join(self.FACTS)}")
        probe = Connector(self.connector_id)
        probe.error_code, probe.info, probe.vendor_error_code = error_code, info, vendor_error_code
        for name in self.FACTS:
            setattr(probe, name, facts[name])
        expected = probe.status_from_facts()
        if self.connector_id == 0 and any(facts[n] for n in self.FACTS[:6]):
            raise ValueError("connector 0 has no cable, id or transaction")
        if status is not expected:
            raise ValueError(f"status {status} contradicts its facts (they give {expected})")
        self.error_code, self.info, self.vendor_error_code = error_code, info, vendor_error_code
        for name in self.FACTS:
            setattr(self, name, facts[name])
        self.status = status

    def _end_transaction(self) -> None:
        self.in_transaction = False
        self.ev_suspended = False
        self.evse_suspended = False
