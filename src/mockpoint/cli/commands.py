"""Registers every subcommand on the group (imported for its side effect by ``main``)."""
