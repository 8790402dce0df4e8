"""``mockpoint csms``: run the built-in mock CSMS until Ctrl-C or SIGTERM.

``--command ACTION [--period SECONDS] [--payload JSON]`` adds one CSMS-initiated request
to the configuration: with ``--period`` it is sent every period after each accepted boot
(a ``periodic`` entry), without it once right after each accepted boot (an ``on_boot``
entry, after those of ``--config``). One such request per command line; a configuration
file holds any number.

Security (OCPP 1.6 security whitepaper, profiles 1 to 3): ``--tls-cert`` and ``--tls-key``
serve ``wss://`` (profile 2); ``--tls-ca`` also asks for client certificates signed by that
CA (profile 3); ``--password CP=SECRET`` (repeatable; ``*=SECRET`` for every other charge
point) demands HTTP Basic authentication (profiles 1 and 2), adding to the configuration's
``auth``. A password on the command line is visible to other local users: prefer the
configuration's ``${NAME}`` form for anything but a test. No password is ever printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from mockpoint.cli.main import cli
from mockpoint.csms.config import (
    AuthConfig,
    CsmsConfig,
    PeriodicRequest,
    ScriptedRequest,
    check_csms_request,
    load_config,
    parse_duration,
)
from mockpoint.csms.server import MockCsms, wire_logger
from mockpoint.errors import ExitCode, UsageError


@cli.command("csms")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=9000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port; the URL line says which).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file: boot answers, id tags, answer overrides, on_boot and periodic requests.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every frame to this JSON Lines file (truncated at start).",
)
@click.option(
    "--command", "action", metavar="ACTION", help="A request to send to each charge point."
)
@click.option(
    "--period",
    metavar="SECONDS",
    help="Send --command every SECONDS (e.g. 30, 1.5s, 500ms); without it, once after boot.",
)
@click.option("--payload", metavar="JSON", help="The payload of --command (default {}).")
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve wss:// with this certificate (PEM; security profiles 2 and 3).",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The private key of --tls-cert (PEM), unless it is in the certificate's file.",
)
@click.option(
    "--tls-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ask for client certificates signed by this CA (PEM; security profile 3).",
)
@click.option(
    "--password",
    "passwords",
    multiple=True,
    metavar="CP=SECRET",
    help="Demand HTTP Basic auth: the password of charge point CP (*: any other one).",
)
def csms_command(
    host: str,
    port: int,
    config_path: Path | None,
    log_path: Path | None,
    action: str | None,
    period: str | None,
    payload: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_ca: Path | None,
    passwords: tuple[str, ...],
) -> int:
    """Start the built-in mock CSMS (OCPP 1.6J Central System)."""
    config = load_config(config_path) if config_path is not None else CsmsConfig()
    config = _with_command(config, action, period, payload)
    config = _with_passwords(config, passwords)
    if tls_cert is None:
        for name, value in (("--tls-key", tls_key), ("--tls-ca", tls_ca)):
            if value is not None:
                raise click.BadParameter("needs --tls-cert", param_hint=name)
    tls = {"tls_cert": tls_cert, "tls_key": tls_key, "tls_ca": tls_ca}
    _setup_logging()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the handlers are in place
        asyncio.run(_serve(config, host, port, log_path, tls))
    return ExitCode.OK


def _with_passwords(config: CsmsConfig, items: tuple[str, ...]) -> CsmsConfig:
    """``--password CP=SECRET`` added to ``auth``; an error never shows the secret."""
    if not items:
        return config
    passwords = dict(config.auth.passwords)
    any_password = config.auth.any_password
    for item in items:
        cp_id, equals, secret = item.partition("=")
        if not equals or not cp_id.strip() or not secret:
            raise click.BadParameter(
                "write CHARGE_POINT_ID=PASSWORD (or *=PASSWORD)", param_hint="--password"
            )
        if cp_id.strip() == "*":
            any_password = secret
        else:
            passwords[cp_id.strip()] = secret
    return dataclasses.replace(config, auth=AuthConfig(passwords, any_password))


def _with_command(
    config: CsmsConfig, action: str | None, period: str | None, payload: str | None
) -> CsmsConfig:
    if action is None:
        for name, value in (("--period", period), ("--payload", payload)):
            if value is not None:
                raise click.BadParameter("needs --command", param_hint=name)
        return config
    body: Any = {}
    if payload is not None:
        try:
            body = json.loads(payload)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--payload") from None
        if not isinstance(body, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--payload")
    problem = check_csms_request(action, body)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--command/--payload")
    if period is None:
        scripted = (*config.on_boot, ScriptedRequest(action, body))
        return dataclasses.replace(config, on_boot=scripted)
    try:
        seconds = parse_duration(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    if seconds <= 0:
        raise click.BadParameter("must be greater than 0", param_hint="--period")
    periodic = (*config.periodic, PeriodicRequest(action, body, seconds))
    return dataclasses.replace(config, periodic=periodic)


def _setup_logging() -> None:
    ours = logging.getLogger("mockpoint")
    if any(h.get_name() == "mockpoint csms" for h in ours.handlers):
        return  # called again in the same process (tests): one handler is enough
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.set_name("mockpoint csms")
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    # websockets reports a broken client's handshake with a traceback at INFO; our own lines
    # already say what was refused.
    wire_logger.setLevel(logging.WARNING)


async def _serve(
    config: CsmsConfig,
    host: str,
    port: int,
    log_path: Path | None,
    tls: Mapping[str, os.PathLike[str] | None],
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C stays an exception
            loop.add_signal_handler(signum, stop.set)
    csms = MockCsms(
        config,
        host=host,
        port=port,
        log=log_path,
        tls_cert=tls.get("tls_cert"),
        tls_key=tls.get("tls_key"),
        tls_ca=tls.get("tls_ca"),
    )
    try:
        await csms.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    try:
        click.echo(f"mock CSMS listening on {csms.url}")
        if csms.security != "none":
            click.echo(f"security: {csms.security}")
        await stop.wait()
    finally:
        await csms.stop()
        click.echo("mock CSMS stopped")
