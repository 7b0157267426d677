"""The orders service: consumes ingested orders, keeps them in MongoDB with an indexed query
side in PostgreSQL, serves the orders API and publishes order events through the outbox."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from orderhub_common.amazon_sp_api import SpApiClient
from orderhub_common.app import create_service_app, serve
from orderhub_common.audit import AuditTrail
from orderhub_common.kafka import create_broker, ensure_topics, topics_from
from orderhub_common.ratelimit import RateLimit
from orderhub_common.resources import KafkaResource, MongoResource, RedisResource, Worker
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import JwtVerifier
from orderhub_common.settings import load_settings
from orderhub_common.shopify import ShopifyAdminClient
from orderhub_common.verified_tokens import VerifiedTokens
from orders.amazon_write_back import AmazonShipments
from orders.api.asyncapi import asyncapi_router
from orders.api.dead_letters import router as dead_letters_router
from orders.api.orders import router as orders_router
from orders.api.pipeline import router as pipeline_router
from orders.api.work import router as work_router
from orders.audit_log import AuditLog
from orders.consumers import (
    register_audit_consumer,
    register_dead_letter_keeper,
    register_ingested_consumer,
)
from orders.dead_letters import DeadLetters, Republish
from orders.documents import OrderDocument, OutboxDocument, WriteBackDocument
from orders.download_links import DownloadLinks
from orders.export_retention import ExportRetention, ExportRules
from orders.jobs.runner import JobRunner
from orders.jobs.service import JobService
from orders.lanes import PipelineProbe
from orders.order_counts import OrderCountProbe
from orders.outbox_relay import OutboxRelay, kafka_order_event_publisher
from orders.query_side import ProjectionLag, QuerySide, WorkStore
from orders.repository import OrderChange, OrderRepository
from orders.saved_views import SavedViewService
from orders.service import OrderService
from orders.settings import OrdersSettings
from orders.write_back import ChannelWriter, WriteBackRelay

SERVICE = "orders"


def mongo_resource(settings: OrdersSettings) -> MongoResource:
    return MongoResource(
        settings.mongodb_url.get_secret_value(),
        settings.mongodb_database,
        [OrderDocument, OutboxDocument, WriteBackDocument],
    )


def query_side_from(settings: OrdersSettings) -> QuerySide:
    return QuerySide(
        settings.postgres_url.get_secret_value(),
        pool_size=settings.postgres_pool_size,
        statement_timeout_ms=settings.postgres_statement_timeout_ms,
    )


def ingested_republisher(broker: KafkaBroker, topic: str) -> Republish:
    async def republish(payload: bytes, key: bytes | None) -> None:
        await broker.publish(payload, topic=topic, key=key, headers={"x-replayed": "true"})

    return republish


def create_app(settings: OrdersSettings) -> FastAPI:
    topics = topics_from(settings)
    broker = create_broker(settings, client_id=SERVICE)
    repository = OrderRepository()
    query_side = query_side_from(settings)
    # A change stored while PostgreSQL was away is projected by the relay's sweep: after the
    # grace, within a sweep interval, or once the lease of a relay that died has run out.
    projection_lag = ProjectionLag(
        settle_s=settings.outbox_confirm_grace_s
        + settings.outbox_sweep_interval_s
        + settings.outbox_lease_s
    )
    relay = OutboxRelay(
        repository,
        query_side,
        kafka_order_event_publisher(broker, topics.order_events),
        sweep_interval_s=settings.outbox_sweep_interval_s,
        batch_size=settings.outbox_batch_size,
        lease_s=settings.outbox_lease_s,
        confirm_grace_s=settings.outbox_confirm_grace_s,
        projection_lag=projection_lag,
    )
    trail = AuditTrail(broker, topics, service=SERVICE)

    def write_back_asked(change: OrderChange) -> None:
        write_backs.confirm(change)

    service = OrderService(
        repository,
        query_side,
        on_written=relay.confirm,
        on_write_back=write_back_asked,
        audit=trail,
        projection_lag=projection_lag,
    )
    channels = httpx.AsyncClient(
        base_url=settings.mock_channels_url, timeout=settings.write_back_timeout_s
    )
    shop = httpx.AsyncClient(
        base_url=settings.shopify_base_url(settings.mock_channels_url),
        timeout=settings.write_back_timeout_s,
    )
    write_backs = WriteBackRelay(
        repository,
        service,
        ChannelWriter(
            channels,
            failure_threshold=settings.write_back_breaker_failure_threshold,
            recovery_s=settings.write_back_breaker_recovery_s,
            shopify=ShopifyAdminClient(
                shop, api_version=settings.shopify_api_version, token=settings.shopify_token()
            ),
            amazon=AmazonShipments(
                SpApiClient(
                    settings.amazon_connection(settings.mock_channels_url),
                    timeout_s=settings.write_back_timeout_s,
                )
            ),
        ),
        sweep_interval_s=settings.write_back_sweep_interval_s,
        lease_s=settings.outbox_lease_s,
    )
    lanes = register_ingested_consumer(
        broker, topics, service, history_max_wait_s=settings.history_max_wait_s
    )
    letters = DeadLetters(query_side, ingested_republisher(broker, topics.ingested), trail)
    register_dead_letter_keeper(broker, topics, letters)
    work = WorkStore(query_side)
    redis = RedisResource(settings.redis_url.get_secret_value())
    revocations = AccessRevocations(redis.client)
    runner = JobRunner(service, work, revocations, lease_s=settings.job_lease_s)
    links = DownloadLinks(
        settings.export_link_secret.get_secret_value().encode(), settings.export_link_ttl_s
    )
    export_rules = ExportRules(
        running_per_user=settings.exports_running_per_user,
        per_user_per_day=settings.exports_per_user_per_day,
        retention_s=settings.export_retention_s,
    )
    retention = ExportRetention(work, export_rules, interval_s=settings.export_sweep_interval_s)
    jobs = JobService(
        service,
        work,
        links,
        audit=trail,
        wake=runner.wake,
        rules=export_rules,
        revocations=revocations,
    )
    audit_log = AuditLog(work)
    register_audit_consumer(broker, topics, audit_log)
    pipeline = PipelineProbe(list(lanes.values()), live_within_s=settings.pipeline_live_within_s)

    async def create_topics() -> None:
        await ensure_topics(settings)

    return create_service_app(
        settings=settings,
        rate_limit=RateLimit("orders", settings.rate_limit_per_ip_per_min, redis.client),
        title="Order Hub orders",
        description="Orders from every channel: the store, the orders API and order events.",
        # The stores first: the consumer starts with Kafka and writes at once. MongoDB, the
        # system of record, is required; the others have a documented degraded mode.
        resources=[
            mongo_resource(settings),
            query_side.degrades_to(
                "lists and stats answer 503; ingest and status moves go on (outbox)"
            ),
            redis.degrades_to(
                "reads are served (the rate limit fails open); status moves answer 503"
            ),
            KafkaResource(broker, before_start=create_topics).degrades_to(
                "reads and status moves are served; order events wait in the outbox"
            ),
        ],
        workers=lambda: [
            Worker("outbox-relay", relay.run),
            Worker("write-back", write_backs.run),
            Worker("consumer-lag", pipeline.run),
            Worker("order-counts", OrderCountProbe(query_side).run),
            Worker("jobs", runner.run),
            Worker("export-retention", retention.run),
        ],
        routers=[
            orders_router,
            pipeline_router,
            dead_letters_router,
            work_router,
            asyncapi_router(topics, settings.kafka_bootstrap_servers),
        ],
        state={
            "order_service": service,
            "pipeline_probe": pipeline,
            "dead_letters": letters,
            "job_service": jobs,
            "saved_view_service": SavedViewService(work, audit=trail),
            "audit_log": audit_log,
            # signed_principal (orderhub_common.security) verifies through the memory of tokens.
            "jwt_verifier": VerifiedTokens(
                JwtVerifier(settings),
                ttl_s=settings.verified_token_cache_ttl_s,
                max_size=settings.verified_token_cache_size,
            ),
            # Every call checks that the caller's token was not revoked (demoted, signed out).
            "access_revocations": revocations,
        },
    )


def run() -> None:
    settings = load_settings(OrdersSettings)
    serve(SERVICE, settings, lambda: create_app(settings))
