"""The configuration keys of mockpoint's charge point, as data (OCPP 1.6 edition 2, chapter 9).

Every key of §9.1 (Core profile, 9.1.1 AllowOfflineTxForUnknownId to 9.1.34
WebSocketPingInterval, required and optional), §9.2 (Local Auth List Management) and §9.3
(Reservation), plus two keys of the OCPP 1.6 security whitepaper (edition 2): AuthorizationKey
and SecurityProfile. ``KEYS`` lists them in that order, which is also the order a
GetConfiguration without keys answers in.

Where chapter 9 lets the charge point choose ("R or RW"), mockpoint picks RW, as the project's
summary (OCPP16.md, "Core configuration keys") records. Defaults are what a typical AC charger
ships with. Behaviour (validation, ChangeConfiguration, GetConfiguration) lives in
``mockpoint.station.configuration``; this module only describes the keys.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mockpoint.ocpp16.actions import SUPPORTED_PROFILES, Profile
from mockpoint.ocpp16.enums import Measurand


class KeyKind(enum.Enum):
    """The "Type" column of chapter 9."""

    BOOL = "boolean"
    INT = "integer"
    #: comma separated list (§9: "CSL")
    CSL = "CSL"
    STRING = "string"


@dataclass(frozen=True)
class KeySpec:
    """One configuration key: its type, accessibility, factory default and limits."""

    name: str
    kind: KeyKind
    #: "R" in chapter 9: ChangeConfiguration answers Rejected; a scenario may still set it.
    readonly: bool
    #: the OCPP string form: "true"/"false", decimal integers, CSL items joined by ",".
    default: str
    #: the feature profile (or the security whitepaper) that defines the key.
    profile: Profile
    #: ChangeConfiguration answers RebootRequired instead of Accepted.
    reboot_required: bool = False
    #: INT: the value range. STRING: the length range (as OCPP 2.0.1's minLimit/maxLimit do).
    minimum: int | None = None
    maximum: int | None = None
    #: CSL: the values an item may take, compared case-insensitively (values are CiStrings).
    allowed: frozenset[str] | None = None
    #: CSL: a hard ceiling on the number of items, whatever ``length_key`` says.
    max_items: int | None = None
    #: GetConfiguration lists the key but never its value (security whitepaper).
    write_only: bool = False
    #: CSL: the read-only "...MaxLength" key that bounds the number of items.
    length_key: str | None = None
    #: CSL: an item may be prefixed with "<connectorId>." (ConnectorPhaseRotation, §9.1.7).
    per_connector: bool = False
    #: CSL of measurands the charge point must meter (§9.1.15, 9.1.17, 9.1.25, 9.1.27): an
    #: item ``allowed`` by §7.31 is still refused when the meter cannot produce it. Which
    #: measurands that is, the station's configuration knows (``station.metering``).
    metered: bool = False


#: Integers are 32-bit signed in every OCPP implementation we know of; keys without a
#: narrower range stay within it, which also keeps every value far below 500 characters.
INT32_MAX = 2**31 - 1

#: Phase rotations of ConnectorPhaseRotation (§9.1.7): how the connector's phases are wired
#: relative to the grid connection, or that it does not apply / is unknown.
PHASE_ROTATIONS: frozenset[str] = frozenset(
    {"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"}
)

#: Items of the four meter value CSL keys (§9.1.15, 9.1.17, 9.1.25, 9.1.27). §9.1.17 also
#: allows a measurand combined with a phase ("Voltage.L1"); mockpoint meters whole measurands
#: only, so such an item is Rejected, as a charger without per-phase metering would. These
#: keys are ``metered``: of these, only what mockpoint's meter produces is accepted.
MEASURANDS: frozenset[str] = frozenset(m.value for m in Measurand)

#: The key whose value must equal the station's connector count.
NUMBER_OF_CONNECTORS = "NumberOfConnectors"
#: The key whose items must be exactly mockpoint's SUPPORTED_PROFILES.
SUPPORTED_FEATURE_PROFILES = "SupportedFeatureProfiles"
#: Its default follows the connector count: one item for connector 0 and one per connector.
CONNECTOR_PHASE_ROTATION_MAX_LENGTH = "ConnectorPhaseRotationMaxLength"
#: Security whitepaper: may only be raised through ChangeConfiguration.
SECURITY_PROFILE = "SecurityProfile"
AUTHORIZATION_KEY = "AuthorizationKey"
GET_CONFIGURATION_MAX_KEYS = "GetConfigurationMaxKeys"

_ENERGY = Measurand.ENERGY_ACTIVE_IMPORT_REGISTER.value


def _bool(name: str, default: bool, profile: Profile = Profile.CORE) -> KeySpec:
    return KeySpec(name, KeyKind.BOOL, False, "true" if default else "false", profile)


def _int(
    name: str,
    default: int,
    *,
    readonly: bool = False,
    minimum: int = 0,
    maximum: int = INT32_MAX,
    profile: Profile = Profile.CORE,
) -> KeySpec:
    return KeySpec(
        name, KeyKind.INT, readonly, str(default), profile, minimum=minimum, maximum=maximum
    )


def _measurands(name: str, default: str) -> KeySpec:
    return KeySpec(
        name,
        KeyKind.CSL,
        False,
        default,
        Profile.CORE,
        allowed=MEASURANDS,
        max_items=len(MEASURANDS),
        length_key=f"{name}MaxLength",
        metered=True,
    )


def _max_length(name: str, default: int, maximum: int = INT32_MAX) -> KeySpec:
    return _int(name, default, readonly=True, maximum=maximum)


_SPECS: tuple[KeySpec, ...] = (
    # §9.1 Core profile
    _bool("AllowOfflineTxForUnknownId", False),
    _bool("AuthorizationCacheEnabled", True),
    _bool("AuthorizeRemoteTxRequests", False),
    _int("BlinkRepeat", 3),
    _int("ClockAlignedDataInterval", 0),
    _int("ConnectionTimeOut", 60),
    KeySpec(
        "ConnectorPhaseRotation",
        KeyKind.CSL,
        False,
        "NotApplicable",
        Profile.CORE,
        allowed=PHASE_ROTATIONS,
        length_key=CONNECTOR_PHASE_ROTATION_MAX_LENGTH,
        per_connector=True,
    ),
    # The configuration replaces this default with the connector count + 1.
    _max_length(CONNECTOR_PHASE_ROTATION_MAX_LENGTH, 2),
    _int(GET_CONFIGURATION_MAX_KEYS, 100, readonly=True, minimum=1),
    _int("HeartbeatInterval", 300),
    _int("LightIntensity", 100, maximum=100),
    _bool("LocalAuthorizeOffline", True),
    _bool("LocalPreAuthorize", False),
    _int("MaxEnergyOnInvalidId", 0),
    _measurands("MeterValuesAlignedData", _ENERGY),
    _max_length("MeterValuesAlignedDataMaxLength", len(MEASURANDS), len(MEASURANDS)),
    _measurands("MeterValuesSampledData", _ENERGY),
    _max_length("MeterValuesSampledDataMaxLength", len(MEASURANDS), len(MEASURANDS)),
    _int("MeterValueSampleInterval", 60),
    _int("MinimumStatusDuration", 0),
    # The configuration replaces this default with the station's connector count.
    _int(NUMBER_OF_CONNECTORS, 1, readonly=True, minimum=1),
    _int("ResetRetries", 1),
    _bool("StopTransactionOnEVSideDisconnect", True),
    _bool("StopTransactionOnInvalidId", True),
    _measurands("StopTxnAlignedData", ""),
    _max_length("StopTxnAlignedDataMaxLength", len(MEASURANDS), len(MEASURANDS)),
    _measurands("StopTxnSampledData", _ENERGY),
    _max_length("StopTxnSampledDataMaxLength", len(MEASURANDS), len(MEASURANDS)),
    KeySpec(
        SUPPORTED_FEATURE_PROFILES,
        KeyKind.CSL,
        True,
        ",".join(p.value for p in SUPPORTED_PROFILES),
        Profile.CORE,
        allowed=frozenset(p.value for p in Profile),
        max_items=len(Profile),
        length_key="SupportedFeatureProfilesMaxLength",
    ),
    _max_length("SupportedFeatureProfilesMaxLength", len(SUPPORTED_PROFILES), len(Profile)),
    _int("TransactionMessageAttempts", 3),
    _int("TransactionMessageRetryInterval", 60),
    _bool("UnlockConnectorOnEVSideDisconnect", True),
    # 0 disables pings (§9.1.34). A simulator's traffic should be exactly what the scenario
    # says: a ping every N seconds would interleave with recorded frames and make runs differ
    # by wall-clock timing. A scenario that tests keep-alive handling sets it explicitly.
    _int("WebSocketPingInterval", 0),
    # §9.2 Local Auth List Management profile
    _bool("LocalAuthListEnabled", True, Profile.LOCAL_AUTH_LIST_MANAGEMENT),
    _int("LocalAuthListMaxLength", 100, readonly=True, profile=Profile.LOCAL_AUTH_LIST_MANAGEMENT),
    _int("SendLocalListMaxLength", 100, readonly=True, profile=Profile.LOCAL_AUTH_LIST_MANAGEMENT),
    # §9.3 Reservation profile
    KeySpec("ReserveConnectorZeroSupported", KeyKind.BOOL, True, "true", Profile.RESERVATION),
    # Security whitepaper (edition 2), configuration keys. The HTTP Basic password: the
    # whitepaper asks for 16 to 40 characters; mockpoint accepts any printable ASCII (the
    # CiString alphabet, OCPP 1.6 §2.2) and does not insist on hex. "" means "not set", which
    # only the factory default can be: a CSMS cannot clear it.
    KeySpec(
        AUTHORIZATION_KEY,
        KeyKind.STRING,
        False,
        "",
        Profile.SECURITY,
        minimum=16,
        maximum=40,
        write_only=True,
    ),
    # 0 = no security profile; 1 = Basic auth over ws://, 2 = Basic auth over TLS,
    # 3 = TLS client certificate. After an accepted raise the charge point reconnects with the
    # new profile (whitepaper use case A05); that is a reconnect, not a reboot.
    _int(SECURITY_PROFILE, 0, maximum=3, profile=Profile.SECURITY),
)

KEYS: dict[str, KeySpec] = {spec.name: spec for spec in _SPECS}
