"""The composition root: settings, database, Kafka, keys and routes are put together here.

Nothing connects at import time; `create_app` only describes the app, and the
lifespan builds and tears down its services.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.guardian import admin as guardian_admin
from adapters.guardian import routes as guardian_routes
from adapters.kela import attachments, disclosure_queries, inbox
from adapters.kela import routes as kela_routes
from adapters.openapi import install_openapi
from adapters.problems import (
    PROBLEM_MEDIA_TYPE,
    framework_problem_document,
    framework_rejection,
    problem_document,
    validation_rejection,
)
from broker.audit.pseudonym import Pseudonymiser
from broker.crypto.assertions import AssertionVerifier
from broker.crypto.signing import RecordSigner
from broker.crypto.tokens import TokenVerifier, load_jwks
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.routing import MunicipalityTable
from broker.kafka.inbound import InboundConsumer
from broker.kafka.publisher import KafkaPublisher
from broker.kafka.topics import ensure_topics
from broker.logging import configure_logging
from broker.metrics import MESSAGES_REJECTED
from broker.pipeline import MessagePipeline
from broker.policy.model import load_policies
from broker.services.inbound import InboundProcessor
from broker.services.overdue import OverdueWatch
from broker.services.registry import Services
from broker.services.relay import OutboxRelay
from broker.settings import Settings
from broker.store.group_commit import GroupCommitter
from broker.xml.safe_parse import ParseLimits
from broker.xml.validation import SchemaRegistry

log = structlog.get_logger(__name__)


def municipality_table() -> MunicipalityTable:
    """The 2025 municipality → organiser table shipped with the package."""
    return MunicipalityTable.shipped()


def build_pipeline(settings: Settings) -> MessagePipeline:
    """The pipeline's stages from the schema and policy folders."""
    return MessagePipeline(
        schemas=SchemaRegistry(settings.schema_dir),
        policies=load_policies(settings.policy_dir),
        municipalities=municipality_table(),
        limits=ParseLimits(settings.max_message_bytes, settings.max_xml_depth),
        pseudonyms=Pseudonymiser.from_file(settings.pseudonym_key_file),
        signer=RecordSigner.from_file(settings.record_signing_key_file, settings.record_signing_key_id),
    )


def build_services(settings: Settings) -> Services:
    """Every service, unconnected; the lifespan starts them."""
    engine = create_async_engine(settings.database_url, pool_pre_ping=True)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    publisher = KafkaPublisher(settings.kafka_bootstrap_servers, settings.kafka_request_timeout_ms)
    relay = OutboxRelay(sessions, publisher, settings.relay_batch_size, settings.relay_poll_interval_s)
    jwks = load_jwks(settings.auth_jwks_file)
    verifier = TokenVerifier(jwks, settings.auth_issuer, settings.auth_audience, settings.auth_clients)
    pipeline = build_pipeline(settings)
    inbound = InboundConsumer(
        settings.kafka_bootstrap_servers,
        settings.inbound_group_id,
        InboundProcessor(pipeline, sessions),
        settings.inbound_max_records,
        on_stored=relay.wake,
    )
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        pipeline=pipeline,
        committer=GroupCommitter(sessions, settings.commit_batch_size, on_commit=relay.wake),
        verifier=verifier,
        assertions=AssertionVerifier(
            jwks,
            settings.guardian_assertion_issuer,
            settings.guardian_assertion_audience,
        ),
        publisher=publisher,
        relay=relay,
        inbound=inbound,
        overdue=OverdueWatch(
            sessions,
            pipeline.signer,
            dt.timedelta(hours=settings.receipt_timeout_hours),
            settings.overdue_check_interval_s,
            on_flagged=relay.wake,
        ),
    )


async def _create_topics_when_possible(settings: Settings) -> None:
    delay = 1.0
    while True:
        try:
            created = await ensure_topics(
                settings.kafka_bootstrap_servers, settings.kafka_topic_partitions, settings.kafka_replication_factor
            )
            log.info("kafka_topics_ready", created=len(created))
            return
        except Exception as error:  # noqa: BLE001  Kafka may be down at start-up; accepting goes on regardless
            log.warning("kafka_topics_not_ready", error=repr(error), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


async def _start_kafka_side(services: Services) -> None:
    """Create the topics (if Silta may), then start consuming organisers' topics, which must exist first."""
    settings = services.settings
    if settings.kafka_create_topics:
        await _create_topics_when_possible(settings)
    if settings.inbound_enabled:
        services.inbound.start()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    services = build_services(settings)
    app.state.services = services
    kafka_side = asyncio.create_task(_start_kafka_side(services), name="kafka-side-start")
    services.committer.start()
    if settings.relay_enabled:
        services.relay.start()
    services.overdue.start()
    log.info(
        "silta_started",
        database=services.engine.url.get_backend_name(),
        kafka=settings.kafka_bootstrap_servers,
        relay=settings.relay_enabled,
    )
    try:
        yield
    finally:
        kafka_side.cancel()
        await asyncio.gather(kafka_side, return_exceptions=True)
        await services.overdue.stop()
        await services.inbound.stop()
        await services.committer.stop()
        await services.relay.stop()
        await services.publisher.close()
        await services.engine.dispose()
        log.info("silta_stopped")


async def _rejection_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, Rejection):  # registered for Rejection only
        raise exc
    MESSAGES_REJECTED.labels(code=str(exc.code)).inc()
    log.info("request_rejected", code=str(exc.code), path=request.url.path, status=exc.status)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == HTTPStatus.UNAUTHORIZED else None
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
        return JSONResponse(document, exc.status_code, exc.headers, media_type=PROBLEM_MEDIA_TYPE)
    response = await _rejection_handler(request, rejection)
    response.headers.update(exc.headers or {})
    return response


async def _unexpected_error_handler(request: Request, exc: Exception) -> Response:
    """A bug is still answered with a problem document; the traceback goes to the log, not the client."""
    log.error("request_failed", path=request.url.path, error=repr(exc))
    rejection = Rejection(ErrorCode.INTERNAL_ERROR, "Silta could not handle the request; it has been logged")
    return JSONResponse(problem_document(rejection), rejection.status, media_type=PROBLEM_MEDIA_TYPE)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI application; nothing is connected until it starts."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(
        title="Silta",
        version="0.1.0",
        lifespan=_lifespan,
        description="Interoperability broker for social assistance between Kela and the organisers.",
    )
    app.state.settings = settings
    install_openapi(app)
    app.add_exception_handler(Rejection, _rejection_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(Exception, _unexpected_error_handler)
    app.include_router(kela_routes.router)
    app.include_router(inbox.router)
    app.include_router(attachments.router)
    app.include_router(disclosure_queries.router)
    app.include_router(guardian_routes.router)
    app.include_router(guardian_admin.router)

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        """The process is up."""
        return {"status": "live"}

    @app.get("/health/ready", tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        """Ready when the database and Kafka both answer."""
        services: Services = request.app.state.services
        checks = {"database": await _database_ok(services), "kafka": await services.publisher.ping()}
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return JSONResponse({"status": "not-ready", "checks": checks}, HTTPStatus.SERVICE_UNAVAILABLE)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


async def _database_ok(services: Services) -> bool:
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001  any failure means not ready
        return False
    return True
