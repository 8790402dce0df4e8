"""The OCPP 1.6 actions: who sends each, which feature profile it belongs to, and whether
mockpoint supports it.

Includes the actions of the OCPP 1.6 security whitepaper, whose schemas ship with the OCA
set: they are known (a request for one is answered NotSupported, not NotImplemented).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Initiator(enum.Enum):
    """Who sends the request of an action."""

    CHARGE_POINT = "ChargePoint"
    CENTRAL_SYSTEM = "CentralSystem"
    BOTH = "Both"


class Profile(enum.StrEnum):
    """Feature profiles, as named in the SupportedFeatureProfiles key."""

    CORE = "Core"
    FIRMWARE_MANAGEMENT = "FirmwareManagement"
    LOCAL_AUTH_LIST_MANAGEMENT = "LocalAuthListManagement"
    RESERVATION = "Reservation"
    SMART_CHARGING = "SmartCharging"
    REMOTE_TRIGGER = "RemoteTrigger"
    SECURITY = "Security"


#: The profiles mockpoint implements, in the order SupportedFeatureProfiles lists them.
SUPPORTED_PROFILES: tuple[Profile, ...] = (
    Profile.CORE,
    Profile.LOCAL_AUTH_LIST_MANAGEMENT,
    Profile.RESERVATION,
    Profile.REMOTE_TRIGGER,
)


@dataclass(frozen=True)
class ActionInfo:
    name: str
    initiator: Initiator
    profile: Profile
    #: DataTransfer is in the Core profile yet out of mockpoint's scope.
    in_scope: bool = True
    #: the charge point sends this request although mockpoint does not support the action:
    #: see :data:`CHARGE_POINT_SENDS`
    sent_anyway: bool = False

    def sent_by_charge_point(self) -> bool:
        return self.initiator in (Initiator.CHARGE_POINT, Initiator.BOTH)

    @property
    def charge_point_sends(self) -> bool:
        """Whether mockpoint's charge point sends this request (:data:`CHARGE_POINT_SENDS`)."""
        return self.sent_by_charge_point() and (self.supported or self.sent_anyway)

    def sent_by_central_system(self) -> bool:
        return self.initiator in (Initiator.CENTRAL_SYSTEM, Initiator.BOTH)

    @property
    def supported(self) -> bool:
        return self.in_scope and self.profile in SUPPORTED_PROFILES


_CP = Initiator.CHARGE_POINT
_CS = Initiator.CENTRAL_SYSTEM

ACTIONS: dict[str, ActionInfo] = {
    info.name: info
    for info in (
        # Core (OCPP 1.6 §4 and §5)
        ActionInfo("Authorize", _CP, Profile.CORE),
        ActionInfo("BootNotification", _CP, Profile.CORE),
        ActionInfo("ChangeAvailability", _CS, Profile.CORE),
        ActionInfo("ChangeConfiguration", _CS, Profile.CORE),
        ActionInfo("ClearCache", _CS, Profile.CORE),
        ActionInfo("DataTransfer", Initiator.BOTH, Profile.CORE, in_scope=False, sent_anyway=True),
        ActionInfo("GetConfiguration", _CS, Profile.CORE),
        ActionInfo("Heartbeat", _CP, Profile.CORE),
        ActionInfo("MeterValues", _CP, Profile.CORE),
        ActionInfo("RemoteStartTransaction", _CS, Profile.CORE),
        ActionInfo("RemoteStopTransaction", _CS, Profile.CORE),
        ActionInfo("Reset", _CS, Profile.CORE),
        ActionInfo("StartTransaction", _CP, Profile.CORE),
        ActionInfo("StatusNotification", _CP, Profile.CORE),
        ActionInfo("StopTransaction", _CP, Profile.CORE),
        ActionInfo("UnlockConnector", _CS, Profile.CORE),
        # Firmware Management
        ActionInfo(
            "DiagnosticsStatusNotification", _CP, Profile.FIRMWARE_MANAGEMENT, sent_anyway=True
        ),
        ActionInfo(
            "FirmwareStatusNotification", _CP, Profile.FIRMWARE_MANAGEMENT, sent_anyway=True
        ),
        ActionInfo("GetDiagnostics", _CS, Profile.FIRMWARE_MANAGEMENT),
        ActionInfo("UpdateFirmware", _CS, Profile.FIRMWARE_MANAGEMENT),
        # Local Auth List Management
        ActionInfo("GetLocalListVersion", _CS, Profile.LOCAL_AUTH_LIST_MANAGEMENT),
        ActionInfo("SendLocalList", _CS, Profile.LOCAL_AUTH_LIST_MANAGEMENT),
        # Reservation
        ActionInfo("CancelReservation", _CS, Profile.RESERVATION),
        ActionInfo("ReserveNow", _CS, Profile.RESERVATION),
        # Smart Charging
        ActionInfo("ClearChargingProfile", _CS, Profile.SMART_CHARGING),
        ActionInfo("GetCompositeSchedule", _CS, Profile.SMART_CHARGING),
        ActionInfo("SetChargingProfile", _CS, Profile.SMART_CHARGING),
        # Remote Trigger
        ActionInfo("TriggerMessage", _CS, Profile.REMOTE_TRIGGER),
        # Security whitepaper: known, not supported at the message level
        ActionInfo("CertificateSigned", _CS, Profile.SECURITY),
        ActionInfo("DeleteCertificate", _CS, Profile.SECURITY),
        ActionInfo("ExtendedTriggerMessage", _CS, Profile.SECURITY),
        ActionInfo("GetInstalledCertificateIds", _CS, Profile.SECURITY),
        ActionInfo("GetLog", _CS, Profile.SECURITY),
        ActionInfo("InstallCertificate", _CS, Profile.SECURITY),
        ActionInfo("LogStatusNotification", _CP, Profile.SECURITY),
        ActionInfo("SecurityEventNotification", _CP, Profile.SECURITY),
        ActionInfo("SignCertificate", _CP, Profile.SECURITY),
        ActionInfo("SignedFirmwareStatusNotification", _CP, Profile.SECURITY),
        ActionInfo("SignedUpdateFirmware", _CS, Profile.SECURITY),
    )
}

#: Requests mockpoint's charge point sends: those of the actions it supports, and three it
#: sends although it does not support their action. DiagnosticsStatusNotification and
#: FirmwareStatusNotification go out with status Idle when a TriggerMessage asks (§4.4,
#: §4.5, §5.17), while GetDiagnostics and UpdateFirmware are still answered NotSupported and
#: SupportedFeatureProfiles still leaves FirmwareManagement out; DataTransfer goes out when
#: a scenario sends one, to see how a CSMS answers a vendor it does not know (§4.3, TC_064).
#: A scenario may ``send`` any request a charge point may send, these and the others.
CHARGE_POINT_SENDS: frozenset[str] = frozenset(
    name for name, info in ACTIONS.items() if info.charge_point_sends
)

#: Requests a Central System may send that mockpoint's charge point handles.
CHARGE_POINT_HANDLES: frozenset[str] = frozenset(
    name for name, info in ACTIONS.items() if info.sent_by_central_system() and info.supported
)

#: Every request a Central System may legally send a charge point (OCPP 1.6 and its security
#: whitepaper). The charge point's session takes them all: a request it does not implement is
#: answered NotSupported by the station, listed as "not supported here", and is no violation
#: (docs/behaviour.md, "Requests mockpoint does not implement"); only an unknown action or a
#: request of the wrong direction is one.
CENTRAL_SYSTEM_REQUESTS: frozenset[str] = frozenset(
    name for name, info in ACTIONS.items() if info.sent_by_central_system()
)

#: Requests a charge point may send that the mock CSMS answers: all of them, scope or not,
#: so that a scenario can send any 1.6 action and see a valid answer.
CENTRAL_SYSTEM_HANDLES: frozenset[str] = frozenset(
    name
    for name, info in ACTIONS.items()
    if info.sent_by_charge_point() and info.profile is not Profile.SECURITY
)
