"""The ``mockpoint`` command line."""

from mockpoint.cli.main import main

__all__ = ["main"]
