"""Registers every subcommand on the group (imported for its side effect by ``main``)."""

from mockpoint.cli import csms, demo

__all__ = ["csms", "demo"]
