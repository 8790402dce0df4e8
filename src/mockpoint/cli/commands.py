"""Registers every subcommand on the group (imported for its side effect by ``main``)."""

from mockpoint.cli import csms, load, record, run, serve, shell, validate

__all__ = ["csms", "load", "record", "run", "serve", "shell", "validate"]
