from __future__ import annotations

import textwrap

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mockpoint.errors import MockpointError
from mockpoint.ocpp16.enums import ChargePointErrorCode, ChargePointStatus
from mockpoint.station import connector as connector_module
from mockpoint.station.connector import (
    CHARGE_POINT_EVENTS,
    RESTORING,
    SPEC_ORDER,
    TRANSITIONS,
    Connector,
    ConnectorEvent,
    InvalidTransition,
    allowed_events,
    render_table,
)

S = ChargePointStatus
E = ConnectorEvent

# OCPP 1.6 §4.9, transcribed on its own so the table is checked against the spec, not itself:
# the letter is the status left, each digit a status that may follow (1 Available .. 9 Faulted).
_SPEC_ROWS = {
    "A": "2345789",
    "B": "134569",
    "C": "145689",
    "D": "135689",
    "E": "134689",
    "F": "1289",
    "G": "1289",
    "H": "123459",
    "I": "12345678",
}
SPEC_VALID = {
    (SPEC_ORDER[ord(letter) - ord("A")], SPEC_ORDER[int(digit) - 1])
    for letter, digits in _SPEC_ROWS.items()
    for digit in digits
}

FAULT_CODES = [c for c in ChargePointErrorCode if c is not ChargePointErrorCode.NO_ERROR]

# Ways to bring a fresh connector into each status, with the different facts a status can
# hide (Preparing by cable or by id, Unavailable with or without a cable, ...).
_BASE_PATHS: list[list[ConnectorEvent]] = [
    [],
    [E.PLUG_IN],
    [E.AUTHORIZE],
    [E.PLUG_IN, E.AUTHORIZE],
    [E.PLUG_IN, E.START],
    [E.PLUG_IN, E.START, E.EV_SUSPEND],
    [E.PLUG_IN, E.START, E.EVSE_SUSPEND],
    [E.PLUG_IN, E.START, E.STOP],
    [E.PLUG_IN, E.START, E.EV_DISCONNECT],
    [E.PLUG_IN, E.START, E.EVSE_SUSPEND, E.EV_DISCONNECT],
    [E.PLUG_IN, E.START, E.EV_SIDE_UNPLUG],
    [E.PLUG_IN, E.START, E.EVSE_SUSPEND, E.EV_SIDE_UNPLUG],
    [E.RESERVE],
    [E.SET_INOPERATIVE],
    [E.SET_INOPERATIVE, E.PLUG_IN],
]
PATHS = _BASE_PATHS + [[*path, E.FAULT] for path in _BASE_PATHS]


def build(path: list[ConnectorEvent], connector_id: int = 1) -> Connector:
    connector = Connector(connector_id)
    for event in path:
        connector.apply(event)
    return connector


def state(connector: Connector) -> tuple[object, ...]:
    return (
        connector.status,
        connector.error_code,
        connector.info,
        connector.vendor_error_code,
        connector.plugged,
        connector.authorized,
        connector.in_transaction,
        connector.ev_suspended,
        connector.evse_suspended,
        connector.finishing,
        connector.operative,
        connector.reserved,
    )


def test_typical_session_by_cable_first() -> None:
    connector = Connector(1)
    assert connector.status is S.AVAILABLE
    assert connector.apply(E.PLUG_IN) is S.PREPARING
    assert connector.apply(E.AUTHORIZE) is None  # still Preparing: nothing to report
    assert connector.apply(E.START) is S.CHARGING
    assert connector.in_transaction
    assert connector.apply(E.STOP) is S.FINISHING
    assert not connector.in_transaction
    assert connector.apply(E.UNPLUG) is S.AVAILABLE
    assert state(connector) == state(Connector(1))


def test_typical_session_by_id_first() -> None:
    connector = Connector(1)
    assert connector.apply(E.AUTHORIZE) is S.PREPARING
    assert connector.apply(E.PLUG_IN) is None
    assert connector.apply(E.START) is S.CHARGING
    assert connector.apply(E.EV_SUSPEND) is S.SUSPENDED_EV
    assert connector.apply(E.EV_RESUME) is S.CHARGING
    assert connector.apply(E.EVSE_SUSPEND) is S.SUSPENDED_EVSE
    assert connector.apply(E.EVSE_RESUME) is S.CHARGING
    assert connector.apply(E.STOP) is S.FINISHING
    assert connector.apply(E.AUTHORIZE) is S.PREPARING  # F2: a new session, cable still in
    assert connector.apply(E.START) is S.CHARGING


@pytest.mark.parametrize(("key", "target"), sorted(TRANSITIONS.items()))
def test_each_table_entry_is_reachable_and_applies(
    key: tuple[ChargePointStatus, ConnectorEvent], target: ChargePointStatus
) -> None:
    status, event = key
    candidates = [build(path) for path in PATHS]
    usable = [c for c in candidates if c.status is status and c.can_apply(event)]
    assert usable, f"no path reaches {status} with {event} allowed"
    for connector in usable:
        before = connector.status
        connector.apply(event, **({"error_code": FAULT_CODES[0]} if event is E.FAULT else {}))
        assert connector.status is target
        assert connector.status is connector.status_from_facts()
        assert connector.status is before or (before, connector.status) in SPEC_VALID


@pytest.mark.parametrize(("key", "targets"), sorted(RESTORING.items()))
def test_each_restoring_entry_reaches_each_of_its_targets(
    key: tuple[ChargePointStatus, ConnectorEvent], targets: frozenset[ChargePointStatus]
) -> None:
    status, event = key
    reached = set()
    for path in PATHS:
        connector = build(path)
        if connector.status is status and connector.can_apply(event):
            reached.add(connector.apply(event))
    assert reached == targets
    assert all((status, target) in SPEC_VALID for target in targets)


def test_every_status_change_in_the_table_is_one_the_spec_lists() -> None:
    changes = {(s, t) for (s, _), t in TRANSITIONS.items() if s is not t}
    assert changes <= SPEC_VALID
    assert all(t is s or (s, t) in SPEC_VALID for (s, _), ts in RESTORING.items() for t in ts)


def test_table_and_restoring_do_not_overlap() -> None:
    assert not set(TRANSITIONS) & set(RESTORING)


def test_allowed_events_is_drawn_from_the_table() -> None:
    assert allowed_events(S.AVAILABLE) == {
        E.PLUG_IN,
        E.AUTHORIZE,
        E.RESERVE,
        E.SET_INOPERATIVE,
        E.SET_OPERATIVE,
        E.FAULT,
    }
    assert E.CLEAR_FAULT in allowed_events(S.FAULTED)
    assert E.SET_OPERATIVE in allowed_events(S.UNAVAILABLE)
    for status in ChargePointStatus:
        expected = {e for (s, e) in TRANSITIONS if s is status}
        expected |= {e for (s, e) in RESTORING if s is status}
        assert allowed_events(status) == expected


def test_module_docstring_shows_the_current_table() -> None:
    assert connector_module.__doc__ is not None
    assert textwrap.indent(render_table(), "    ") in connector_module.__doc__


@pytest.mark.parametrize("path", PATHS, ids=lambda p: "-".join(p) or "fresh")
@pytest.mark.parametrize("event", list(ConnectorEvent))
def test_events_the_table_refuses_raise_and_change_nothing(
    path: list[ConnectorEvent], event: ConnectorEvent
) -> None:
    connector = build(path)
    if event in allowed_events(connector.status):
        return
    before = state(connector)
    with pytest.raises(InvalidTransition) as raised:
        connector.apply(event)
    assert state(connector) == before
    message = str(raised.value)
    assert "connector 1" in message
    assert str(connector.status) in message
    assert str(event) in message
    assert raised.value.status is connector.status
    assert raised.value.event is event


@pytest.mark.parametrize(
    ("path", "event", "reason"),
    [
        ([E.PLUG_IN], E.PLUG_IN, "already plugged"),
        ([E.AUTHORIZE], E.UNPLUG, "no cable"),
        ([E.AUTHORIZE], E.START, "no cable"),
        ([E.PLUG_IN], E.PREPARING_TIMEOUT, "nothing is waiting"),
        ([E.PLUG_IN, E.AUTHORIZE], E.AUTHORIZE, "already authorized"),
        ([E.SET_INOPERATIVE], E.UNPLUG, "no cable"),
        ([E.PLUG_IN, E.FAULT], E.SET_INOPERATIVE, "fault hides"),  # B8 is not in the spec
        ([E.FAULT], E.STOP, "fault hides"),
        # The EV left a transaction that went on: there is no cable to pull out of it.
        ([E.PLUG_IN, E.START, E.EV_DISCONNECT], E.EV_SIDE_UNPLUG, "no transaction with a cable"),
        ([E.PLUG_IN, E.START, E.FAULT], E.UNPLUG, "Charging either"),
    ],
)
def test_facts_refuse_events_the_status_allows(
    path: list[ConnectorEvent], event: ConnectorEvent, reason: str
) -> None:
    connector = build(path)
    assert event in allowed_events(connector.status)
    assert not connector.can_apply(event)
    before = state(connector)
    with pytest.raises(InvalidTransition, match=reason):
        connector.apply(event)
    assert state(connector) == before


def test_invalid_transition_is_a_mockpoint_error() -> None:
    assert issubclass(InvalidTransition, MockpointError)


@pytest.mark.parametrize("suspend", [[], [E.EV_SUSPEND], [E.EVSE_SUSPEND]])
def test_unplug_during_a_transaction_is_refused(suspend: list[ConnectorEvent]) -> None:
    """No C1/D1/E1: the cable leaves the EV first (EV_SIDE_UNPLUG or EV_DISCONNECT)."""
    connector = build([E.PLUG_IN, E.START, *suspend])
    before = state(connector)
    assert E.UNPLUG not in allowed_events(connector.status)
    with pytest.raises(InvalidTransition):
        connector.apply(E.UNPLUG)
    assert state(connector) == before


def test_ev_side_unplug_then_stop_then_unplug_is_the_tc_005_1_sequence() -> None:
    connector = build([E.PLUG_IN, E.START])
    assert connector.apply(E.EV_SIDE_UNPLUG) is S.SUSPENDED_EV  # C4
    assert connector.plugged and connector.in_transaction  # the cable is still in the socket
    assert connector.apply(E.STOP) is S.FINISHING  # D6
    assert connector.plugged and connector.finishing
    assert connector.apply(E.UNPLUG) is S.AVAILABLE  # F1
    assert state(connector) == state(Connector(1))


def test_ev_side_unplug_keeps_an_evse_suspension_until_the_stop() -> None:
    connector = build([E.PLUG_IN, E.START, E.EVSE_SUSPEND])
    assert connector.apply(E.EV_SIDE_UNPLUG) is None  # still SuspendedEVSE: nothing to report
    assert connector.evse_suspended and not connector.ev_suspended
    assert connector.apply(E.STOP) is S.FINISHING  # E6
    assert connector.apply(E.UNPLUG) is S.AVAILABLE


def test_ev_side_unplug_is_only_for_a_transaction() -> None:
    for path in ([], [E.PLUG_IN], [E.PLUG_IN, E.START, E.STOP]):
        with pytest.raises(InvalidTransition):
            build(path).apply(E.EV_SIDE_UNPLUG)


def test_preparing_timeout_after_an_id_without_a_cable() -> None:
    connector = build([E.AUTHORIZE])
    assert connector.apply(E.PREPARING_TIMEOUT) is S.AVAILABLE
    assert not connector.authorized


def test_reservation_paths() -> None:
    connector = build([E.RESERVE])
    assert connector.status is S.RESERVED
    assert connector.apply(E.PLUG_IN) is S.PREPARING  # decision (a): the cable claims it
    assert not connector.reserved
    assert connector.apply(E.UNPLUG) is S.AVAILABLE  # no B7: the claim is not undone

    assert build([E.RESERVE]).apply(E.AUTHORIZE) is S.PREPARING  # G2
    assert build([E.RESERVE]).apply(E.RESERVATION_END) is S.AVAILABLE  # G1
    dropped = build([E.RESERVE])
    assert dropped.apply(E.SET_INOPERATIVE) is S.UNAVAILABLE  # G8
    assert not dropped.reserved
    assert dropped.apply(E.SET_OPERATIVE) is S.AVAILABLE


def test_availability() -> None:
    connector = Connector(1)
    assert connector.apply(E.SET_OPERATIVE) is None  # already operative
    assert connector.apply(E.SET_INOPERATIVE) is S.UNAVAILABLE
    assert connector.apply(E.SET_INOPERATIVE) is None
    assert connector.apply(E.PLUG_IN) is None  # hidden by Unavailable
    assert connector.apply(E.SET_OPERATIVE) is S.PREPARING  # H2
    finishing = build([E.PLUG_IN, E.START, E.STOP])
    assert finishing.apply(E.SET_INOPERATIVE) is S.UNAVAILABLE  # F8
    assert finishing.apply(E.SET_OPERATIVE) is S.PREPARING  # the cable is still in
    assert Connector(1, operative=False).status is S.UNAVAILABLE


@pytest.mark.parametrize("path", _BASE_PATHS, ids=lambda p: "-".join(p) or "fresh")
def test_fault_and_clear_return_to_the_status_before(path: list[ConnectorEvent]) -> None:
    connector = build(path)
    before = connector.status
    status = connector.apply(E.FAULT, error_code=ChargePointErrorCode.GROUND_FAILURE, info="x")
    assert status is S.FAULTED
    assert connector.error_code is ChargePointErrorCode.GROUND_FAILURE
    assert connector.info == "x"
    assert connector.apply(E.CLEAR_FAULT) is before
    assert connector.error_code is ChargePointErrorCode.NO_ERROR
    assert connector.info is None and connector.vendor_error_code is None


def test_clearing_a_fault_follows_what_happened_meanwhile() -> None:
    connector = build([E.PLUG_IN, E.START, E.FAULT])
    # The EV leaves, the transaction stops and the cable comes out, all behind the fault.
    assert connector.apply(E.EV_SIDE_UNPLUG) is None
    assert connector.apply(E.STOP) is None
    assert connector.apply(E.UNPLUG) is None
    assert not (connector.in_transaction or connector.plugged)
    assert connector.apply(E.CLEAR_FAULT) is S.AVAILABLE  # I1

    connector = build([E.PLUG_IN, E.START, E.FAULT])
    assert connector.apply(E.STOP) is None
    assert connector.apply(E.CLEAR_FAULT) is S.FINISHING  # I6

    connector = build([E.FAULT])
    assert connector.apply(E.SET_INOPERATIVE) is None
    assert connector.apply(E.PLUG_IN) is None
    assert connector.apply(E.CLEAR_FAULT) is S.UNAVAILABLE  # I8
    assert connector.apply(E.SET_OPERATIVE) is S.PREPARING


def test_a_faulted_connector_starts_nothing_new() -> None:
    for event in (E.AUTHORIZE, E.START, E.RESERVE):
        with pytest.raises(InvalidTransition):
            build([E.PLUG_IN, E.FAULT]).apply(event)


def test_fault_reports_only_changes() -> None:
    connector = Connector(1)
    code = ChargePointErrorCode.HIGH_TEMPERATURE
    assert connector.apply(E.FAULT, error_code=code) is S.FAULTED
    assert connector.apply(E.FAULT, error_code=code) is None
    assert connector.apply(E.FAULT, error_code=code, vendor_error_code="T1") is S.FAULTED
    assert connector.apply(E.FAULT, error_code=ChargePointErrorCode.OVER_VOLTAGE) is S.FAULTED
    assert connector.vendor_error_code is None
    assert Connector(1).apply(E.FAULT) is S.FAULTED
    default = Connector(1)
    default.apply(E.FAULT)
    assert default.error_code is ChargePointErrorCode.OTHER_ERROR


def test_fault_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="NoError"):
        Connector(1).apply(E.FAULT, error_code=ChargePointErrorCode.NO_ERROR)
    with pytest.raises(ValueError, match="FAULT only"):
        Connector(1).apply(E.PLUG_IN, info="cable")
    with pytest.raises(ValueError):
        Connector(-1)


def test_connector_zero_is_the_charge_point() -> None:
    cp = Connector(0)
    assert cp.status is S.AVAILABLE
    assert cp.apply(E.SET_INOPERATIVE) is S.UNAVAILABLE
    assert cp.apply(E.FAULT, error_code=ChargePointErrorCode.INTERNAL_ERROR) is S.FAULTED
    assert cp.apply(E.SET_OPERATIVE) is None
    assert cp.apply(E.CLEAR_FAULT) is S.AVAILABLE
    assert cp.apply(E.SET_INOPERATIVE) is S.UNAVAILABLE
    assert cp.apply(E.SET_OPERATIVE) is S.AVAILABLE
    for event in set(ConnectorEvent) - CHARGE_POINT_EVENTS:
        with pytest.raises(InvalidTransition, match="connector 0"):
            cp.apply(event)
    assert state(cp) == state(Connector(0))


class ConnectorMachine(RuleBasedStateMachine):
    """Random walks over the table, checking the facts and the reports stay in step."""

    def __init__(self) -> None:
        super().__init__()
        self.connector = Connector(1)

    @rule(data=st.data())
    def allowed_event(self, data: st.DataObject) -> None:
        connector = self.connector
        events = sorted(e for e in allowed_events(connector.status) if connector.can_apply(e))
        assert E.FAULT in events  # there is always something to do
        event = data.draw(st.sampled_from(events), label="event")
        kwargs = {}
        if event is E.FAULT:
            kwargs["error_code"] = data.draw(st.sampled_from(FAULT_CODES), label="error_code")
        before = state(connector)
        result = connector.apply(event, **kwargs)
        after = state(connector)
        reported = before[:4] != after[:4]
        assert (result is not None) == reported
        if result is not None:
            assert result is connector.status
        if before[0] is not after[0]:
            assert (before[0], after[0]) in SPEC_VALID

    @rule(data=st.data())
    def disallowed_event(self, data: st.DataObject) -> None:
        connector = self.connector
        refused = sorted(e for e in ConnectorEvent if not connector.can_apply(e))
        if not refused:
            return
        event = data.draw(st.sampled_from(refused), label="refused event")
        before = state(connector)
        with pytest.raises(InvalidTransition):
            connector.apply(event)
        assert state(connector) == before

    @invariant()
    def status_is_what_the_facts_say(self) -> None:
        connector = self.connector
        assert isinstance(connector.status, ChargePointStatus)
        assert connector.status is connector.status_from_facts()

    @invariant()
    def facts_are_consistent(self) -> None:
        c = self.connector
        charging = c.status in (S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE)
        faulted = c.status is S.FAULTED
        assert charging == (c.in_transaction and not faulted)
        assert faulted == (c.error_code is not ChargePointErrorCode.NO_ERROR)
        if not faulted:
            assert c.info is None and c.vendor_error_code is None
        if c.status is S.AVAILABLE:
            assert not (c.plugged or c.in_transaction or c.reserved or c.authorized)
            assert c.operative
        if c.in_transaction:
            assert c.operative and not c.authorized and not c.finishing
            # StopTransactionOnEVSideDisconnect false: the cable may go, the EV is suspended
            assert c.plugged or c.ev_suspended or c.evse_suspended
        assert not (c.ev_suspended and c.evse_suspended)
        if c.ev_suspended or c.evse_suspended:
            assert c.in_transaction
        if c.reserved:
            assert not (c.plugged or c.authorized or c.in_transaction) and c.operative
        if c.finishing:
            assert c.plugged and not c.in_transaction


ConnectorMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None
)
TestConnectorMachine = ConnectorMachine.TestCase
