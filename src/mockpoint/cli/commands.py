"""Registers every subcommand on the group (imported for its side effect by ``main``)."""

from mockpoint.cli import csms, run, validate

__all__ = ["csms", "run", "validate"]
