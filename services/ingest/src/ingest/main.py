"""Polls the three channels, normalizes their orders and publishes them on
``orders.ingested.v1`` (live lane) or ``orders.ingested.history.v1`` (history lane)."""

from __future__ import annotations

import functools
import socket
from datetime import timedelta

import httpx
from circuitbreaker import CircuitBreaker
from fastapi import FastAPI
from faststream.specification import AsyncAPI

from ingest.api import asyncapi, channels, shopify_webhooks
from ingest.connectors import ChannelFeedError
from ingest.connectors.registry import build_connector
from ingest.connectors.shopify.webhooks import ShopifyWebhooks
from ingest.events import IngestedPublisher
from ingest.lease import ChannelLease
from ingest.poller import ChannelPoller, PollSettings
from ingest.repository import ChannelRepository
from ingest.service import ChannelService
from ingest.settings import IngestSettings
from orderhub_common.app import create_service_app, serve
from orderhub_common.audit import AuditTrail
from orderhub_common.events import Channel
from orderhub_common.kafka import create_broker, ensure_topics, topics_from
from orderhub_common.ratelimit import RateLimit
from orderhub_common.resources import KafkaResource, RedisResource, Worker
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import JwtVerifier
from orderhub_common.settings import load_settings

SERVICE = "ingest"


def create_app(
    settings: IngestSettings, *, channel_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """``channel_transport`` lets tests reach an in-process mock_channels app."""
    redis = RedisResource(settings.redis_url.get_secret_value())
    broker = create_broker(settings, client_id=SERVICE)
    publisher = IngestedPublisher(
        broker, topics_from(settings), live_window=timedelta(seconds=settings.live_window_s)
    )
    trail = AuditTrail(broker, topics_from(settings), service=SERVICE)
    kafka = KafkaResource(broker, before_start=functools.partial(ensure_topics, settings))
    repository = ChannelRepository(redis.client, settings.redis_key_prefix)
    owner = settings.replica_id or f"{socket.gethostname()}:{settings.port}"

    def pollers() -> list[Worker]:
        built = [
            build_poller(channel, settings, repository, publisher, owner, channel_transport)
            for channel in Channel
        ]
        return [Worker(f"poller-{p.channel}", p.run) for p in built]

    return create_service_app(
        settings=settings,
        rate_limit=RateLimit("ingest", settings.rate_limit_per_ip_per_min, redis.client),
        title="Order Hub ingest",
        description="Polls the sales channels and publishes their orders, normalized, to Kafka.",
        # Redis holds the cursors, leases and channel state its API serves: required.
        resources=[
            redis,
            kafka.degrades_to("polling waits, cursors kept; the channels API is served"),
        ],
        workers=pollers,
        routers=[channels.router, asyncapi.router, shopify_webhooks.router],
        state={
            "channel_service": ChannelService(
                repository,
                trail,
                paused_by_config=settings.paused_by_config,
                connectors=lambda channel: build_connector(channel, settings, channel_transport),
            ),
            "shopify_webhooks": ShopifyWebhooks(
                secret=settings.shopify_webhook_secret,
                redis=redis.client,
                key_prefix=settings.redis_key_prefix,
                dedup_ttl_s=settings.shopify_webhook_dedup_ttl_s,
                repository=repository,
                publisher=publisher,
                paused_by_config=Channel.WEBSITE in settings.paused_by_config,
            ),
            "jwt_verifier": JwtVerifier(settings),
            # Every call checks that the caller's token was not revoked (demoted, signed out).
            "access_revocations": AccessRevocations(redis.client),
            "asyncapi": AsyncAPI(
                broker,
                title="Order Hub ingest",
                version="1.0.0",
                description=(
                    "Events ingest publishes: orders.ingested.v1 (live lane) and "
                    "orders.ingested.history.v1 (history lane)."
                ),
            ),
        },
    )


def build_poller(
    channel: Channel,
    settings: IngestSettings,
    repository: ChannelRepository,
    publisher: IngestedPublisher,
    owner: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ChannelPoller:
    return ChannelPoller(
        build_connector(channel, settings, transport),
        repository=repository,
        lease=ChannelLease(
            repository.redis, repository.key("lease", channel), owner, settings.lease_ttl_s
        ),
        publisher=publisher,
        breaker=CircuitBreaker(
            failure_threshold=settings.breaker_failure_threshold,
            recovery_timeout=settings.breaker_recovery_s,
            expected_exception=ChannelFeedError,
            name=f"{SERVICE}-{channel}",
        ),
        settings=PollSettings(
            interval_s=settings.poll_interval_s,
            page_size=settings.poll_page_size,
            retry_attempts=settings.retry_attempts,
            retry_initial_s=settings.retry_initial_s,
            retry_max_s=settings.retry_max_s,
            settle_grace=timedelta(seconds=settings.cursor_settle_s),
            backfill=timedelta(days=settings.backfill_days),
            new_orders_every=timedelta(seconds=settings.new_orders_every_s)
            if settings.new_orders_every_s
            else None,
            new_orders_behind=timedelta(seconds=settings.new_orders_behind_s),
            new_orders_lookback=timedelta(seconds=settings.live_window_s),
        ),
        paused_by_config=channel in settings.paused_by_config,
    )


def run() -> None:
    settings = load_settings(IngestSettings)
    serve(SERVICE, settings, lambda: create_app(settings))
