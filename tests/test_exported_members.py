"""The curated public surface: everything in ``__all__`` exists, nothing private leaks."""

from __future__ import annotations

import mockpoint


def test_all_names_exist_and_are_public() -> None:
    for name in mockpoint.__all__:
        assert hasattr(mockpoint, name), name
        assert not name.startswith("_"), name
    assert len(set(mockpoint.__all__)) == len(mockpoint.__all__)


def test_every_public_attribute_is_exported() -> None:
    public = {
        name
        for name, value in vars(mockpoint).items()
        if not name.startswith("_") and not isinstance(value, type(mockpoint))
    }
    assert public == set(mockpoint.__all__)


def test_version() -> None:
    assert mockpoint.__version__.count(".") == 2


def test_the_api_is_what_the_readme_uses() -> None:
    for name in ("charge_point", "run_scenario", "run_scenario_files", "MockCsms"):
        assert name in mockpoint.__all__, name
