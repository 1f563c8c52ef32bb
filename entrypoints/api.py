"""The web application: the routers of every channel, the problem-document handlers, health and metrics.

Nothing connects at import time; `create_app` only describes the app, and its
lifespan has the composition root (`entrypoints.bootstrap`) build, start and
stop everything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from adapters.admin import parked as admin_parked
from adapters.console import audit_page as console_audit
from adapters.console import dead_letters as console_dead_letters
from adapters.console import routes as console_routes
from adapters.console.session import SessionSigner
from adapters.guardian import admin as guardian_admin
from adapters.guardian import routes as guardian_routes
from adapters.kela import attachments, disclosure_queries, inbox, rejections
from adapters.kela import routes as kela_routes
from adapters.openapi import install_openapi
from adapters.organiser import routes as organiser_routes
from adapters.problems import (
    PROBLEM_MEDIA_TYPE,
    bearer_challenge,
    framework_problem_document,
    framework_rejection,
    problem_document,
    validation_rejection,
)
from adapters.rejection_record import BodyDigestMiddleware, keep_rejection
from adapters.request_id import RequestIdMiddleware
from broker.domain.clock import Clock, SystemClock
from broker.domain.errors import ErrorCode, Rejection
from broker.logging import configure_logging
from broker.metrics import MESSAGES_REJECTED
from broker.services.ops_metrics import OPERATIONS_GAUGES
from broker.settings import Settings
from entrypoints.bootstrap import Runtime, build_runtime

log = structlog.get_logger(__name__)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    runtime = build_runtime(settings, app.state.clock)
    app.state.runtime = runtime
    app.state.services = runtime.services
    app.state.console_signer = SessionSigner.from_secret_file(settings.console_session_key_file)
    OPERATIONS_GAUGES.watch_lag(runtime.inbound.lag, runtime.inbound.lag_seconds)
    await runtime.start()
    log.info(
        "silta_started",
        database=runtime.engine.url.get_backend_name(),
        kafka=settings.kafka_bootstrap_servers,
        relay=settings.relay_enabled,
        https=settings.api_tls_cert_file is not None,
    )
    try:
        yield
    finally:
        await runtime.stop()
        log.info("silta_stopped")


async def _rejection_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, Rejection):  # registered for Rejection only
        raise exc
    MESSAGES_REJECTED.labels(code=str(exc.code)).inc()
    log.info("request_rejected", code=str(exc.code), path=request.url.path, status=exc.status)
    await keep_rejection(request, str(exc.code), exc.status)
    challenge = bearer_challenge(exc)
    headers = {"WWW-Authenticate": challenge} if challenge else None
    return JSONResponse(problem_document(exc), status_code=exc.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's own 422 echoes the input; answer with a problem document that names paths, not values."""
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        raise exc
    return await _rejection_handler(request, validation_rejection(exc.errors()))


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    """The framework's own refusals (unknown route, wrong method, unparsable body) as problem documents."""
    if not isinstance(exc, StarletteHTTPException):  # registered for Starlette's HTTPException only
        raise exc
    rejection = framework_rejection(exc.status_code)
    if rejection is None:
        document = framework_problem_document(exc.status_code, HTTPStatus(exc.status_code).phrase)
        await keep_rejection(request, str(document["code"]), exc.status_code)
        return JSONResponse(document, exc.status_code, exc.headers, media_type=PROBLEM_MEDIA_TYPE)
    response = await _rejection_handler(request, rejection)
    response.headers.update(exc.headers or {})
    if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        # Starlette names only the first matching route's methods; a path may have a route per method.
        methods = _methods_serving(request.app.routes, request.url.path)
        if methods:
            response.headers["Allow"] = ", ".join(sorted(methods))
    return response


def _methods_serving(routes: Sequence[BaseRoute], path: str) -> set[str]:
    """Every method some route serves on `path`, also inside included routers (FastAPI keeps those whole).

    A route whose template is the path itself (`/admin/v1/parked/replay`) outranks one that takes it as a
    parameter (`/admin/v1/parked/{record_id}`), as the OpenAPI document lists them.
    """
    matching = list(_matching_routes(routes, path))
    literal = [route for route in matching if route.path == path]
    return {method for route in literal or matching for method in route.methods or set()}


def _matching_routes(routes: Sequence[BaseRoute], path: str) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute) and route.path_regex.fullmatch(path):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _matching_routes(included.routes, path)


async def _unexpected_error_handler(request: Request, exc: Exception) -> Response:
    """A bug is still answered with a problem document; the traceback goes to the log, not the client."""
    log.error("request_failed", path=request.url.path, error=repr(exc))
    rejection = Rejection(ErrorCode.INTERNAL_ERROR, "Silta could not handle the request; it has been logged")
    await keep_rejection(request, str(rejection.code), rejection.status)
    return JSONResponse(problem_document(rejection), rejection.status, media_type=PROBLEM_MEDIA_TYPE)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The FastAPI application; nothing is connected until it starts. Tests may hand in a clock to move time."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPIOffline(  # /docs and /redoc from the package's own Swagger UI and ReDoc files, no CDN
        title="Silta",
        version="0.1.0",
        lifespan=_lifespan,
        description="Interoperability broker for social assistance between Kela and the organisers.",
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    install_openapi(app)
    app.add_middleware(BodyDigestMiddleware)  # inside the request id's: it reads the id bound there
    app.add_middleware(RequestIdMiddleware)
    app.add_exception_handler(Rejection, _rejection_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(Exception, _unexpected_error_handler)
    app.include_router(kela_routes.router)
    app.include_router(inbox.router)
    app.include_router(rejections.router)
    app.include_router(attachments.router)
    app.include_router(disclosure_queries.router)
    app.include_router(organiser_routes.router)
    app.include_router(guardian_routes.router)
    app.include_router(guardian_admin.router)
    app.include_router(admin_parked.router)
    app.include_router(console_routes.entry)
    app.include_router(console_routes.router)
    app.include_router(console_dead_letters.router)
    app.include_router(console_audit.router)
    app.mount("/console/static", console_routes.static, name="console-static")

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        """The process is up."""
        return {"status": "live"}

    @app.get("/health/ready", tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        """Ready when the database and Kafka answer and no organiser's partition is stuck on one record."""
        runtime: Runtime = request.app.state.runtime
        stalls = runtime.inbound.stalls(runtime.settings.inbound_stall_seconds)
        checks = {
            "database": await runtime.database_ok(),
            "kafka": await runtime.publisher.ping(),
            "inbound": not stalls,
        }
        body: dict[str, Any] = {"checks": checks, "stalled_partitions": [dataclasses.asdict(s) for s in stalls]}
        if all(checks.values()):
            return JSONResponse({"status": "ready", **body})
        return JSONResponse({"status": "not-ready", **body}, HTTPStatus.SERVICE_UNAVAILABLE)

    @app.get("/.well-known/jwks.json", tags=["keys"])
    async def jwks(request: Request) -> JSONResponse:
        """Silta's public record keys: Ed25519 (`use` sig) it signs with, X25519 (`use` enc) to encrypt to.

        Every key not yet retired is listed, so records sealed before a rotation still verify.
        """
        services = request.app.state.services
        return JSONResponse(services.record_keys.current().jwks(), headers={"Cache-Control": "max-age=60"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        await OPERATIONS_GAUGES.refresh(runtime.sessions)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
