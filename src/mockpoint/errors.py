"""The one exception tree of mockpoint.

::

    MockpointError                    base; carries the process exit code it maps to
    ├── UsageError                    bad command line or input file (exit 2)
    │   └── ThresholdError            a load threshold that cannot be read (load/thresholds.py)
    ├── EngineError                   a load shard could not run: a worker died, Ray failed
    │                                 (exit 1; load/engines.py)
    ├── ConnectError                  the CSMS could not be reached (exit 3)
    ├── ConnectionLost                an established connection went away (exit 1)
    ├── ProtocolError                 something broke OCPP-J (exit 1)
    │   ├── LocalProtocolError        we were asked to send something invalid
    │   └── RemoteProtocolError       the peer sent something invalid
    ├── CallFailed                    an outgoing CALL got no usable answer (exit 1)
    │   ├── CallTimeout               ... no answer in time
    │   └── CallErrorReceived         ... a CALLERROR came back
    └── OcppError                     raised by a request handler; becomes a CALLERROR
        ├── NotImplementedAction      NotImplemented
        ├── NotSupportedAction        NotSupported
        ├── FormationViolation        FormationViolation
        ├── PropertyConstraintViolation
        ├── OccurenceConstraintViolation
        ├── TypeConstraintViolation
        ├── ProtocolViolation         ProtocolError
        ├── SecurityViolation         SecurityError
        ├── GenericOcppError          GenericError
        └── InternalOcppError         InternalError

Every exception that crosses a layer boundary is one of these; third-party exceptions
(websockets, OSError, ssl) are translated at the edge, in ``transport/``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, ClassVar


class ExitCode(enum.IntEnum):
    """Process exit codes of ``mockpoint run`` and ``mockpoint load`` (docs/behaviour.md,
    "Exit codes")."""

    #: every scenario passed (load: every threshold held, no step failed, calls were answered)
    OK = 0
    #: at least one scenario failed, or the CSMS violated the protocol (load: docs/load.md)
    FAILED = 1
    #: usage error or invalid scenario file; nothing was run
    USAGE = 2
    #: the CSMS could not be reached
    UNREACHABLE = 3
    #: a bug in mockpoint
    INTERNAL = 4


class ErrorCode(enum.StrEnum):
    """CALLERROR codes of OCPP-J 1.6 §4.2.3."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    #: OCPP-J 1.6 spells it with one "r"; the double-r spelling is accepted on receipt.
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"

    @classmethod
    def parse(cls, text: str) -> ErrorCode | None:
        """The code named by ``text``, tolerating the double-r spelling; None if unknown."""
        if text == "OccurrenceConstraintViolation":
            return cls.OCCURENCE_CONSTRAINT_VIOLATION
        try:
            return cls(text)
        except ValueError:
            return None


class MockpointError(Exception):
    """Base of every error mockpoint raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL


class UsageError(MockpointError):
    """The command line, a configuration file or a scenario file is wrong."""

    exit_code = ExitCode.USAGE


class ScenarioError(UsageError):
    """Scenario files are invalid; ``problems`` holds every problem of every file (each
    ``file:line:column: key: message`` as text), one per line in the message, by file and
    then by position."""

    def __init__(self, problems: Sequence[Any]) -> None:
        self.problems: list[Any] = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class Refused(MockpointError):
    """The station's state forbids what was asked: a second transaction on a connector, a
    stop where none runs. What was asked is sound; its moment is not."""

    exit_code = ExitCode.FAILED


class InvalidTransition(Refused):
    """An event the connector's status (or facts) does not allow; the connector is unchanged
    (the status table of station/connector.py, OCPP 1.6 §4.9)."""

    def __init__(self, connector_id: int, status: str, event: str, reason: str = "") -> None:
        message = f"connector {connector_id}: event {event} is not allowed in status {status}"
        super().__init__(f"{message} ({reason})" if reason else message)
        self.connector_id = connector_id
        self.status = status
        self.event = event
        self.reason = reason


class ConfigurationError(UsageError):
    """The scenario's ``configuration:`` block, or a station-internal update, is invalid.

    ``problems`` holds every (key, message) found, not just the first.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems: list[tuple[str, str]] = list(problems)
        lines = "\n".join(f"  {key}: {message}" for key, message in self.problems)
        count = len(self.problems)
        super().__init__(f"invalid configuration ({count} problem{'s' * (count != 1)}):\n{lines}")


class ConnectError(MockpointError):
    """The CSMS could not be reached: refused, DNS, TLS, upgrade or subprotocol.

    ``permanent`` says that trying again will not help (refused credentials, a certificate
    that cannot be verified), so the connection is not retried.
    """

    exit_code = ExitCode.UNREACHABLE

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ConnectionLost(MockpointError):
    """A connection that was established went away."""

    exit_code = ExitCode.FAILED


class ProtocolError(MockpointError):
    """Something broke OCPP-J."""

    exit_code = ExitCode.FAILED


class LocalProtocolError(ProtocolError):
    """We were asked to send something that breaks OCPP-J or the OCA schemas."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something that breaks OCPP-J or the OCA schemas."""


class CallFailed(MockpointError):
    """An outgoing CALL got no usable answer."""

    exit_code = ExitCode.FAILED


class CallTimeout(CallFailed):
    """No answer arrived before the call's deadline."""


class CallErrorReceived(CallFailed):
    """The peer answered a CALL with a CALLERROR."""

    def __init__(self, code: str, description: str, details: object = None) -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description
        self.details = details


class OcppError(MockpointError):
    """Raised by a request handler; the RPC layer answers it as a CALLERROR with ``code``."""

    code: ClassVar[ErrorCode] = ErrorCode.GENERIC_ERROR
    exit_code = ExitCode.FAILED

    def __init__(self, description: str = "", details: dict[str, object] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.details = details or {}


class NotImplementedAction(OcppError):
    code = ErrorCode.NOT_IMPLEMENTED


class NotSupportedAction(OcppError):
    code = ErrorCode.NOT_SUPPORTED


class FormationViolation(OcppError):
    code = ErrorCode.FORMATION_VIOLATION


class PropertyConstraintViolation(OcppError):
    code = ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


class OccurenceConstraintViolation(OcppError):
    code = ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION


class TypeConstraintViolation(OcppError):
    code = ErrorCode.TYPE_CONSTRAINT_VIOLATION


class ProtocolViolation(OcppError):
    code = ErrorCode.PROTOCOL_ERROR


class SecurityViolation(OcppError):
    code = ErrorCode.SECURITY_ERROR


class GenericOcppError(OcppError):
    code = ErrorCode.GENERIC_ERROR


class InternalOcppError(OcppError):
    code = ErrorCode.INTERNAL_ERROR


OCPP_ERRORS: dict[ErrorCode, type[OcppError]] = {
    cls.code: cls
    for cls in (
        NotImplementedAction,
        NotSupportedAction,
        FormationViolation,
        PropertyConstraintViolation,
        OccurenceConstraintViolation,
        TypeConstraintViolation,
        ProtocolViolation,
        SecurityViolation,
        GenericOcppError,
        InternalOcppError,
    )
}


# --- steps and commands ---------------------------------------------------------------------


class StepCause(enum.StrEnum):
    """Why a step failed, for those who act on it (``mockpoint serve`` answers 409 for a
    verb the station refuses and 504 for an answer that never came; docs/serve.md)."""

    #: an expectation not met, a CALLERROR, a protocol violation by the CSMS
    CHECK = "check"
    #: the station model refused the verb in its current state (no cable, no transaction)
    REFUSED = "refused"
    #: what the step asked for cannot be: a connector that does not exist, a payload that
    #: breaks the OCA schema, a variable never saved
    INVALID = "invalid"
    #: the CSMS did not answer, or did not send what was awaited, in time
    TIMEOUT = "timeout"


class StepFailed(MockpointError):
    """A step did not get what it expected; its scenario fails."""

    exit_code = ExitCode.FAILED

    def __init__(
        self,
        message: str,
        *,
        expected: Any = None,
        actual: Any = None,
        cause: StepCause = StepCause.CHECK,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual
        self.cause = cause


class NotApplicable(MockpointError):
    """The CSMS lacks what a step needs (its CSMS driver said so): the scenario is not
    applicable, never failed."""

    exit_code = ExitCode.OK

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StepError(MockpointError):
    """A verb of the Python API's charge point did not do what it says (its message tells
    why, as a scenario step's failure would)."""

    exit_code = ExitCode.FAILED


class CommandError(UsageError):
    """A line of ``mockpoint shell`` that cannot be carried out; its message is the one line
    the shell prints."""
