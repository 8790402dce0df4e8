"""The mock CSMS's control API (``mockpoint csms --control-port``): HTTP/1.1 and JSON, so
that a test or a CSMS driver (docs/csms-driver.md) can make the mock CSMS send a request
to a connected charge point, as a real CSMS does when its operator asks it through its API.

::

    GET  /charge-points                  {"charge_points": [{"id": "CP-1", "connected": true}]}
    POST /charge-points/{id}/{Action}    body: the request's payload (JSON; empty means {})
         ?timeout=S                      how long to wait for the answer (default 30 s)

A POST sends one CSMS-initiated OCPP 1.6 request (RemoteStartTransaction §5.11, Reset
§5.14, GetConfiguration §5.8 ...) and answers, as soon as the charge point does:

- 200 ``{"answer": {...}}``: the payload of the charge point's CALLRESULT;
- 400: the action is not one a Central System sends, or the payload breaks its OCA schema
  (checked as ``--command`` and the configuration's requests are, before anything is sent);
- 404: no charge point of that id is connected (the id is the URL-decoded path segment);
- 502 ``{"error": ..., "code": "NotSupported", ...}``: the charge point answered with a
  CALLERROR (OCPP-J §4.2.3), or an answer that breaks its schema, or went away first;
- 504: no answer within the timeout.

Every error is ``{"error": "..."}``. Bodies are bounded (:data:`MAX_BODY`); every response
closes its connection.

The API listens on loopback only unless it has a token: with one, every request must carry
``Authorization: Bearer <token>`` (compared in constant time), else HTTP 401. The token is
never logged.

The server runs in a daemon thread of its own (``http.server``, no dependency); each request
is carried out on the mock CSMS's asyncio loop, where the charge points' connections live,
and its thread waits for the outcome.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import ipaddress
import json
import logging
import math
import socket
import socketserver
import threading
import time
from collections.abc import Coroutine, Mapping
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mockpoint.csms.config import check_csms_request
from mockpoint.csms.server import MockCsms
from mockpoint.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    LocalProtocolError,
    RemoteProtocolError,
    UsageError,
)
from mockpoint.quantities import parse_duration

__all__ = ["DEFAULT_TIMEOUT", "MAX_BODY", "ControlServer", "is_loopback", "read_token"]

logger = logging.getLogger(__name__)

#: The longest request body read (a payload; the largest OCPP 1.6 requests, a SendLocalList
#: or a SetChargingProfile, are far smaller).
MAX_BODY = 1 << 20
#: Seconds a POST waits for the charge point's answer without ``?timeout=``.
DEFAULT_TIMEOUT = 30.0
#: The longest ``?timeout=`` accepted.
MAX_TIMEOUT = 3600.0
#: Seconds a client may take to send its request before its connection is dropped.
_CLIENT_TIMEOUT = 30.0
#: Beyond the request's own timeout, how long a handler waits for the loop's outcome (the
#: request may queue behind one already in flight: OCPP-J sends one CALL at a time).
_GRACE = 5.0
_JSON = "application/json"
# A body left unread when the answer goes out (413, 401, 404 ...) is read and dropped for at
# most this long and this much, then the connection closes (a "lingering close").
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 8 * MAX_BODY


class _Failure(Exception):
    """An HTTP error answer: its status and JSON body."""

    def __init__(
        self,
        status: HTTPStatus,
        message: str,
        extra: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, object] = {"error": message, **(extra or {})}
        self.headers = dict(headers or {})


#: A handler's result: the HTTP status and the JSON body.
_Reply = tuple[HTTPStatus, dict[str, object]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine: ``localhost`` or a
    loopback address. Any other name counts as reachable from the network."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: str | Path) -> str:
    """The bearer token in ``path`` (surrounding whitespace dropped); raises
    :class:`UsageError` naming the file, never showing the token."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"{path}: cannot read the control token: {reason}") from exc
    if not token:
        raise UsageError(f"{path}: the control token file is empty")
    if not all("!" <= char <= "~" for char in token):
        # It travels in an HTTP header: visible ASCII only, no spaces.
        raise UsageError(f"{path}: the control token must be visible ASCII, without spaces")
    return token


class ControlServer:
    """The control API of a running :class:`~mockpoint.csms.server.MockCsms`.

    ::

        async with MockCsms() as csms:
            control = ControlServer(csms)  # 127.0.0.1, a free port
            control.start()
            try:
                ...  # POST to f"{control.url}/charge-points/CP-1/Reset"
            finally:
                control.stop()

    :meth:`start` must be called on the mock CSMS's event loop (in a coroutine): requests are
    carried out there. A ``host`` that is not loopback needs a ``token`` (UsageError).
    """

    def __init__(
        self,
        csms: MockCsms,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
    ) -> None:
        if token is not None and not token:
            raise UsageError("the control token is empty")
        if token is None and not is_loopback(host):
            raise UsageError(
                f"the control API would accept anyone who reaches {host}: listen on a "
                "loopback address, or give it a token (--control-token-file)"
            )
        self.csms = csms
        self.host = host
        self.port = port
        self._token = token
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[concurrent.futures.Future[_Reply]] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` (the bound port once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind (OSError if the port is taken) and serve in a daemon thread."""
        if self._server is not None:
            return
        self._loop = asyncio.get_running_loop()
        server = _HttpServer((self.host, self.port), _Handler, self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="mockpoint csms control",
            daemon=True,
        )
        self._thread.start()
        logger.debug("control API on %s", self.url)

    def stop(self) -> None:
        """Stop listening; requests still waiting for a charge point are answered 503."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.cancel()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- what the handler thread calls ---------------------------------------------------

    def authorized(self, headers: Message) -> bool:
        """With a token: exactly one ``Authorization: Bearer <token>`` header."""
        if self._token is None:
            return True
        values = headers.get_all("Authorization") or []
        if len(values) != 1:
            return False
        scheme, _, given = values[0].strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self._token.encode())

    def list_charge_points(self) -> _Reply:
        return self._on_loop(self._list(), timeout=_GRACE)

    def send_request(
        self, cp_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> _Reply:
        problem = check_csms_request(action, payload)
        if problem is not None:
            raise _Failure(HTTPStatus.BAD_REQUEST, problem)
        wait = timeout + self.csms.config.call_timeout + _GRACE
        return self._on_loop(self._send(cp_id, action, payload, timeout), timeout=wait)

    # --- on the loop ---------------------------------------------------------------------

    def _on_loop(self, coroutine: Coroutine[Any, Any, _Reply], *, timeout: float) -> _Reply:
        """Run ``coroutine`` on the mock CSMS's loop and wait (in this thread) for it."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._server is None:
            coroutine.close()
            raise _Failure(HTTPStatus.SERVICE_UNAVAILABLE, "the mock CSMS is stopping")
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        with self._lock:
            self._pending.add(future)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise _Failure(HTTPStatus.GATEWAY_TIMEOUT, f"no outcome within {timeout:g} s") from None
        except concurrent.futures.CancelledError:
            raise _Failure(HTTPStatus.SERVICE_UNAVAILABLE, "the mock CSMS is stopping") from None
        finally:
            with self._lock:
                self._pending.discard(future)

    async def _list(self) -> _Reply:
        charge_points = [
            {"id": cp_id, "connected": self.csms.connected(cp_id)}
            for cp_id in self.csms.charge_points()
        ]
        return HTTPStatus.OK, {"charge_points": charge_points}

    async def _send(
        self, cp_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> _Reply:
        if not self.csms.connected(cp_id):
            known = cp_id in self.csms.charge_points()
            why = "is not connected" if known else "has not connected to this mock CSMS"
            return HTTPStatus.NOT_FOUND, {"error": f"charge point {cp_id!r} {why}"}
        try:
            answer = await self.csms.call(cp_id, action, payload, timeout=timeout)
        except CallErrorReceived as exc:
            return HTTPStatus.BAD_GATEWAY, {
                "error": f"{cp_id} answered {action} with a CALLERROR: {exc}",
                "code": exc.code,
                "description": exc.description,
                "details": exc.details if exc.details is not None else {},
            }
        except CallTimeout:
            return HTTPStatus.GATEWAY_TIMEOUT, {
                "error": f"{cp_id} did not answer {action} within {timeout:g} s"
            }
        except RemoteProtocolError as exc:
            return HTTPStatus.BAD_GATEWAY, {
                "error": f"{cp_id} answered {action} with a broken answer: {exc}"
            }
        except ConnectionLost as exc:
            return HTTPStatus.BAD_GATEWAY, {
                "error": f"{cp_id} went away before it answered {action}: {exc}"
            }
        except LocalProtocolError as exc:  # checked before; kept for a schema change
            return HTTPStatus.BAD_REQUEST, {"error": str(exc)}
        return HTTPStatus.OK, {"answer": answer}


class _HttpServer(ThreadingHTTPServer):
    """One thread per request (daemon threads: a stuck client never holds the process)."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[_Handler], control: ControlServer
    ) -> None:
        self.control = control
        host = address[0].strip("[]")
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, address[1]), handler)

    def server_bind(self) -> None:
        # HTTPServer's own looks the host's name up in the DNS, which may take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that broke off or stalled: its business, no traceback on the console.
        logger.info("control API: a client at %s broke off its request", client_address[0])


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"
    server_version = "mockpoint-csms-control"
    timeout = _CLIENT_TIMEOUT
    _body_read = False  # set once the request's body has been read

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        control = self.server.control
        try:
            if not control.authorized(self.headers):
                raise _Failure(
                    HTTPStatus.UNAUTHORIZED,
                    "send the control token as Authorization: Bearer <token>",
                    headers={"WWW-Authenticate": 'Bearer realm="mockpoint csms"'},
                )
            status, body = self._route(control, method)
            headers: dict[str, str] = {}
        except _Failure as failure:
            status, body, headers = failure.status, failure.body, failure.headers
        except Exception:
            logger.exception("control API: %s %s failed", method, self.path)
            status, body, headers = (
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"error": "mockpoint hit an internal error (a bug: please report it)"},
                {},
            )
        logger.info("control API: %s %s: %d", method, urlsplit(self.path).path, status)
        self._reply(status, body, headers)
        if self._body_unread():
            self._linger()

    def _body_unread(self) -> bool:
        if self._body_read:
            return False
        declared = self.headers.get("Content-Length", "0").strip()
        return bool(self.headers.get("Transfer-Encoding")) or declared != "0"

    def _linger(self) -> None:
        """Drop what the client still sends before closing. Closing a socket with unread
        data makes the kernel reset the connection, and a client still writing its body
        then gets the reset instead of the answer already sent."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_SECONDS
            dropped = 0
            while dropped < _LINGER_BYTES:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.connection.settimeout(left)
                chunk = self.connection.recv(1 << 16)
                if not chunk:
                    break
                dropped += len(chunk)
        except OSError:
            pass  # the client went: nothing is left to tell it

    def _route(self, control: ControlServer, method: str) -> _Reply:
        target = urlsplit(self.path)
        parts = [unquote(part) for part in target.path.rstrip("/").split("/")[1:]]
        if not parts or parts[0] != "charge-points" or len(parts) not in (1, 3):
            raise _Failure(
                HTTPStatus.NOT_FOUND,
                f"no such endpoint: {target.path} (GET /charge-points, "
                "POST /charge-points/{id}/{Action})",
            )
        allowed = "GET" if len(parts) == 1 else "POST"
        if method != allowed:
            raise _Failure(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{target.path} takes {allowed}",
                headers={"Allow": allowed},
            )
        query = _query(target.query, allowed={"timeout"} if method == "POST" else set())
        if method == "GET":
            return control.list_charge_points()
        cp_id, action = parts[1], parts[2]
        if not cp_id:
            raise _Failure(HTTPStatus.NOT_FOUND, "the charge point id is empty")
        timeout = _timeout(query.get("timeout"))
        return control.send_request(cp_id, action, self._payload(), timeout)

    def _payload(self) -> dict[str, Any]:
        """The JSON object of the body ({} for an empty one)."""
        if self.headers.get("Transfer-Encoding"):
            raise _Failure(
                HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length, not chunked"
            )
        declared = self.headers.get("Content-Length", "0").strip()
        if not declared.isdigit():
            raise _Failure(HTTPStatus.BAD_REQUEST, f"Content-Length {declared!r} is not a size")
        length = int(declared)
        if length > MAX_BODY:
            raise _Failure(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body is {length} bytes; at most {MAX_BODY} are read",
            )
        self._body_read = True
        try:
            data = self.rfile.read(length)
        except OSError:
            raise _Failure(HTTPStatus.REQUEST_TIMEOUT, "the body did not arrive") from None
        if len(data) < length:
            raise _Failure(HTTPStatus.BAD_REQUEST, "the body is shorter than its Content-Length")
        if not data.strip():
            return {}
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise _Failure(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise _Failure(
                HTTPStatus.BAD_REQUEST, "the body must be a JSON object (the request's payload)"
            )
        return payload

    def _reply(
        self, status: HTTPStatus, body: Mapping[str, object], headers: Mapping[str, str]
    ) -> None:
        data = (json.dumps(body, ensure_ascii=False) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, an unknown method), in
        JSON like every other error."""
        status = HTTPStatus(code)
        self._reply(status, {"error": message or status.phrase}, {})

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        logger.debug("control API: %s", format % args)


def _query(text: str, *, allowed: set[str]) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise _Failure(HTTPStatus.BAD_REQUEST, f"cannot read the query {text!r}") from None
    query: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise _Failure(
                HTTPStatus.BAD_REQUEST, f"unknown query parameter {name!r} (known: {known})"
            )
        query[name] = value
    return query


def _timeout(text: str | None) -> float:
    """``?timeout=S``: seconds (``5``, ``1.5s``, ``500ms``), more than 0."""
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise _Failure(HTTPStatus.BAD_REQUEST, f"timeout: {exc}") from None
    if not 0 < seconds <= MAX_TIMEOUT or not math.isfinite(seconds):
        raise _Failure(
            HTTPStatus.BAD_REQUEST, f"timeout: must be more than 0 and at most {MAX_TIMEOUT:g} s"
        )
    return seconds
