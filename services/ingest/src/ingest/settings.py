from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from orderhub_common.amazon_sp_api import AmazonSpApiSettings
from orderhub_common.events import Channel
from orderhub_common.security import JwtVerifySettings
from orderhub_common.settings import (
    KafkaSettings,
    RedisSettings,
    ServiceSettings,
    env,
    rate_limit_field,
)
from orderhub_common.shopify import ShopifyAdminSettings


class IngestSettings(
    ServiceSettings,
    KafkaSettings,
    RedisSettings,
    JwtVerifySettings,
    AmazonSpApiSettings,
    ShopifyAdminSettings,
):
    port: int = Field(
        8003,
        ge=1,
        le=65535,
        validation_alias=env("INGEST_PORT"),
        description="the port ingest listens on",
    )
    rate_limit_per_ip_per_min: int = rate_limit_field("INGEST", 600)
    mock_channels_url: str = Field(
        "http://127.0.0.1:8004",
        validation_alias=env("MOCK_CHANNELS_URL"),
        description=(
            "the base URL of the mock channels: the simulated feeds, the Amazon simulator "
            "where AMAZON_SP_API_ENDPOINT is unset and the website's where SHOPIFY_SHOP_URL is"
        ),
    )
    poll_interval_s: float = Field(
        2.0,
        gt=0,
        le=3600,
        validation_alias=env("POLL_INTERVAL_S"),
        description="pause between two polls of a channel",
    )
    poll_page_size: int = Field(
        100,
        ge=1,
        le=100,
        validation_alias=env("POLL_PAGE_SIZE"),
        description="orders asked for per feed page",
    )
    channel_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        validation_alias=env("CHANNEL_TIMEOUT_S"),
        description="timeout of one request to a channel",
    )
    retry_attempts: int = Field(
        3,
        ge=1,
        le=20,
        validation_alias=env("CHANNEL_RETRY_ATTEMPTS"),
        description="attempts per feed read before it counts as failed",
    )
    retry_initial_s: float = Field(
        0.2,
        gt=0,
        le=60,
        validation_alias=env("CHANNEL_RETRY_INITIAL_S"),
        description="first backoff between attempts (doubling, with jitter)",
    )
    retry_max_s: float = Field(
        2.0,
        gt=0,
        le=300,
        validation_alias=env("CHANNEL_RETRY_MAX_S"),
        description="longest backoff between attempts",
    )
    # Prefixed: the gateway has breakers of its own, with other defaults, read from the same .env.
    breaker_failure_threshold: int = Field(
        3,
        ge=1,
        le=100,
        validation_alias=env("INGEST_BREAKER_FAILURE_THRESHOLD"),
        description="failed feed reads in a row that open a channel's circuit",
    )
    breaker_recovery_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        validation_alias=env("INGEST_BREAKER_RECOVERY_S"),
        description="how long an open circuit waits before a trial read",
    )
    cursor_settle_s: float = Field(
        5.0,
        ge=0,
        le=3600,
        validation_alias=env("CURSOR_SETTLE_S"),
        description=(
            "how long after its time a cursor position is settled, so orders "
            "changed in the same instant are not missed"
        ),
    )
    backfill_days: int = Field(
        90,
        ge=1,
        le=3650,
        validation_alias=env("INGEST_BACKFILL_DAYS"),
        description=(
            "how many days of order history a channel's first connection imports (at the "
            "channel's rate limits; the Channels page shows the progress)"
        ),
    )
    live_window_s: float = Field(
        3600.0,
        gt=0,
        le=30 * 24 * 3600,
        validation_alias=env("INGEST_LIVE_WINDOW_S"),
        description=(
            "an order placed and changed at its channel within this many seconds goes on the "
            "live lane (orders.ingested.v1), anything older on the history lane "
            "(orders.ingested.history.v1), which orders consumes only while the live lane is idle"
        ),
    )
    new_orders_every_s: float = Field(
        1.0,
        ge=0,
        le=3600,
        validation_alias=env("INGEST_NEW_ORDERS_EVERY_S"),
        description=(
            "while a channel's change feed has a backlog, how often ingest also lists the orders "
            "placed since it last looked, so a new order is not read after the backlog (0: "
            "never; each look is one more call to the channel, within its rate limits)"
        ),
    )
    new_orders_behind_s: float = Field(
        5.0,
        ge=0,
        le=3600,
        validation_alias=env("INGEST_NEW_ORDERS_BEHIND_S"),
        description=(
            "how far behind its channel a pass over the change feed must be before ingest also "
            "looks for new orders by placement (a pass closer than this finds them as soon)"
        ),
    )
    lease_ttl_s: float = Field(
        10.0,
        gt=0,
        le=600,
        validation_alias=env("POLL_LEASE_TTL_S"),
        description="lease of a channel's one active poller, across replicas",
    )
    # Who holds a poll lease. A replica restarted in place (same host and port) is the same
    # replica, so after a crash it resumes at once instead of waiting for its old lease to expire.
    replica_id: str | None = Field(
        None,
        min_length=1,
        validation_alias=env("INGEST_REPLICA_ID"),
        description="who holds poll leases (default: host name and port)",
    )
    redis_key_prefix: str = Field(
        "ingest",
        pattern=r"^[A-Za-z0-9._:-]+$",
        validation_alias=env("INGEST_REDIS_PREFIX"),
        description="prefix of ingest's Redis keys",
    )
    # Channels whose ingestion starts paused (comma-separated). An admin's pause or resume
    # through the API is kept in Redis and overrides this until the admin changes it again.
    paused_channels: str = Field(
        "",
        validation_alias=env("INGEST_PAUSED_CHANNELS"),
        description=(
            "channels (comma-separated) whose ingestion starts paused; an admin resumes them at "
            "POST /api/channels/{channel}/resume"
        ),
    )

    # The website's webhooks (connectors/shopify/webhooks.py); the shop and its token come from
    # ShopifyAdminSettings (SHOPIFY_SHOP_URL, SHOPIFY_ADMIN_TOKEN, SHOPIFY_API_VERSION).
    shopify_webhook_secret: SecretStr | None = Field(
        None,
        validation_alias=env("SHOPIFY_WEBHOOK_SECRET"),
        description="the secret Shopify signs the webhooks with (X-Shopify-Hmac-Sha256): the"
        " custom app's API secret key (unset: every webhook is refused, polls alone ingest)",
    )
    shopify_webhook_dedup_ttl_s: int = Field(
        172_800,
        ge=60,
        le=30 * 86_400,
        validation_alias=env("SHOPIFY_WEBHOOK_DEDUP_TTL_S"),
        description="how long a webhook's X-Shopify-Webhook-Id is remembered, so a redelivery"
        " is not published again (Shopify retries for up to 48 hours)",
    )

    @field_validator("paused_channels")
    @classmethod
    def _known_channels(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - {channel.value for channel in Channel})
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(unknown)}; one of {list(Channel)}")
        return ",".join(names)

    @property
    def paused_by_config(self) -> frozenset[Channel]:
        return frozenset(Channel(name) for name in self.paused_channels.split(",") if name)
