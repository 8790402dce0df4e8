"""The HTTP API of ``mockpoint serve`` (docs/serve.md), on FastAPI.

Routes and their bodies come from :mod:`mockpoint.serve.models` and the scenario format's
models, so the OpenAPI document at ``/openapi.json`` is the code's own description. Errors
are one shape (:class:`ErrorBody`) with the status that says what happened: 400 for a body
or value that cannot be (naming the field), 401 without the token, 404 for an unknown id,
409 for what the state forbids, 502 for a CSMS that cannot be reached. A verb that ran
answers its :class:`StepResult`: 200 passed, 400 invalid, 409 refused, 422 a check failed,
504 the CSMS did not answer in time (docs/serve.md, "Verbs").
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any

import pydantic
from fastapi import Body, Depends, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection

from mockpoint import __version__
from mockpoint.errors import ConnectError, MockpointError, UsageError
from mockpoint.scenario import model
from mockpoint.scenario.reports.junit import junit_element
from mockpoint.scenario.reports.markdown import render_markdown
from mockpoint.serve.events import EVENT_TYPES, Subscription
from mockpoint.serve.hub import Conflict, Hub, NotFound
from mockpoint.serve.models import (
    AwaitBody,
    ChargePointView,
    CreateChargePoint,
    ErrorBody,
    IgnoreBody,
    LoadRequest,
    LoadView,
    RunRequest,
    RunView,
    SendBody,
    SendRawBody,
    StepResult,
    WaitBody,
)

#: an SSE comment this often keeps proxies from closing a quiet stream
KEEPALIVE = 15.0

_STEP: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(model.Step)

#: how a failed verb's cause answers (docs/serve.md, "Verbs")
_STATUS_OF_CAUSE = {"refused": 409, "invalid": 400, "timeout": 504, "check": 422}


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    body = ErrorBody(error=message, **extra)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "charge_point", "connectors")`` as ``charge_point.connectors``; a query
    parameter keeps its ``query.`` prefix."""
    parts = [str(part) for part in loc]
    if parts[:1] == ["body"]:
        parts = parts[1:]
    return ".".join(parts) or "body"


#: the Host headers a server without a token answers: a web page that a DNS name of its own
#: points at 127.0.0.1 (DNS rebinding) is refused
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def _problem(error: Any) -> dict[str, str]:
    """One problem of a body as ``{field, message}``."""
    if error.get("type") == "json_invalid":
        return {"field": "body", "message": f"not valid JSON ({error.get('msg')})"}
    return {"field": _field(error["loc"]), "message": error["msg"]}


def create_app(
    hub: Hub | None = None,
    *,
    token: str | None = None,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """The API over ``hub`` (a new one by default); with ``token``, every request must bear
    it (``Authorization: Bearer <token>``). Only requests for ``allowed_hosts`` are
    answered: by default the loopback names without a token, and any with one."""
    the_hub = hub if hub is not None else Hub()
    if allowed_hosts is None:
        allowed_hosts = ["*"] if token is not None else list(LOOPBACK_HOSTS)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await the_hub.close()

    def bears_token(connection: HTTPConnection) -> bool:
        """Whether the request bears the token (compared in constant time), or none is
        needed."""
        if token is None:
            return True
        scheme, _, value = connection.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode()
        )

    async def authorized(connection: HTTPConnection) -> None:
        if connection.scope["type"] == "websocket":
            return  # events_ws closes the handshake itself
        if not bears_token(connection):
            raise _Unauthorized()

    app = FastAPI(
        title="mockpoint serve",
        version=__version__,
        description="Drive simulated OCPP 1.6J charge points over HTTP (docs/serve.md).",
        lifespan=lifespan,
        dependencies=[Depends(authorized)],
        # Served below, behind the token; no interactive pages (they load from the web).
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        responses={
            400: {"model": ErrorBody, "description": "a body or value that cannot be"},
            401: {"model": ErrorBody, "description": "no token, or the wrong one"},
        },
    )
    app.state.hub = the_hub
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        return app.openapi()

    # --- errors ------------------------------------------------------------------------------

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_problem(e) for e in exc.errors()]
        first = fields[0] if fields else {"field": "body", "message": "invalid"}
        return _error(400, f"{first['field']}: {first['message']}", fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(404, f"no such endpoint: {request.method} {request.url.path}")
        if exc.status_code == 405:
            return _error(405, f"{request.url.path} does not take {request.method}")
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(_Unauthorized)
    async def unauthorized(_request: Request, _exc: _Unauthorized) -> JSONResponse:
        response = _error(401, "this server needs its token: Authorization: Bearer <token>")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(MockpointError)
    async def mockpoint_error(_request: Request, exc: MockpointError) -> JSONResponse:
        if isinstance(exc, NotFound):
            return _error(404, str(exc))
        if isinstance(exc, Conflict):
            return _error(409, str(exc))
        if isinstance(exc, ConnectError):
            return _error(502, str(exc))
        if isinstance(exc, UsageError):
            return _error(400, str(exc))
        return _error(500, f"{type(exc).__name__}: {exc}")

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
        return _error(500, f"internal error (a bug: please report it): {type(exc).__name__}")

    # --- the server --------------------------------------------------------------------------

    @app.get("/health", tags=["server"])
    async def health() -> dict[str, Any]:
        """Whether the server runs, its version, and what it holds."""
        return {
            "status": "ok",
            "version": __version__,
            "charge_points": len(the_hub.charge_points),
            "event_subscribers": the_hub.events.subscribers,
        }

    # --- charge points -----------------------------------------------------------------------

    @app.get("/charge-points", tags=["charge points"])
    async def list_charge_points() -> list[ChargePointView]:
        return [served.view() for served in the_hub.charge_points.values()]

    @app.post(
        "/charge-points",
        status_code=201,
        tags=["charge points"],
        responses={
            409: {"model": ErrorBody, "description": "a charge point of that id exists"},
            502: {"model": ErrorBody, "description": "the CSMS cannot be reached"},
        },
    )
    async def create_charge_point(body: CreateChargePoint) -> ChargePointView:
        """Connect a charge point and (with ``boot``) wait up to ``timeout`` for its
        BootNotification to be Accepted; ``registration`` says where the boot stands."""
        return (await the_hub.create(body)).view()

    @app.get(
        "/charge-points/{cp_id}", tags=["charge points"], responses={404: {"model": ErrorBody}}
    )
    async def read_charge_point(cp_id: str) -> ChargePointView:
        return the_hub.charge_point(cp_id).view()

    @app.delete(
        "/charge-points/{cp_id}",
        status_code=204,
        tags=["charge points"],
        responses={404: {"model": ErrorBody}},
    )
    async def delete_charge_point(cp_id: str) -> Response:
        """Stop the charge point's verbs, close its connection (and its embedded CSMS)."""
        await the_hub.delete(cp_id)
        return Response(status_code=204)

    @app.get(
        "/charge-points/{cp_id}/frames",
        tags=["charge points"],
        responses={404: {"model": ErrorBody}},
    )
    async def read_frames(
        cp_id: str, after: Annotated[int, Query(ge=0, description="frames after this seq")] = 0
    ) -> list[dict[str, Any]]:
        """Every frame of the charge point, both ways, as the transcript has them."""
        return the_hub.charge_point(cp_id).frames(after)

    verb_responses: dict[int | str, dict[str, Any]] = {
        400: {
            "model": StepResult | ErrorBody,
            "description": "no such connector, a payload off-schema (StepResult); a body "
            "that cannot be read (ErrorBody)",
        },
        404: {"model": ErrorBody, "description": "no such charge point"},
        409: {"model": StepResult, "description": "the station's state forbids the verb"},
        422: {"model": StepResult, "description": "done, but not as expected"},
        504: {"model": StepResult, "description": "the CSMS did not answer in time"},
    }

    async def take(cp_id: str, step: dict[str, Any] | model.StepBase) -> JSONResponse:
        served = the_hub.charge_point(cp_id)
        if not isinstance(step, model.StepBase):
            try:
                step = _STEP.validate_python(step)
            except pydantic.ValidationError as exc:
                fields = [_problem(e) for e in exc.errors()]
                return _error(400, f"{fields[0]['field']}: {fields[0]['message']}", fields=fields)
        assert isinstance(step, model.StepBase)
        result = await served.take(step)
        status = 200 if result.status == "passed" else _STATUS_OF_CAUSE.get(result.cause or "", 422)
        return JSONResponse(result.model_dump(mode="json"), status_code=status)

    @app.post(
        "/charge-points/{cp_id}/steps",
        tags=["verbs"],
        response_model=StepResult,
        responses=verb_responses,
    )
    async def take_step(cp_id: str, step: Annotated[model.Step, Body()]) -> JSONResponse:
        """Any step of the scenario format, as in a scenario file: with ``expect``,
        ``save``, ``timeout``, ``${NAME}`` of saved variables."""
        return await take(cp_id, step)

    for verb, (body_model, to_step, summary) in _VERBS.items():
        _add_verb(app, verb, body_model, to_step, summary, take, verb_responses)

    # --- events ------------------------------------------------------------------------------

    def subscribe(charge_point: str | None, types: str | None) -> Subscription:
        wanted = [t.strip() for t in types.split(",") if t.strip()] if types else None
        for kind in wanted or ():
            if kind not in EVENT_TYPES:
                raise UsageError(f"types: {kind!r} is not one of {', '.join(EVENT_TYPES)}")
        return the_hub.events.subscribe(charge_point, wanted)

    @app.get(
        "/events",
        tags=["events"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def events(
        charge_point: Annotated[str | None, Query(description="only this charge point's")] = None,
        types: Annotated[
            str | None, Query(description="only these, comma-separated: " + ", ".join(EVENT_TYPES))
        ] = None,
    ) -> StreamingResponse:
        """Server-Sent Events: every event as it happens, ``id`` its seq, ``event`` its type,
        ``data`` the event as JSON."""
        subscription = subscribe(charge_point, types)

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": mockpoint events\n\n"
                while True:
                    try:
                        event = await asyncio.wait_for(subscription.next(), KEEPALIVE)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if event is None:
                        return
                    data = json.dumps(event, separators=(",", ":"))
                    yield f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n"
            finally:
                subscription.close()

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.websocket("/events/ws")
    async def events_ws(
        websocket: WebSocket, charge_point: str | None = None, types: str | None = None
    ) -> None:
        """The same events, one JSON text message each."""
        if not bears_token(websocket):
            await websocket.close(code=1008, reason="this server needs its token")
            return
        try:
            subscription = subscribe(charge_point, types)
        except UsageError as exc:
            await websocket.close(code=1008, reason=str(exc)[:120])
            return
        await websocket.accept()
        closed = asyncio.ensure_future(_until_closed(websocket))
        try:
            while True:
                following = asyncio.ensure_future(subscription.next())
                await asyncio.wait({following, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed.done():
                    following.cancel()
                    return
                event = following.result()
                if event is None:
                    await websocket.close(code=1013, reason="fell behind: subscribe again")
                    return
                await websocket.send_text(json.dumps(event, separators=(",", ":")))
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        finally:
            closed.cancel()
            subscription.close()

    # --- scenario runs -----------------------------------------------------------------------

    @app.post("/runs", status_code=202, tags=["runs"])
    async def start_run(body: RunRequest) -> RunView:
        """Run scenario files (on the server, or uploaded) or a pack, as ``mockpoint run``;
        the run goes on in the background."""
        return (await the_hub.start_run(body)).view()

    @app.get("/runs", tags=["runs"])
    async def list_runs() -> list[RunView]:
        return [job.view() for job in the_hub.runs.values()]

    @app.get("/runs/{run_id}", tags=["runs"], responses={404: {"model": ErrorBody}})
    async def read_run(
        run_id: str,
        wait: Annotated[
            float, Query(ge=0, le=600, description="seconds to wait for the end (long poll)")
        ] = 0,
    ) -> RunView:
        job = the_hub.run(run_id)
        await the_hub.wait_run(job, wait)
        return job.view()

    def finished(run_id: str) -> Any:
        job = the_hub.run(run_id)
        if job.outcome is None:
            raise Conflict(f"run {run_id} has no outcome yet ({job.view().status})")
        return job.outcome

    report_responses: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorBody, "description": "no such run"},
        409: {"model": ErrorBody, "description": "the run has not ended"},
    }

    @app.get(
        "/runs/{run_id}/junit",
        tags=["runs"],
        response_class=Response,
        responses={
            200: {"content": {"application/xml": {"schema": {"type": "string"}}}},
            **report_responses,
        },
    )
    async def run_junit(run_id: str) -> Response:
        import xml.etree.ElementTree as ET

        element = junit_element(finished(run_id))
        ET.indent(element)
        text = ET.tostring(element, encoding="unicode", xml_declaration=True)
        return Response(text + "\n", media_type="application/xml")

    @app.get(
        "/runs/{run_id}/markdown",
        tags=["runs"],
        response_class=Response,
        responses={
            200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
            **report_responses,
        },
    )
    async def run_markdown(run_id: str) -> Response:
        return Response(render_markdown(finished(run_id)), media_type="text/markdown")

    @app.delete(
        "/runs/{run_id}", status_code=204, tags=["runs"], responses={404: {"model": ErrorBody}}
    )
    async def stop_run(run_id: str) -> Response:
        """Stop a run that goes on (its scenarios end as they stand), or forget one that
        ended."""
        job = the_hub.run(run_id)
        if not job.task.done():
            job.task.cancel()
            await asyncio.gather(job.task, return_exceptions=True)
        else:
            del the_hub.runs[run_id]
        return Response(status_code=204)

    # --- load runs ---------------------------------------------------------------------------

    @app.post("/loads", status_code=202, tags=["load"])
    async def start_load(body: LoadRequest) -> LoadView:
        """Start a load run, as ``mockpoint load``; read its live figures with GET."""
        return (await the_hub.start_load(body)).view()

    @app.get("/loads", tags=["load"])
    async def list_loads() -> list[LoadView]:
        return [job.view() for job in the_hub.loads.values()]

    @app.get("/loads/{load_id}", tags=["load"], responses={404: {"model": ErrorBody}})
    async def read_load(load_id: str) -> LoadView:
        return the_hub.load(load_id).view()

    @app.delete(
        "/loads/{load_id}",
        tags=["load"],
        responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    )
    async def stop_load(load_id: str) -> LoadView:
        """Stop the run: its charge points close; the answer holds its final figures."""
        job = the_hub.load(load_id)
        await the_hub.stop_load(job)
        return job.view()

    return app


class _Unauthorized(Exception):
    pass


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and drop) what the client sends, until it closes."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


# --- verbs ------------------------------------------------------------------------------------

Verb = tuple[type[BaseModel], Callable[[Any], dict[str, Any]], str]

_VERBS: dict[str, Verb] = {
    "plug_in": (model.Connector, lambda b: {"plug_in": b}, "An EV's cable is plugged in"),
    "unplug": (model.Connector, lambda b: {"unplug": b}, "The cable is removed"),
    "authorize": (model.IdTag, lambda b: {"authorize": b}, "Authorize an id tag"),
    "start_transaction": (
        model.StartTransaction,
        lambda b: {"start_transaction": b},
        "StartTransaction on a connector",
    ),
    "charge": (model.Charge, lambda b: {"charge": b}, "The EV draws power (for a duration)"),
    "stop_transaction": (
        model.StopTransaction,
        lambda b: {"stop_transaction": b},
        "StopTransaction on a connector",
    ),
    "fault": (model.Fault, lambda b: {"fault": b}, "A connector (or 0: the station) faults"),
    "clear_fault": (model.ClearFault, lambda b: {"clear_fault": b}, "The fault clears"),
    "set_availability": (
        model.Availability,
        lambda b: {"set_availability": b},
        "Operative or Inoperative, as the station decides",
    ),
    "session": (model.Session, lambda b: {"session": b}, "A whole charging session"),
    "wait": (WaitBody, lambda b: {"wait": b.seconds}, "Let virtual time pass"),
    "send": (
        SendBody,
        lambda b: {
            "send": b.action,
            "payload": b.payload,
            "invalid": b.invalid,
            "expect": b.expect,
            "expect_error": b.expect_error,
        },
        "Send any charge point request; answers with the CSMS's answer",
    ),
    "send_raw": (SendRawBody, lambda b: {"send_raw": b.text}, "Send any text frame"),
    "await": (
        AwaitBody,
        lambda b: {
            "await": b.action,
            "within": b.within,
            "expect": b.expect,
            "reply": b.reply,
            "reply_error": b.reply_error,
        },
        "Wait for a request of the CSMS (long poll); answers with it and the reply",
    ),
    "expect_state": (
        model.ExpectedState,
        lambda b: {"expect_state": b},
        "Compare the station's state, once it is idle",
    ),
    "disconnect": (model.Disconnect, lambda b: {"disconnect": b}, "Go offline"),
    "reconnect": (model.Reconnect, lambda b: {"reconnect": b}, "Come back online"),
    "ignore": (
        IgnoreBody,
        lambda b: {"ignore": b.action, "count": b.count},
        "Never answer a CSMS request (fault)",
    ),
    "delay": (model.Delay, lambda b: {"delay": b}, "Answer a CSMS request late (fault)"),
    "drop": (model.Drop, lambda b: {"drop": b}, "Lose frames (fault)"),
    "close": (model.Close, lambda b: {"close": b}, "Close the connection, then reconnect"),
    "duplicate": (
        model.Duplicate,
        lambda b: {"duplicate": b},
        "The same CALL twice with one id (fault)",
    ),
    "violate_one_call_rule": (
        model.ViolateOneCallRule,
        lambda b: {"violate_one_call_rule": b},
        "Two CALLs without waiting (fault)",
    ),
}


def _optional(body_model: type[BaseModel]) -> bool:
    """Whether the body may be left out (every field has a default)."""
    return all(not f.is_required() for f in body_model.model_fields.values())


def _add_verb(
    app: FastAPI,
    verb: str,
    body_model: type[BaseModel],
    to_step: Callable[[Any], dict[str, Any]],
    summary: str,
    take: Callable[[str, dict[str, Any]], Awaitable[JSONResponse]],
    responses: dict[int | str, dict[str, Any]],
) -> None:
    optional = _optional(body_model)

    async def endpoint(cp_id: str, body: Any, timeout: float | None) -> JSONResponse:
        if body is None:
            body = body_model()
        step = to_step(body)
        if timeout is not None:
            step["timeout"] = timeout
        return await take(cp_id, step)

    annotation: Any = body_model | None if optional else body_model
    parameters = [
        inspect.Parameter("cp_id", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
        inspect.Parameter(
            "body",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[annotation, Body()],
            default=None if optional else inspect.Parameter.empty,
        ),
        inspect.Parameter(
            "timeout",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[
                float | None,
                Query(gt=0, description="real seconds to wait for the CSMS (default: timeout)"),
            ],
            default=None,
        ),
    ]
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = f"verb_{verb}"
    app.post(
        f"/charge-points/{{cp_id}}/{verb}",
        tags=["verbs"],
        summary=summary,
        response_model=StepResult,
        responses=responses,
        name=f"verb_{verb}",
    )(endpoint)
