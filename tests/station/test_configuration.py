"""The configuration registry: scenario overrides, ChangeConfiguration (OCPP 1.6 §5.3) and
GetConfiguration (§5.8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from mockpoint.errors import PropertyConstraintViolation, UsageError
from mockpoint.ocpp16.actions import SUPPORTED_PROFILES, Profile
from mockpoint.ocpp16.configuration_keys import KEYS, MEASURANDS, KeyKind, KeySpec
from mockpoint.ocpp16.enums import ConfigurationStatus
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.scenario.loader import ScenarioError, load_paths
from mockpoint.station.configuration import Configuration, ConfigurationError
from mockpoint.station.metering import SUPPORTED_MEASURANDS

ACCEPTED = ConfigurationStatus.ACCEPTED
REJECTED = ConfigurationStatus.REJECTED
REBOOT_REQUIRED = ConfigurationStatus.REBOOT_REQUIRED
NOT_SUPPORTED = ConfigurationStatus.NOT_SUPPORTED

PASSWORD = "s3cret-Basic-Auth-pw"
RESPONSE = Draft4Validator(load_schema("GetConfiguration", response=True))


def make(overrides: dict[str, Any] | None = None, connectors: int = 2) -> Configuration:
    return Configuration(overrides, number_of_connectors=connectors)


def assert_valid_response(config: Configuration, keys: list[str] | None = None) -> None:
    known, unknown = config.get_configuration(keys)
    payload: dict[str, object] = {"configurationKey": known}
    if unknown:
        payload["unknownKey"] = unknown
    errors = [error.message for error in RESPONSE.iter_errors(payload)]
    assert errors == []


# -- construction and overrides --------------------------------------------------------


def test_defaults_with_derived_keys() -> None:
    config = make(connectors=3)
    assert config.get("NumberOfConnectors") == "3"
    assert config.get_int("ConnectorPhaseRotationMaxLength") == 4
    assert config.get_list("SupportedFeatureProfiles") == [p.value for p in SUPPORTED_PROFILES]
    assert config.get_int("HeartbeatInterval") == 300
    assert config.get_list("StopTxnAlignedData") == []
    assert config.keys() == list(KEYS)


def test_overrides_accept_yaml_types_and_store_the_ocpp_form() -> None:
    config = make(
        {
            "HeartbeatInterval": 60,
            "MeterValueSampleInterval": "15",
            "AuthorizeRemoteTxRequests": True,
            "LocalPreAuthorize": "TRUE",
            "MeterValuesSampledData": ["Energy.Active.Import.Register", "Power.Active.Import"],
            "StopTxnAlignedData": "voltage, current.import",
            "GetConfigurationMaxKeys": 20,
            "NumberOfConnectors": 2,
            "SupportedFeatureProfiles": list(reversed(SUPPORTED_PROFILES)),
            "AuthorizationKey": PASSWORD,
        }
    )
    assert config.get("HeartbeatInterval") == "60"
    assert config.get("MeterValueSampleInterval") == "15"
    assert config.get("AuthorizeRemoteTxRequests") == "true"
    assert config.get_bool("LocalPreAuthorize") is True
    assert config.get("MeterValuesSampledData") == (
        "Energy.Active.Import.Register,Power.Active.Import"
    )
    assert config.get("StopTxnAlignedData") == "Voltage,Current.Import"
    assert config.max_keys == 20
    assert config.get("AuthorizationKey") == PASSWORD


def test_override_errors_are_all_listed_at_once_with_their_keys() -> None:
    with pytest.raises(ConfigurationError) as caught:
        make(
            {
                "HeartbeatIntervall": 10,
                "MeterValueSampleInterval": "often",
                "LightIntensity": 101,
                "LocalPreAuthorize": 1,
                "MeterValuesSampledData": ["Energy.Active.Import.Register", "Sunshine"],
                "ConnectionTimeOut": True,
                "AuthorizationKey": "short",
            }
        )
    error = caught.value
    assert isinstance(error, UsageError)
    keys = [key for key, _ in error.problems]
    assert keys == [
        "HeartbeatIntervall",
        "MeterValueSampleInterval",
        "LightIntensity",
        "LocalPreAuthorize",
        "MeterValuesSampledData",
        "ConnectionTimeOut",
        "AuthorizationKey",
    ]
    message = str(error)
    for key in keys:
        assert key in message
    assert "did you mean HeartbeatInterval" in message
    assert "short" not in message


def test_a_measurand_the_meter_cannot_produce_is_refused_in_the_scenario() -> None:
    with pytest.raises(ConfigurationError) as caught:
        make(
            {
                "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Reactive.Import",
                "StopTxnAlignedData": ["Frequency", "rpm"],
                "MeterValuesAlignedData": "SoC",
                "StopTxnSampledData": "Voltage,Current.Export",
            }
        )
    problems = dict(caught.value.problems)
    assert set(problems) == {"MeterValuesSampledData", "StopTxnAlignedData", "StopTxnSampledData"}
    assert problems["MeterValuesSampledData"].startswith(
        "'Power.Reactive.Import' is a measurand mockpoint's meter cannot produce; it produces "
    )
    assert "'RPM'" in problems["StopTxnAlignedData"]  # in its canonical spelling
    assert "'Current.Export'" in problems["StopTxnSampledData"]
    for measurand in SUPPORTED_MEASURANDS:
        assert measurand in problems["MeterValuesSampledData"]


def test_a_state_file_with_a_measurand_the_meter_cannot_produce_is_refused() -> None:
    config = make()
    with pytest.raises(ConfigurationError, match="Power.Factor"):
        config.restore_state({"MeterValuesSampledData": "Power.Factor"})
    assert config.get("MeterValuesSampledData") == "Energy.Active.Import.Register"


def test_a_scenario_naming_such_a_measurand_is_refused_at_its_line(tmp_path: Path) -> None:
    # The scenario loader reports what Configuration raises at the key's file:line.
    path = tmp_path / "measurands.yaml"
    path.write_text(
        "name: measurands\n"
        "charge_point:\n"
        "  id: CP-1\n"
        "  configuration:\n"
        "    MeterValuesSampledData: Energy.Active.Import.Register,Power.Reactive.Import\n"
        "steps:\n"
        "  - wait: 1s\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_paths([path])
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 5)
    assert problem.message.startswith(
        "MeterValuesSampledData: 'Power.Reactive.Import' is a measurand mockpoint's meter"
        " cannot produce"
    )


def test_read_only_keys_may_be_set_by_the_scenario() -> None:
    config = make({"LocalAuthListMaxLength": 500, "ReserveConnectorZeroSupported": False})
    assert config.get_int("LocalAuthListMaxLength") == 500
    assert config.get_bool("ReserveConnectorZeroSupported") is False


def test_derived_keys_must_agree() -> None:
    with pytest.raises(ConfigurationError) as caught:
        make({"NumberOfConnectors": 3, "SupportedFeatureProfiles": "Core,SmartCharging"})
    problems = dict(caught.value.problems)
    assert set(problems) == {"NumberOfConnectors", "SupportedFeatureProfiles"}
    assert "SmartCharging" in problems["SupportedFeatureProfiles"]
    assert "Reservation" in problems["SupportedFeatureProfiles"]


def test_cross_key_limits_apply_to_overrides() -> None:
    with pytest.raises(ConfigurationError) as caught:
        make(
            {
                "MeterValuesSampledDataMaxLength": 1,
                "MeterValuesSampledData": "Voltage,Current.Import",
                "ConnectorPhaseRotation": "0.RST,1.RST,5.RST",
            }
        )
    problems = dict(caught.value.problems)
    assert "MeterValuesSampledDataMaxLength" in problems["MeterValuesSampledData"]
    assert "5.RST" in problems["ConnectorPhaseRotation"]


def test_a_key_given_twice_in_different_cases_is_an_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        make({"HeartbeatInterval": 10, "heartbeatinterval": 20})
    assert [key for key, _ in caught.value.problems] == ["heartbeatinterval"]


def test_at_least_one_connector() -> None:
    with pytest.raises(ValueError):
        make(connectors=0)


# -- ChangeConfiguration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "status", "stored"),
    [
        ("HeartbeatInterval", "120", ACCEPTED, "120"),
        ("heartbeatinterval", "+0120", ACCEPTED, "120"),
        ("HeartbeatInterval", "-1", REJECTED, "300"),
        ("HeartbeatInterval", "12.5", REJECTED, "300"),
        ("HeartbeatInterval", "1_000", REJECTED, "300"),
        ("HeartbeatInterval", "9" * 40, REJECTED, "300"),
        ("HeartbeatInterval", "", REJECTED, "300"),
        ("LightIntensity", "101", REJECTED, "100"),
        ("AuthorizeRemoteTxRequests", "TRUE", ACCEPTED, "true"),
        ("AuthorizeRemoteTxRequests", "yes", REJECTED, "false"),
        ("AuthorizeRemoteTxRequests", "1", REJECTED, "false"),
        ("MeterValuesSampledData", "Voltage, SOC", ACCEPTED, "Voltage,SoC"),
        ("MeterValuesSampledData", "", ACCEPTED, ""),
        ("MeterValuesSampledData", "Voltage.L1", REJECTED, "Energy.Active.Import.Register"),
        ("MeterValuesSampledData", "Voltage,,SoC", REJECTED, "Energy.Active.Import.Register"),
        ("MeterValuesSampledData", "Voltage,voltage", REJECTED, "Energy.Active.Import.Register"),
        (
            "ConnectorPhaseRotation",
            "0.RST,1.rts,2.NotApplicable",
            ACCEPTED,
            "0.RST,1.RTS,2.NotApplicable",
        ),
        ("ConnectorPhaseRotation", "Unknown", ACCEPTED, "Unknown"),
        ("ConnectorPhaseRotation", "0.XYZ", REJECTED, "NotApplicable"),
        ("ConnectorPhaseRotation", "3.RST", REJECTED, "NotApplicable"),
        ("ConnectorPhaseRotation", "0.RST,1.RST,2.RST,0.TSR", REJECTED, "NotApplicable"),
        ("NumberOfConnectors", "2", REJECTED, "2"),
        ("GetConfigurationMaxKeys", "10", REJECTED, "100"),
        ("SupportedFeatureProfiles", "Core", REJECTED, ",".join(SUPPORTED_PROFILES)),
        ("ReserveConnectorZeroSupported", "false", REJECTED, "true"),
    ],
)
def test_change(key: str, value: str, status: ConfigurationStatus, stored: str) -> None:
    config = make()
    assert config.change(key, value) is status
    assert config.get(key) == stored


def test_unknown_key_is_not_supported() -> None:
    config = make()
    before = config.snapshot()
    assert config.change("FreeVend", "true") is NOT_SUPPORTED
    assert config.change("Heartbeat\u212anterval", "1") is NOT_SUPPORTED
    assert config.snapshot() == before
    assert "FreeVend" not in config


def test_a_csl_longer_than_its_max_length_key_is_rejected() -> None:
    config = make({"MeterValuesAlignedDataMaxLength": 2})
    assert config.change("MeterValuesAlignedData", "Voltage,SoC") is ACCEPTED
    assert config.change("MeterValuesAlignedData", "Voltage,SoC,Frequency") is REJECTED
    assert config.get_list("MeterValuesAlignedData") == ["Voltage", "SoC"]


def test_security_profile_can_only_be_raised() -> None:
    config = make({"SecurityProfile": 1})
    assert config.change("SecurityProfile", "0") is REJECTED
    assert config.change("SecurityProfile", "1") is ACCEPTED
    assert config.change("SecurityProfile", "2") is ACCEPTED
    assert config.change("SecurityProfile", "1") is REJECTED
    assert config.change("SecurityProfile", "4") is REJECTED
    assert config.get_int("SecurityProfile") == 2


def test_authorization_key_can_be_written() -> None:
    config = make()
    assert config.change("AuthorizationKey", PASSWORD) is ACCEPTED
    assert config.get("AuthorizationKey") == PASSWORD
    assert config.change("AuthorizationKey", "x" * 15) is REJECTED
    assert config.change("AuthorizationKey", "x" * 41) is REJECTED
    assert config.change("AuthorizationKey", "pässwörd-pässwörd") is REJECTED
    assert config.change("AuthorizationKey", "") is REJECTED
    assert config.get("AuthorizationKey") == PASSWORD


def test_reboot_required_when_the_spec_says_so() -> None:
    vendor = KeySpec("X-Voltage", KeyKind.INT, False, "230", Profile.CORE, reboot_required=True)
    config = Configuration(
        {"X-Voltage": 400}, number_of_connectors=1, specs={**KEYS, vendor.name: vendor}
    )
    assert config.change("X-Voltage", "120") is REBOOT_REQUIRED
    assert config.get_int("X-Voltage") == 120


# -- reading ---------------------------------------------------------------------------


def test_typed_getters_check_the_kind() -> None:
    config = make()
    with pytest.raises(TypeError):
        config.get_int("MeterValuesSampledData")
    with pytest.raises(TypeError):
        config.get_bool("HeartbeatInterval")
    with pytest.raises(TypeError):
        config.get_list("LocalPreAuthorize")
    with pytest.raises(KeyError):
        config.get("Nope")
    assert "heartbeatInterval" in config
    assert 42 not in config


# -- GetConfiguration --------------------------------------------------------------------


def test_get_configuration_without_keys_lists_everything_in_table_order() -> None:
    config = make({"AuthorizationKey": PASSWORD})
    requests: tuple[list[str] | None, ...] = (None, [])
    for request in requests:
        known, unknown = config.get_configuration(request)
        assert [item["key"] for item in known] == list(KEYS)
        assert unknown == []
    assert_valid_response(config)


def test_get_configuration_with_keys() -> None:
    config = make()
    known, unknown = config.get_configuration(
        ["heartbeatinterval", "NumberOfConnectors", "FreeVend", "HeartbeatInterval", "FreeVend"]
    )
    assert known == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    ]
    assert unknown == ["FreeVend"]
    assert_valid_response(config, ["FreeVend", "HeartbeatInterval"])


def test_get_configuration_rejects_a_key_too_long_for_the_schema() -> None:
    with pytest.raises(PropertyConstraintViolation):
        make().get_configuration(["K" * 51])


def test_authorization_key_is_never_revealed() -> None:
    config = make({"AuthorizationKey": PASSWORD})
    known, _ = config.get_configuration(["AuthorizationKey"])
    assert known == [{"key": "AuthorizationKey", "readonly": False}]
    everything, _ = config.get_configuration()
    assert PASSWORD not in repr(everything)
    snapshot = config.snapshot()
    assert snapshot["AuthorizationKey"] == "***"
    assert PASSWORD not in repr(snapshot)
    assert PASSWORD not in repr(config)
    assert make().snapshot()["AuthorizationKey"] == ""


# -- station-internal updates ------------------------------------------------------------


def test_set_internal_bypasses_read_only_but_checks_values() -> None:
    config = make({"SecurityProfile": 2})
    config.set_internal("HeartbeatInterval", 900)
    config.set_internal("LocalAuthListMaxLength", "50")
    config.set_internal("SecurityProfile", 0)
    assert config.get("HeartbeatInterval") == "900"
    assert config.get_int("LocalAuthListMaxLength") == 50
    assert config.get_int("SecurityProfile") == 0
    with pytest.raises(ConfigurationError) as caught:
        config.set_internal("HeartbeatInterval", -5)
    assert caught.value.problems[0][0] == "HeartbeatInterval"
    with pytest.raises(ConfigurationError):
        config.set_internal("NumberOfConnectors", 3)
    with pytest.raises(ConfigurationError):
        config.set_internal("Nope", 1)
    assert config.get("HeartbeatInterval") == "900"


# -- properties ------------------------------------------------------------------------

KNOWN_KEYS = st.sampled_from(list(KEYS))
ANY_KEY = st.one_of(KNOWN_KEYS, KNOWN_KEYS.map(str.upper), st.text(max_size=60))
VALUES = st.one_of(
    st.text(max_size=500),
    st.integers(-(2**40), 2**40).map(str),
    st.sampled_from(["true", "false", "True", "FALSE", "", " 7 ", "0.RST", "NotApplicable"]),
    st.lists(st.sampled_from(sorted(MEASURANDS)), max_size=25).map(",".join),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=14, max_size=42),
)


def _expected(spec: KeySpec, value: str) -> str:
    if spec.kind is KeyKind.BOOL:
        return value.strip().lower()
    if spec.kind is KeyKind.INT:
        return str(int(value))
    if spec.kind is KeyKind.CSL:
        return ",".join(item.strip() for item in value.split(",")) if value.strip() else ""
    return value


@given(ANY_KEY, VALUES)
def test_change_never_raises_and_accepted_values_read_back(key: str, value: str) -> None:
    config = make()
    before = config.snapshot()
    status = config.change(key, value)
    assert isinstance(status, ConfigurationStatus)
    if status is ACCEPTED:
        spec = KEYS[next(name for name in KEYS if name.lower() == key.lower())]
        assert config.get(spec.name).lower() == _expected(spec, value).lower()
        assert config.change(spec.name, config.get(spec.name)) is ACCEPTED
    else:
        assert config.snapshot() == before
    assert_valid_response(config)


@given(st.lists(st.tuples(ANY_KEY, VALUES), max_size=10))
def test_get_configuration_always_fits_the_schema(changes: list[tuple[str, str]]) -> None:
    config = make()
    for key, value in changes:
        config.change(key, value)
    assert_valid_response(config)
    assert_valid_response(config, [key[:50] for key, _ in changes])


@given(st.dictionaries(ANY_KEY, st.one_of(VALUES, st.integers(), st.booleans()), max_size=6))
def test_overrides_either_build_or_raise_a_configuration_error(
    overrides: dict[str, object],
) -> None:
    try:
        config = Configuration(overrides, number_of_connectors=2)
    except ConfigurationError as error:
        assert error.problems
        for key, _ in error.problems:
            assert key in str(error)
    else:
        assert_valid_response(config)
