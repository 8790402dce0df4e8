"""The configuration key table against OCPP 1.6 chapter 9 and the security whitepaper."""

from __future__ import annotations

import pytest

from mockpoint.ocpp16.actions import SUPPORTED_PROFILES, Profile
from mockpoint.ocpp16.configuration_keys import (
    INT32_MAX,
    KEYS,
    MEASURANDS,
    PHASE_ROTATIONS,
    KeyKind,
    KeySpec,
)
from mockpoint.ocpp16.enums import Measurand

B, N, C, S = KeyKind.BOOL, KeyKind.INT, KeyKind.CSL, KeyKind.STRING

#: name: (kind, read-only), transcribed from §9.1, §9.2, §9.3 and the whitepaper.
SPEC_TABLE: dict[str, tuple[KeyKind, bool]] = {
    "AllowOfflineTxForUnknownId": (B, False),
    "AuthorizationCacheEnabled": (B, False),
    "AuthorizeRemoteTxRequests": (B, False),
    "BlinkRepeat": (N, False),
    "ClockAlignedDataInterval": (N, False),
    "ConnectionTimeOut": (N, False),
    "ConnectorPhaseRotation": (C, False),
    "ConnectorPhaseRotationMaxLength": (N, True),
    "GetConfigurationMaxKeys": (N, True),
    "HeartbeatInterval": (N, False),
    "LightIntensity": (N, False),
    "LocalAuthorizeOffline": (B, False),
    "LocalPreAuthorize": (B, False),
    "MaxEnergyOnInvalidId": (N, False),
    "MeterValuesAlignedData": (C, False),
    "MeterValuesAlignedDataMaxLength": (N, True),
    "MeterValuesSampledData": (C, False),
    "MeterValuesSampledDataMaxLength": (N, True),
    "MeterValueSampleInterval": (N, False),
    "MinimumStatusDuration": (N, False),
    "NumberOfConnectors": (N, True),
    "ResetRetries": (N, False),
    "StopTransactionOnEVSideDisconnect": (B, False),
    "StopTransactionOnInvalidId": (B, False),
    "StopTxnAlignedData": (C, False),
    "StopTxnAlignedDataMaxLength": (N, True),
    "StopTxnSampledData": (C, False),
    "StopTxnSampledDataMaxLength": (N, True),
    "SupportedFeatureProfiles": (C, True),
    "SupportedFeatureProfilesMaxLength": (N, True),
    "TransactionMessageAttempts": (N, False),
    "TransactionMessageRetryInterval": (N, False),
    "UnlockConnectorOnEVSideDisconnect": (B, False),
    "WebSocketPingInterval": (N, False),
    "LocalAuthListEnabled": (B, False),
    "LocalAuthListMaxLength": (N, True),
    "SendLocalListMaxLength": (N, True),
    "ReserveConnectorZeroSupported": (B, True),
    "AuthorizationKey": (S, False),
    "SecurityProfile": (N, False),
}


def test_the_table_holds_exactly_the_keys_of_the_spec_in_its_order() -> None:
    assert list(KEYS) == list(SPEC_TABLE)


@pytest.mark.parametrize("name", list(SPEC_TABLE))
def test_kind_and_accessibility_follow_the_spec(name: str) -> None:
    spec = KEYS[name]
    assert spec.name == name
    assert (spec.kind, spec.readonly) == SPEC_TABLE[name]
    assert len(name) <= 50  # CiString50Type


def test_profiles() -> None:
    assert KEYS["LocalAuthListEnabled"].profile is Profile.LOCAL_AUTH_LIST_MANAGEMENT
    assert KEYS["ReserveConnectorZeroSupported"].profile is Profile.RESERVATION
    assert KEYS["AuthorizationKey"].profile is Profile.SECURITY
    assert KEYS["SecurityProfile"].profile is Profile.SECURITY
    assert KEYS["HeartbeatInterval"].profile is Profile.CORE


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("HeartbeatInterval", "300"),
        ("MeterValueSampleInterval", "60"),
        ("ClockAlignedDataInterval", "0"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register"),
        ("MeterValuesAlignedData", "Energy.Active.Import.Register"),
        ("StopTxnSampledData", "Energy.Active.Import.Register"),
        ("StopTxnAlignedData", ""),
        ("ConnectionTimeOut", "60"),
        ("ResetRetries", "1"),
        ("TransactionMessageAttempts", "3"),
        ("TransactionMessageRetryInterval", "60"),
        ("WebSocketPingInterval", "0"),
        ("AuthorizeRemoteTxRequests", "false"),
        ("LocalPreAuthorize", "false"),
        ("LocalAuthorizeOffline", "true"),
        ("AllowOfflineTxForUnknownId", "false"),
        ("AuthorizationCacheEnabled", "true"),
        ("StopTransactionOnEVSideDisconnect", "true"),
        ("StopTransactionOnInvalidId", "true"),
        ("UnlockConnectorOnEVSideDisconnect", "true"),
        ("LocalAuthListEnabled", "true"),
        ("LocalAuthListMaxLength", "100"),
        ("SendLocalListMaxLength", "100"),
        ("ReserveConnectorZeroSupported", "true"),
        ("GetConfigurationMaxKeys", "100"),
        ("ConnectorPhaseRotation", "NotApplicable"),
        ("SecurityProfile", "0"),
        ("AuthorizationKey", ""),
    ],
)
def test_factory_defaults(name: str, default: str) -> None:
    assert KEYS[name].default == default


def test_supported_feature_profiles_default_is_what_mockpoint_supports() -> None:
    assert KEYS["SupportedFeatureProfiles"].default == ",".join(SUPPORTED_PROFILES)


def _default_fits(spec: KeySpec) -> bool:
    if spec.kind is KeyKind.BOOL:
        return spec.default in ("true", "false")
    if spec.kind is KeyKind.INT:
        number = int(spec.default)
        low = spec.minimum if spec.minimum is not None else -INT32_MAX - 1
        high = spec.maximum if spec.maximum is not None else INT32_MAX
        return low <= number <= high and str(number) == spec.default
    if spec.kind is KeyKind.CSL:
        items = spec.default.split(",") if spec.default else []
        limit = int(KEYS[spec.length_key].default) if spec.length_key else len(items)
        members_ok = spec.allowed is None or all(
            item.rpartition(".")[2] in spec.allowed if spec.per_connector else item in spec.allowed
            for item in items
        )
        return members_ok and len(items) <= limit and len(set(items)) == len(items)
    return spec.default == ""  # the AuthorizationKey: unset


@pytest.mark.parametrize("name", list(KEYS))
def test_every_default_fits_its_own_spec(name: str) -> None:
    assert _default_fits(KEYS[name])


def test_length_keys_are_read_only_integers() -> None:
    csl = [spec for spec in KEYS.values() if spec.kind is KeyKind.CSL]
    assert csl
    for spec in csl:
        assert spec.length_key == f"{spec.name}MaxLength"
        length = KEYS[spec.length_key]
        assert length.kind is KeyKind.INT and length.readonly


def test_only_the_authorization_key_is_write_only() -> None:
    assert [name for name, spec in KEYS.items() if spec.write_only] == ["AuthorizationKey"]
    key = KEYS["AuthorizationKey"]
    assert (key.minimum, key.maximum) == (16, 40)


def test_security_profile_range() -> None:
    spec = KEYS["SecurityProfile"]
    assert (spec.minimum, spec.maximum) == (0, 3)


def test_no_standard_key_needs_a_reboot() -> None:
    assert not any(spec.reboot_required for spec in KEYS.values())


def test_meter_value_keys_allow_the_measurands() -> None:
    assert MEASURANDS == {m.value for m in Measurand}
    for name in ("MeterValuesAlignedData", "MeterValuesSampledData"):
        assert KEYS[name].allowed == MEASURANDS
    for name in ("StopTxnAlignedData", "StopTxnSampledData"):
        assert KEYS[name].allowed == MEASURANDS


def test_only_the_meter_value_keys_are_metered() -> None:
    metered = {name for name, spec in KEYS.items() if spec.metered}
    assert metered == {
        "MeterValuesAlignedData",
        "MeterValuesSampledData",
        "StopTxnAlignedData",
        "StopTxnSampledData",
    }


def test_every_measurand_at_once_fits_a_value() -> None:
    """A CSL value is a CiString500Type; even all measurands together must fit."""
    assert len(",".join(MEASURANDS)) <= 500


def test_phase_rotations() -> None:
    spec = KEYS["ConnectorPhaseRotation"]
    assert spec.per_connector
    assert spec.allowed == PHASE_ROTATIONS
    assert {"NotApplicable", "Unknown", "RST", "TSR"} <= PHASE_ROTATIONS


def test_specs_are_frozen() -> None:
    spec = KEYS["HeartbeatInterval"]
    with pytest.raises(AttributeError):
        spec.default = "1"  # type: ignore[misc]
