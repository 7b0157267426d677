"""Settings of the orders service, read once from the environment by ``run()``, and of its
migration step ``orders-migrate`` (``OrdersMigrationSettings``): only the step holds the
schema owner's credentials."""

from __future__ import annotations

from pydantic import Field, SecretStr

from orderhub_common.amazon_sp_api import AmazonSpApiSettings
from orderhub_common.security import JwtVerifySettings
from orderhub_common.settings import (
    KafkaSettings,
    MongoSettings,
    RedisSettings,
    ServiceSettings,
    env,
    rate_limit_field,
)
from orderhub_common.shopify import ShopifyAdminSettings


class OrdersSettings(
    ServiceSettings,
    KafkaSettings,
    MongoSettings,
    RedisSettings,
    JwtVerifySettings,
    # The website's write-back: Shopify's GraphQL mutations, with ingest's shop and token.
    ShopifyAdminSettings,
    # The same seller application as ingest's: the write-back sends Amazon's shipment updates.
    AmazonSpApiSettings,
):
    port: int = Field(
        8002,
        ge=1,
        le=65535,
        validation_alias=env("ORDERS_PORT"),
        description="the port orders listens on",
    )
    rate_limit_per_ip_per_min: int = rate_limit_field("ORDERS", 1200)
    mongodb_database: str = Field(
        "orderhub_orders",
        min_length=1,
        pattern=r"^[A-Za-z0-9_-]+$",
        validation_alias=env("ORDERS_MONGODB_DATABASE"),
        description="orders' MongoDB database",
    )
    # The sweep finds what the fast way left behind (a crash, a failed publish): every few
    # seconds, for entries older than the grace period, so it never races the fast way.
    outbox_sweep_interval_s: float = Field(
        5.0,
        gt=0,
        le=60,
        validation_alias=env("ORDERS_OUTBOX_SWEEP_INTERVAL_S"),
        description="how often the outbox relay sweeps for events the fast way left behind",
    )
    pipeline_live_within_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        validation_alias=env("PIPELINE_LIVE_WITHIN_S"),
        description=(
            "GET /api/pipeline answers live while every lane's oldest waiting event is younger "
            "than this"
        ),
    )
    history_max_wait_s: float = Field(
        60.0,
        gt=0,
        le=240,
        validation_alias=env("ORDERS_HISTORY_MAX_WAIT_S"),
        description=(
            "the longest a history-lane batch waits for the live lane to be idle (its consumer "
            "joined, nothing waiting) before it is written anyway; under Kafka's 5-minute poll "
            "interval"
        ),
    )
    outbox_confirm_grace_s: float = Field(
        10.0,
        ge=0,
        le=600,
        validation_alias=env("ORDERS_OUTBOX_CONFIRM_GRACE_S"),
        description="how old an outbox entry must be before the sweep takes it",
    )
    outbox_batch_size: int = Field(
        500,
        ge=1,
        le=1000,
        validation_alias=env("ORDERS_OUTBOX_BATCH_SIZE"),
        description="outbox entries read per sweep",
    )
    outbox_lease_s: float = Field(
        30.0,
        gt=0,
        le=600,
        validation_alias=env("ORDERS_OUTBOX_LEASE_S"),
        description="lease of the one relay that publishes, across replicas",
    )
    # Two roles: the service works as one that owns nothing, so a statement it is tricked into
    # cannot alter a table or its triggers (the audit log's append-only one); the migration step
    # runs as the owner (``OrdersMigrationSettings``), which grants the service's role what it may
    # do (``service_role.py``). The service never holds the owner's credentials.
    postgres_url: SecretStr = Field(
        SecretStr("postgresql://orderhub:dev-only-change-me@127.0.0.1:5432/orderhub_orders"),
        validation_alias=env("ORDERS_POSTGRES_URL"),
        description=(
            "the query side's PostgreSQL connection string, as the role the service works as "
            "(it owns nothing; the migrations grant it its privileges)"
        ),
    )
    postgres_pool_size: int = Field(
        10,
        ge=1,
        le=100,
        validation_alias=env("ORDERS_POSTGRES_POOL_SIZE"),
        description="PostgreSQL connections per orders replica",
    )
    # A query nobody waits for any more stops: the gateway gives up well before this.
    postgres_statement_timeout_ms: int = Field(
        3000,
        ge=100,
        le=600_000,
        validation_alias=env("ORDERS_POSTGRES_STATEMENT_TIMEOUT_MS"),
        description="a query side statement running longer is stopped",
    )
    # Signs the short-lived download links of finished exports (HMAC). The local stack
    # generates its own on first start (devstack.credentials); production refuses this default.
    export_link_secret: SecretStr = Field(
        SecretStr("dev-only-change-me"),
        validation_alias=env("ORDERS_EXPORT_LINK_SECRET"),
        description="the key export download links are signed with (shared by every replica)",
    )
    export_link_ttl_s: int = Field(
        300,
        ge=10,
        le=86_400,
        validation_alias=env("ORDERS_EXPORT_LINK_TTL_S"),
        description="how long an export's download link works; a link signed for longer is refused",
    )
    # One full export is tens of MB in PostgreSQL: its file goes once no link can reach it.
    export_retention_s: int = Field(
        3600,
        ge=60,
        le=7 * 86_400,
        validation_alias=env("ORDERS_EXPORT_RETENTION_S"),
        description="how long a finished export's file is kept (no link outlives it); then it "
        "is deleted",
    )
    export_sweep_interval_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        validation_alias=env("ORDERS_EXPORT_SWEEP_INTERVAL_S"),
        description="how often the files of exports past their retention are deleted",
    )
    exports_running_per_user: int = Field(
        2,
        ge=1,
        le=100,
        validation_alias=env("ORDERS_EXPORTS_RUNNING_PER_USER"),
        description="exports one user may have queued or running at once (429 above it)",
    )
    exports_per_user_per_day: int = Field(
        20,
        ge=1,
        le=10_000,
        validation_alias=env("ORDERS_EXPORTS_PER_USER_PER_DAY"),
        description="exports one user may start in any 24 hours (429 above it)",
    )
    verified_token_cache_ttl_s: float = Field(
        30.0,
        ge=0,
        le=300,
        validation_alias=env("ORDERS_VERIFIED_TOKEN_CACHE_TTL_S"),
        description="how long a verified access token is trusted without checking its signature "
        "again (never past its expiry; revocation is checked on every call); 0 checks every call",
    )
    verified_token_cache_size: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        validation_alias=env("ORDERS_VERIFIED_TOKEN_CACHE_SIZE"),
        description="verified access tokens remembered per replica",
    )
    job_lease_s: float = Field(
        10.0,
        ge=1,
        le=600,
        validation_alias=env("ORDERS_JOB_LEASE_S"),
        description="a background job whose runner stops renewing it this long is taken over",
    )

    # Status write-back to the channels (write_back.py).
    mock_channels_url: str = Field(
        "http://127.0.0.1:8004",
        validation_alias=env("MOCK_CHANNELS_URL"),
        description="base URL of the channels' native APIs an admin's status move is sent to",
    )
    write_back_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        validation_alias=env("ORDERS_WRITE_BACK_TIMEOUT_S"),
        description="how long one status write-back call to a channel may take",
    )
    write_back_breaker_failure_threshold: int = Field(
        3,
        ge=1,
        le=100,
        validation_alias=env("ORDERS_WRITE_BACK_BREAKER_FAILURE_THRESHOLD"),
        description="failed write-backs in a row that open a channel's breaker",
    )
    write_back_breaker_recovery_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        validation_alias=env("ORDERS_WRITE_BACK_BREAKER_RECOVERY_S"),
        description="how long an open write-back breaker waits before it tries the channel again",
    )
    write_back_sweep_interval_s: float = Field(
        2.0,
        gt=0,
        le=60,
        validation_alias=env("ORDERS_WRITE_BACK_SWEEP_INTERVAL_S"),
        description="how often the write-back outbox is swept for moves still to send",
    )


class OrdersMigrationSettings(ServiceSettings):
    """``orders-migrate``: the query side's migrations, a step of its own before a release's
    services start (``schema.py``)."""

    postgres_migration_url: SecretStr = Field(
        SecretStr("postgresql://orderhub_owner:dev-only-change-me@127.0.0.1:5432/orderhub_orders"),
        validation_alias=env("ORDERS_POSTGRES_MIGRATION_URL"),
        description=(
            "the query side's database as the role that owns it, which runs the migrations "
            "(orders-migrate only; the orders service never gets it)"
        ),
    )
    postgres_service_role: str = Field(
        "orderhub",
        min_length=1,
        max_length=63,
        validation_alias=env("ORDERS_POSTGRES_SERVICE_ROLE"),
        description=(
            "the role the orders service works as (the user of ORDERS_POSTGRES_URL), which "
            "orders-migrate grants its privileges"
        ),
    )
    # A migration waiting for a table a running release's query holds would queue every later
    # query behind it: it gives up instead, and is run again.
    migration_lock_timeout_ms: int = Field(
        5000,
        ge=100,
        le=600_000,
        validation_alias=env("ORDERS_MIGRATION_LOCK_TIMEOUT_MS"),
        description=(
            "how long orders-migrate waits for a table lock a running service holds before it "
            "fails (run it again)"
        ),
    )
