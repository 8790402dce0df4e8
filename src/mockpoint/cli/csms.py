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

``--control-port`` serves the control API (:mod:`mockpoint.csms.control`): HTTP and JSON,
with which a test or a CSMS driver (docs/csms-driver.md) makes this CSMS send a request to a
connected charge point. It listens on ``--control-host`` (loopback by default); any other
address needs ``--control-token-file``, whose token every request must then bear.

``--config`` takes a mock CSMS configuration or a scenario file, whose ``mock_csms`` block
it uses: the CSMS a scenario's steps expect, for a run of that scenario against it.

The command prints, on standard output, "mock CSMS listening on <url>" (then "security: ..."
and "control API on <url>" when they apply) once it serves, and "mock CSMS stopped" at the
end; everything else is logged on standard error.
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
from click.core import ParameterSource

from mockpoint.cli.main import cli
from mockpoint.csms.config import (
    AuthConfig,
    CsmsConfig,
    PeriodicRequest,
    ScriptedRequest,
    check_csms_request,
    load_csms_config,
)
from mockpoint.csms.control import ControlServer, is_loopback, read_token
from mockpoint.csms.server import MockCsms, wire_logger
from mockpoint.errors import ExitCode, UsageError
from mockpoint.quantities import parse_duration


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
    help=(
        "YAML file: boot answers, id tags, answer overrides, on_boot and periodic requests; "
        "or a scenario file, whose mock_csms block is used."
    ),
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
@click.option(
    "--control-port",
    metavar="PORT",
    type=click.IntRange(0, 65535),
    help="Serve the control API on PORT (0: any free port; its URL line says which).",
)
@click.option(
    "--control-host",
    metavar="HOST",
    default="127.0.0.1",
    show_default=True,
    help="Address of the control API; any but a loopback address needs a token file.",
)
@click.option(
    "--control-token-file",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Every control API request must bear the token in FILE (Authorization: Bearer).",
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
    control_port: int | None,
    control_host: str,
    control_token_file: Path | None,
) -> int:
    """Start the built-in mock CSMS (OCPP 1.6J Central System).

    With --control-port it also serves a control API (HTTP, JSON) through which a test or
    a CSMS driver makes it send requests to the charge points:

    \b
      GET  /charge-points            {"charge_points": [{"id": ..., "connected": ...}]}
      POST /charge-points/ID/ACTION  body: the request's payload; ?timeout=SECONDS (30)

    A POST answers 200 {"answer": {...}} with the charge point's reply, 400 for a request
    a CSMS cannot send or a payload that breaks its schema, 404 when ID is not connected,
    502 for a CALLERROR (its "code"), 504 when no answer came in time.
    """
    config = _load(config_path)
    config = _with_command(config, action, period, payload)
    config = _with_passwords(config, passwords)
    if tls_cert is None:
        for name, value in (("--tls-key", tls_key), ("--tls-ca", tls_ca)):
            if value is not None:
                raise click.BadParameter("needs --tls-cert", param_hint=name)
    tls = {"tls_cert": tls_cert, "tls_key": tls_key, "tls_ca": tls_ca}
    control = _control(control_port, control_host, control_token_file)
    _setup_logging()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the handlers are in place
        asyncio.run(_serve(config, host, port, log_path, tls, control))
    return ExitCode.OK


@dataclasses.dataclass(frozen=True)
class _ControlOptions:
    host: str
    port: int
    token: str | None


def _load(path: Path | None) -> CsmsConfig:
    """``--config``: a configuration file, or a scenario file's ``mock_csms`` block."""
    if path is None:
        return CsmsConfig()
    loaded = load_csms_config(path)
    if loaded.scenario and not loaded.block:
        click.echo(
            f"{path}: a scenario without a mock_csms block: the default configuration",
            err=True,
        )
    return loaded.config


def _control(port: int | None, host: str, token_file: Path | None) -> _ControlOptions | None:
    if port is None:
        source = click.get_current_context().get_parameter_source("control_host")
        for name, given in (
            ("--control-host", source is ParameterSource.COMMANDLINE),
            ("--control-token-file", token_file is not None),
        ):
            if given:
                raise click.BadParameter("needs --control-port", param_hint=name)
        return None
    token = read_token(token_file) if token_file is not None else None
    if token is None and not is_loopback(host):
        raise click.BadParameter(
            f"{host} is not a loopback address: anyone who reaches it could drive the "
            "charge points; give --control-token-file too",
            param_hint="--control-host",
        )
    return _ControlOptions(host, port, token)


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
    handler.addFilter(_ListeningLine())
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    # websockets reports a broken client's handshake with a traceback at INFO; our own lines
    # already say what was refused.
    wire_logger.setLevel(logging.WARNING)


class _ListeningLine(logging.Filter):
    """Drops MockCsms's own "listening on" record: the command prints that line on standard
    output already, where scripts read it, and one is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name == "mockpoint.csms.server"
            and str(record.msg).startswith("mock CSMS listening on")
        )


async def _serve(
    config: CsmsConfig,
    host: str,
    port: int,
    log_path: Path | None,
    tls: Mapping[str, os.PathLike[str] | None],
    control_options: _ControlOptions | None = None,
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
    control = (
        ControlServer(csms, control_options.host, control_options.port, control_options.token)
        if control_options is not None
        else None
    )
    try:
        await csms.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    if control is not None:
        try:
            control.start()
        except OSError as exc:
            await csms.stop()
            where = f"{control.host}:{control.port}"
            raise UsageError(
                f"cannot serve the control API on {where}: {exc.strerror or exc}"
            ) from exc
    try:
        click.echo(f"mock CSMS listening on {csms.url}")
        if csms.security != "none":
            click.echo(f"security: {csms.security}")
        if control is not None:
            click.echo(f"control API on {control.url}")
        await stop.wait()
    finally:
        if control is not None:
            control.stop()
        await csms.stop()
        click.echo("mock CSMS stopped")
