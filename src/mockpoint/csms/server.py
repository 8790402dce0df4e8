"""The mock CSMS: a WebSocket server that answers OCPP 1.6J charge points.

OCPP-J 1.6 §3: a charge point connects to ``<url>/<charge point identity>`` and offers the
subprotocol ``ocpp1.6``. The server accepts any identity — the last path segment,
URL-decoded — and refuses, during the HTTP upgrade:

- a request without an identity (``/`` or ``/ocpp/``): HTTP 404 (``/ocpp/CP-1/`` is CP-1);
- a client that does not offer ``ocpp1.6`` (§3.1.2): HTTP 400 with a one-line body.

Each connection runs an :class:`~mockpoint.rpc.RpcSession` inside an
:class:`~mockpoint.runtime.Endpoint`. The session validates every request against the OCA
schemas and answers a broken one with the CALLERROR of OCPP-J §4.2.3 by itself; valid
requests reach :class:`~mockpoint.csms.behaviour.CsmsBehaviour`, which decides the answer.
The session's unique ids come from ``SeededIds(f"csms:{cp_id}:{n}")``, ``n`` counting the
connections of that charge point from 1, so the CSMS's own requests carry the same ids in
every run and never repeat an id across reconnections.

A second connection with an identity already connected replaces the first, whose
connection is closed (code 1000, "replaced by a new connection"): a charge point that
reconnects after a network failure is usually the same device whose old socket the server
has not noticed dead yet, and real CSMSs resolve it the same way.

After an Accepted boot the ``on_boot`` requests of the configuration are sent in order,
and every ``periodic`` request starts its cycle; when a registered charge point reconnects
without booting, only the periodic requests resume. Both stop when the connection closes.
Their delays and periods are real seconds (asyncio), like the timeouts.

A misbehaving client never causes a traceback: what it did wrong is recorded
(:meth:`MockCsms.violations`) and logged.

Security (OCPP 1.6 security whitepaper, the transport level):

- profile 1: with passwords (``CsmsConfig.auth`` or ``passwords=``) the upgrade request
  must carry HTTP Basic authentication, user name = the identity, password = the one
  registered for it; a missing or wrong one is refused with HTTP 401 before the upgrade.
  When the CSMS sets a new AuthorizationKey (ChangeConfiguration, answered Accepted), that
  key becomes the charge point's password from its next connection on, as on a real CSMS;
- profile 2: with ``tls_cert`` / ``tls_key`` the server speaks TLS (``wss://``);
- profile 3: with ``tls_ca`` as well it asks for a client certificate signed by that CA and
  refuses the TLS handshake without one. If passwords are set too, a certificate is optional
  and a charge point without one must authenticate with its password, so profiles 2 and 3
  share the endpoint. The certificate's CN is logged next to the identity.

Passwords never reach the log: the refusals say why without the password, the frame log
masks the value of a ChangeConfiguration of AuthorizationKey, and websockets' debug log of
the request headers and frames goes through
:class:`~mockpoint.transport.websocket.RedactCredentials`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hmac
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, NoReturn, Self, TextIO, TypeVar
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response

from mockpoint.clock import Clock
from mockpoint.csms.behaviour import ChargePointState, CsmsBehaviour, Fail, Ignore
from mockpoint.csms.config import CsmsConfig, TriggeredRequest, substitute
from mockpoint.csms.framelog import FrameLog
from mockpoint.csms.security import basic_credentials, certificate_subject, server_tls
from mockpoint.errors import OCPP_ERRORS, CallFailed, ConnectionLost, ProtocolError
from mockpoint.ids import SeededIds
from mockpoint.ocpp16.actions import CENTRAL_SYSTEM_HANDLES
from mockpoint.ocpp16.secrets import redact_frame
from mockpoint.rpc.frames import Call, WireFrame
from mockpoint.rpc.session import InvalidAnswer, RemoteViolation, RpcSession
from mockpoint.runtime.endpoint import Endpoint
from mockpoint.transport.websocket import (
    SUBPROTOCOL,
    RedactCredentials,
    WebSocketTransport,
)

logger = logging.getLogger(__name__)

#: websockets' own log (handshake failures of broken clients) goes here, apart from ours,
#: so the command line can keep it quiet.
wire_logger = logging.getLogger("mockpoint.csms.wire")
wire_logger.addFilter(RedactCredentials())

#: What a charge point did wrong: a frame the session refused, or an invalid answer.
PeerViolation = RemoteViolation | InvalidAnswer

#: The path of :attr:`MockCsms.url`; any path is accepted, the last segment is the identity.
URL_PATH = "/ocpp"

_T = TypeVar("_T")


@dataclass(eq=False)
class _Connection:
    cp_id: str
    number: int
    remote: str
    endpoint: Endpoint = field(init=False)
    scripts: set[asyncio.Task[None]] = field(default_factory=set)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class _Observer:
    """The Endpoint's FrameObserver for one connection."""

    def __init__(self, csms: MockCsms, cp_id: str) -> None:
        self._csms = csms
        self._cp_id = cp_id

    def frame(self, wire: WireFrame) -> None:
        if self._csms.frame_log is not None:
            self._csms.frame_log.write_frame(self._cp_id, wire)

    def violation(self, event: PeerViolation) -> None:
        self._csms._record_violation(self._cp_id, event)


class MockCsms:
    """An OCPP 1.6J Central System for tests, demos and the scenario runner.

    ::

        async with MockCsms() as csms:
            ...  # connect charge points to csms.url
            call = await csms.wait_for("CP-001", "BootNotification", timeout=5)
            answer = await csms.call("CP-001", "GetConfiguration", {})

    ``port=0`` binds a free port; :attr:`url` tells which. ``log`` is a path or a text
    stream for the JSON Lines frame log (:class:`FrameLog`).

    Security (see the module's docstring): ``tls_cert`` and ``tls_key`` (PEM files; the key
    may be in the certificate's file) serve ``wss://``; ``tls_ca`` also asks for client
    certificates signed by that CA; ``passwords`` (charge point id to password) adds to the
    configuration's ``auth.passwords``. Unreadable TLS files raise
    :class:`~mockpoint.errors.UsageError` here, not when the server starts.
    """

    def __init__(
        self,
        config: CsmsConfig | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log: str | os.PathLike[str] | TextIO | None = None,
        *,
        tls_cert: str | os.PathLike[str] | None = None,
        tls_key: str | os.PathLike[str] | None = None,
        tls_ca: str | os.PathLike[str] | None = None,
        passwords: Mapping[str, str] | None = None,
    ) -> None:
        self.behaviour = CsmsBehaviour(config, clock)
        self.host = host
        self.port = port
        self._log_target = log
        auth = self.behaviour.config.auth
        #: the Basic-auth password of each charge point; a new AuthorizationKey updates it
        self._passwords: dict[str, str] = {**auth.passwords, **(passwords or {})}
        self._any_password = auth.any_password
        self._auth_required = bool(self._passwords) or self._any_password is not None
        self._tls = server_tls(tls_cert, tls_key, tls_ca, optional=self._auth_required)
        self._client_certificates = tls_ca is not None
        self.frame_log: FrameLog | None = None
        self._server: Server | None = None
        self._connections: dict[str, _Connection] = {}
        self._connection_numbers: dict[str, int] = {}
        #: per charge point: how often each on_request trigger fired
        self._trigger_counts: dict[str, dict[int, int]] = {}
        self._violations: dict[str, list[PeerViolation]] = {}
        self._background: set[asyncio.Task[None]] = set()
        # Replaced by a fresh Event at every change: waiters re-check their condition.
        self._changed = asyncio.Event()

    @property
    def config(self) -> CsmsConfig:
        return self.behaviour.config

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start accepting charge points."""
        if self._log_target is not None:
            self.frame_log = FrameLog(self._log_target, self.behaviour.clock)
        try:
            self._server = await self._listen()
        except BaseException:
            if self.frame_log is not None:
                self.frame_log.close()
                self.frame_log = None
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("mock CSMS listening on %s", self.url)

    async def _listen(self) -> Server:
        return await serve(
            self._serve_connection,
            self.host,
            self.port,
            subprotocols=[SUBPROTOCOL],
            process_request=self._process_request,
            compression=None,
            # Keepalive pings would add traffic that depends on wall time; a test CSMS
            # learns of a dead peer from the next write instead.
            ping_interval=None,
            close_timeout=5,
            max_size=2**22,
            logger=wire_logger,
            ssl=self._tls,
        )

    async def stop(self) -> None:
        """Close every connection (code 1001) and stop listening."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        for task in list(self._background):
            task.cancel()
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.frame_log is not None:
            self.frame_log.close()
            self.frame_log = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """``ws://<host>:<port>/ocpp`` (``wss://`` with TLS); a charge point appends its
        identity to it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "wss" if self._tls is not None else "ws"
        return f"{scheme}://{host}:{self.port}{URL_PATH}"

    @property
    def security(self) -> str:
        """The security this server demands, for humans (never a password)."""
        parts = []
        if self._tls is not None:
            parts.append("TLS")
        if self._client_certificates:
            parts.append(
                "client certificates or Basic auth"
                if self._auth_required
                else "client certificates required"
            )
        elif self._auth_required:
            parts.append("Basic auth")
        return ", ".join(parts) or "none"

    def set_password(self, cp_id: str, password: str | None) -> None:
        """Register (``None``: forget) the Basic-auth password of ``cp_id``; it applies from
        the charge point's next connection on."""
        if password is None:
            self._passwords.pop(cp_id, None)
        else:
            self._passwords[cp_id] = password
        self._auth_required = bool(self._passwords) or self._any_password is not None

    # --- what tests and the scenario runner use ------------------------------------------

    def connected(self, cp_id: str) -> bool:
        return cp_id in self._connections

    def charge_points(self) -> list[str]:
        """Every charge point that has connected since the start (connected now or not),
        sorted by id."""
        return sorted(self._connection_numbers)

    def state(self, cp_id: str) -> ChargePointState:
        """What the CSMS knows of ``cp_id`` (registration, connectors, transactions...)."""
        return self.behaviour.state(cp_id)

    def received(self, cp_id: str) -> list[Call]:
        """The valid requests ``cp_id`` sent, in order, across its connections."""
        state = self.behaviour.states.get(cp_id)
        return list(state.calls) if state is not None else []

    def violations(self, cp_id: str) -> list[PeerViolation]:
        """What ``cp_id`` did wrong: refused frames and schema-breaking answers, in order."""
        return list(self._violations.get(cp_id, []))

    async def call(
        self,
        cp_id: str,
        action: str,
        payload: Mapping[str, Any],
        timeout: float | None = None,
        *,
        validate: bool = True,
    ) -> dict[str, Any]:
        """Send a CSMS-initiated request to ``cp_id`` and return its answer's payload.

        Raises :class:`~mockpoint.errors.ConnectionLost` when ``cp_id`` is not connected,
        and what :meth:`Endpoint.call` raises: ``CallErrorReceived``, ``CallTimeout``,
        ``RemoteProtocolError``, ``ConnectionLost``, ``LocalProtocolError``. ``timeout``
        defaults to the configuration's ``call_timeout``.
        """
        connection = self._connections.get(cp_id)
        if connection is None:
            raise ConnectionLost(f"{cp_id} is not connected to the mock CSMS")
        return await self._call(
            connection,
            action,
            payload,
            timeout=self.config.call_timeout if timeout is None else timeout,
            validate=validate,
        )

    async def wait_connected(self, cp_id: str, timeout: float = 10.0) -> None:
        """Wait until ``cp_id`` is connected; raises :class:`TimeoutError`."""
        await self._wait_until(
            lambda: self._connections.get(cp_id),
            timeout,
            f"{cp_id} did not connect within {timeout:g} s",
        )

    async def wait_for(
        self,
        cp_id: str,
        action: str,
        timeout: float = 10.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> Call:
        """The first request of ``action`` from ``cp_id`` (matching ``predicate``), received
        already or within ``timeout`` seconds; raises :class:`TimeoutError`."""

        def find() -> Call | None:
            for call in self.received(cp_id):
                if call.action == action and (predicate is None or predicate(call)):
                    return call
            return None

        return await self._wait_until(
            find, timeout, f"{cp_id} sent no matching {action} within {timeout:g} s"
        )

    async def disconnect(self, cp_id: str, code: int = 1000, reason: str = "") -> None:
        """Close the connection of ``cp_id`` (nothing happens if it is not connected)."""
        connection = self._connections.get(cp_id)
        if connection is None:
            return
        await connection.endpoint.close(code, reason)
        # The close handshake is bounded by close_timeout; the handler ends right after.
        async with asyncio.timeout(10):
            await connection.finished.wait()

    # --- internals -----------------------------------------------------------------------

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _wait_until(self, probe: Callable[[], _T | None], timeout: float, message: str) -> _T:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    result = probe()
                    if result is not None:
                        return result
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(message) from None

    def _record_violation(self, cp_id: str, event: PeerViolation) -> None:
        self._violations.setdefault(cp_id, []).append(event)
        if isinstance(event, InvalidAnswer):
            logger.warning(
                "%s: invalid answer to %s: %s",
                cp_id,
                event.call.action,
                event.violation.message,
            )
        else:
            answered = f" (answered {event.reply.error_code})" if event.reply else ""
            logger.warning("%s: %s%s", cp_id, event.description, answered)
        self._notify()

    async def _call(
        self,
        connection: _Connection,
        action: str,
        payload: Mapping[str, Any],
        *,
        timeout: float,
        validate: bool = True,
    ) -> dict[str, Any]:
        """Every request of the CSMS goes out here: an accepted new AuthorizationKey becomes
        the charge point's password (security whitepaper: the Central System stores it)."""
        sent = copy.deepcopy(dict(payload))
        answer = await connection.endpoint.call(action, sent, timeout=timeout, validate=validate)
        if (
            action == "ChangeConfiguration"
            and str(sent.get("key", "")).lower() == "authorizationkey"
            and isinstance(sent.get("value"), str)
            and answer.get("status") in ("Accepted", "RebootRequired")
        ):
            self.set_password(connection.cp_id, sent["value"])
            logger.info(
                "%s accepted a new AuthorizationKey: its password from its next connection on",
                connection.cp_id,
            )
        return answer

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse, during the upgrade, what cannot become an OCPP-J connection."""
        remote = _address(connection.remote_address)
        if not _charge_point_id(request.path):
            logger.info("refused %s from %s: no charge point id in the path", request.path, remote)
            return connection.respond(
                HTTPStatus.NOT_FOUND,
                "The charge point identity must be the last segment of the URL path.\n",
            )
        offered: list[str] = []
        try:
            for header in request.headers.get_all("Sec-WebSocket-Protocol"):
                offered.extend(parse_subprotocol(header))
        except InvalidHeader:
            offered = []
        if SUBPROTOCOL not in offered:
            logger.info(
                "refused %s from %s: the WebSocket subprotocol ocpp1.6 is not offered (got %s)",
                request.path,
                remote,
                ", ".join(offered) or "none",
            )
            return connection.respond(
                HTTPStatus.BAD_REQUEST,
                "This is an OCPP 1.6J Central System: offer the WebSocket subprotocol ocpp1.6.\n",
            )
        return self._authenticate(connection, request, remote)

    def _authenticate(
        self, connection: ServerConnection, request: Request, remote: str
    ) -> Response | None:
        """Security whitepaper, profiles 1 to 3: the client certificate (logged), then HTTP
        Basic authentication; a refusal is HTTP 401 and its log line names no password."""
        cp_id = _charge_point_id(request.path)
        certified = False
        if self._client_certificates:
            subject = certificate_subject(connection)
            certified = subject is not None
            if subject is not None:
                name = subject or "no CN"
                match = "" if subject == cp_id else " (not its identity)"
                logger.info("%s presented a client certificate, %s%s", cp_id, name, match)
        headers = request.headers.get_all("Authorization")
        if not headers:
            if not self._auth_required or certified:
                return None
            return self._unauthorized(connection, cp_id, remote, "no Basic authentication")
        if not self._auth_required:
            return None  # nothing to check against: the header is ignored
        if len(headers) > 1:
            return self._unauthorized(connection, cp_id, remote, "several Authorization headers")
        credentials = basic_credentials(headers[0])
        if credentials is None:
            return self._unauthorized(
                connection, cp_id, remote, "an Authorization header that is not Basic user:pass"
            )
        user, password = credentials
        if user != cp_id:
            return self._unauthorized(
                connection, cp_id, remote, f"the user name {user!r} is not the identity"
            )
        expected = self._passwords.get(cp_id, self._any_password)
        if expected is None:
            return self._unauthorized(connection, cp_id, remote, "no password registered for it")
        if not hmac.compare_digest(password.encode(), expected.encode()):
            return self._unauthorized(connection, cp_id, remote, "wrong password")
        return None

    def _unauthorized(
        self, connection: ServerConnection, cp_id: str, remote: str, why: str
    ) -> Response:
        logger.warning("refused %s from %s: %s (HTTP 401)", cp_id, remote, why)
        response = connection.respond(
            HTTPStatus.UNAUTHORIZED,
            "HTTP Basic authentication failed: the user name is the charge point identity, "
            "the password its AuthorizationKey.\n",
        )
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
        return response

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        cp_id = _charge_point_id(websocket.request.path if websocket.request else "")
        number = self._connection_numbers.get(cp_id, 0) + 1
        self._connection_numbers[cp_id] = number
        connection = _Connection(cp_id, number, _address(websocket.remote_address))
        session = RpcSession(
            CENTRAL_SYSTEM_HANDLES,
            ids=SeededIds(f"csms:{cp_id}:{number}"),
            default_timeout=self.config.call_timeout,
        )

        async def handle(call: Call) -> dict[str, Any]:
            return await self._answer(connection, call)

        connection.endpoint = Endpoint(
            WebSocketTransport(websocket), session, handle, observer=_Observer(self, cp_id)
        )
        previous = self._connections.get(cp_id)
        self._connections[cp_id] = connection
        if previous is not None:
            logger.info(
                "%s connected again from %s: closing its previous connection",
                cp_id,
                connection.remote,
            )
            self._spawn(previous.endpoint.close(1000, "replaced by a new connection"))
        else:
            logger.info("%s connected from %s", cp_id, connection.remote)
        if self.behaviour.state(cp_id).accepted:
            self._start_scripts(connection, on_boot=False)
        self._notify()
        try:
            try:
                lost = await connection.endpoint.run()
            except ConnectionLost as exc:
                # Endpoint.run raises (instead of returning) when the peer is gone before
                # the answer to its last frame could be written; the same end for us.
                lost = exc
            logger.info("%s disconnected: %s", cp_id, lost)
        finally:
            await _cancel_all(connection.scripts)
            if self._connections.get(cp_id) is connection:
                del self._connections[cp_id]
            connection.finished.set()
            self._notify()

    async def _answer(self, connection: _Connection, call: Call) -> dict[str, Any]:
        """The Endpoint's request handler: the behaviour decides, this carries it out."""
        answer = self.behaviour.answer(connection.cp_id, call)
        self._notify()
        if isinstance(answer, Ignore):
            logger.info(
                "%s: leaving %s %s unanswered", connection.cp_id, call.action, call.unique_id
            )
            await _forever()
        if isinstance(answer, Fail):
            raise OCPP_ERRORS[answer.code](answer.description)
        if call.action == "BootNotification":
            status = answer.payload.get("status")
            logger.info(
                "%s booted (#%d): %s",
                connection.cp_id,
                self.behaviour.state(connection.cp_id).boot_count,
                status,
            )
            if status == "Accepted":
                # Started before the answer is queued, yet each script sleeps first, so the
                # boot answer always goes out before the first scripted request.
                self._start_scripts(connection, on_boot=True)
        self._fire_triggers(connection, call)
        return answer.payload

    def _fire_triggers(self, connection: _Connection, call: Call) -> None:
        """Start the ``on_request`` requests that ``call`` triggers (after its answer)."""
        counts = self._trigger_counts.setdefault(connection.cp_id, {})
        for index, trigger in enumerate(self.config.on_request):
            if trigger.when_action != call.action or counts.get(index, 0) >= trigger.times:
                continue
            if not _contains(call.payload, trigger.when_match):
                continue
            counts[index] = counts.get(index, 0) + 1
            transactions = self.behaviour.state(connection.cp_id).transactions
            values = {"${transaction_id}": max(transactions, default=0)}
            payload = substitute(trigger.payload, values)
            task = asyncio.create_task(self._triggered(connection, trigger, payload))
            connection.scripts.add(task)
            task.add_done_callback(connection.scripts.discard)

    async def _triggered(
        self, connection: _Connection, trigger: TriggeredRequest, payload: Mapping[str, Any]
    ) -> None:
        # Even at delay 0 this runs after the triggering answer has been queued.
        await asyncio.sleep(trigger.delay)
        await self._script_call(connection, trigger.action, payload)

    def _start_scripts(self, connection: _Connection, *, on_boot: bool) -> None:
        for task in connection.scripts:
            task.cancel()  # a new boot on the same connection starts the scripts over
        connection.scripts.clear()
        tasks = []
        if on_boot and self.config.on_boot:
            tasks.append(asyncio.create_task(self._run_on_boot(connection)))
        for request in self.config.periodic:
            tasks.append(
                asyncio.create_task(
                    self._run_periodic(connection, request.action, request.payload, request.period)
                )
            )
        for task in tasks:
            connection.scripts.add(task)
            task.add_done_callback(connection.scripts.discard)

    async def _run_on_boot(self, connection: _Connection) -> None:
        for request in self.config.on_boot:
            await asyncio.sleep(request.delay)
            if not await self._script_call(connection, request.action, request.payload):
                return

    async def _run_periodic(
        self, connection: _Connection, action: str, payload: Mapping[str, Any], period: float
    ) -> None:
        # Due times on a fixed grid from the start, so round trips do not make it drift; a
        # request late by more than a period is sent once, not once per missed period.
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due = max(due + period, loop.time())
            await asyncio.sleep(due - loop.time())
            if not await self._script_call(connection, action, payload):
                return

    async def _script_call(
        self, connection: _Connection, action: str, payload: Mapping[str, Any]
    ) -> bool:
        """Send one scripted request; False once the connection is gone."""
        try:
            await self._call(connection, action, payload, timeout=self.config.call_timeout)
        except ConnectionLost:
            return False
        except (CallFailed, ProtocolError) as exc:
            # The charge point's answer is its business; the log and violations show it.
            logger.info("%s: %s request failed: %s", connection.cp_id, action, exc)
        return True

    def _spawn(self, coroutine: Any) -> None:
        async def run() -> None:
            with contextlib.suppress(ConnectionLost):
                await coroutine

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _charge_point_id(path: str) -> str:
    """The identity in a request path: its last segment, URL-decoded (OCPP-J 1.6 §3.1.1);
    a trailing slash is forgiven (``/ocpp/CP-1/``, as CSMSs that route so expect), but
    ``/ocpp/`` itself names no charge point ("" for no identity)."""
    route = urlsplit(path).path
    trimmed = route.rstrip("/")
    if route != trimmed and trimmed in ("", URL_PATH):
        return ""
    return unquote(trimmed.rsplit("/", 1)[-1])


def _address(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = f"[{address[0]}]" if ":" in str(address[0]) else str(address[0])
        return f"{host}:{address[1]}"
    return str(address)


async def _forever() -> NoReturn:
    """Never return (until cancelled: the Endpoint cancels handlers when the connection
    goes)."""
    await asyncio.get_running_loop().create_future()
    raise AssertionError("unreachable")


async def _cancel_all(tasks: set[asyncio.Task[None]]) -> None:
    pending = list(tasks)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task


__all__ = ["URL_PATH", "FrameLog", "MockCsms", "PeerViolation", "redact_frame", "wire_logger"]


def _contains(payload: Any, wanted: Any) -> bool:
    """Whether ``payload`` holds ``wanted``: equal scalars, mappings recursively a subset."""
    if isinstance(wanted, Mapping):
        return isinstance(payload, Mapping) and all(
            key in payload and _contains(payload[key], value) for key, value in wanted.items()
        )
    return bool(payload == wanted) and type(payload) is type(wanted)
