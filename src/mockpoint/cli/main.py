"""The ``mockpoint`` command group and its exit-code discipline.

Every command returns through :func:`main`: a :class:`~mockpoint.errors.MockpointError`
becomes its ``exit_code`` and a one-line message; anything else is a bug in mockpoint,
exit 4 with a request to report it.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from mockpoint import __version__
from mockpoint.errors import ExitCode, MockpointError
from mockpoint.transport.websocket import check_csms_url


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mockpoint")
def cli() -> None:
    """mockpoint: a deterministic OCPP 1.6J charge point simulator for testing CSMS backends."""


def checked_csms_url(_ctx: click.Context, _param: click.Parameter, url: str | None) -> str | None:
    """The ``--csms`` option's callback of ``run``, ``load`` and ``shell``: a URL that is not
    ws:// or wss:// stops the command at once (exit 2) instead of failing to connect for
    ``--connect-timeout``. One with ``${NAME}`` is checked once expanded, at run time."""
    if url is not None and "${" not in url:
        check_csms_url(url, "--csms")
    return url


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns (and, as a script, exits with) the exit code."""
    from mockpoint.cli import commands  # noqa: F401  (registers the commands)

    try:
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return ExitCode.FAILED
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except MockpointError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return ExitCode.FAILED
    except Exception:
        click.secho(
            "mockpoint hit an internal error (a bug: please report it):", fg="red", err=True
        )
        traceback.print_exc()
        return ExitCode.INTERNAL
    return int(result) if isinstance(result, int) else ExitCode.OK


def entry_point() -> None:
    sys.exit(main())
