"""Gateway settings: where the services are, and the edge's limits, cache and timeouts."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from orderhub_common.security import JwtVerifySettings
from orderhub_common.settings import KafkaSettings, RedisSettings, ServiceSettings, env

# services/gateway/src/gateway/settings.py -> the repository root
_REPO_ROOT = Path(__file__).resolve().parents[4]


class GatewaySettings(ServiceSettings, KafkaSettings, RedisSettings, JwtVerifySettings):
    port: int = Field(
        8080,
        ge=1,
        le=65535,
        validation_alias=env("GATEWAY_PORT"),
        description="the port the gateway listens on",
    )
    # The gateway is the edge: it trusts no proxy unless one is configured in front of it.
    forwarded_allow_ips: str = Field(
        "",
        validation_alias=env("GATEWAY_FORWARDED_ALLOW_IPS"),
        description=(
            "the proxies in front of the gateway whose X-Forwarded-For names the "
            "client; none by default"
        ),
    )
    # Reachable from anywhere: its metrics only from the monitoring network (or with METRICS_TOKEN).
    metrics_allow_ips: str = Field(
        "127.0.0.1,::1",
        validation_alias=env("GATEWAY_METRICS_ALLOW_IPS"),
        description=(
            "the addresses or networks (comma-separated) that may read the gateway's /metrics "
            "without METRICS_TOKEN"
        ),
    )
    auth_url: str = Field(
        "http://127.0.0.1:8001",
        validation_alias=env("AUTH_URL"),
        description="where the gateway reaches auth",
    )
    orders_url: str = Field(
        "http://127.0.0.1:8002",
        validation_alias=env("ORDERS_URL"),
        description="where the gateway reaches orders",
    )
    ingest_url: str = Field(
        "http://127.0.0.1:8003",
        validation_alias=env("INGEST_URL"),
        description="where the gateway reaches ingest",
    )

    cors_origins: str = Field(
        "http://127.0.0.1:5173,http://localhost:5173",
        validation_alias=env("CORS_ORIGINS"),
        description="comma-separated browser origins allowed to call the API cross-site",
    )
    frontend_dist: Path = Field(
        _REPO_ROOT / "frontend" / "dist",
        validation_alias=env("FRONTEND_DIST"),
        description="the built SPA the gateway serves at /",
    )

    upstream_connect_timeout_s: float = Field(
        1.0,
        gt=0,
        le=30,
        validation_alias=env("UPSTREAM_CONNECT_TIMEOUT_S"),
        description="connect timeout to a service behind the gateway",
    )
    upstream_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        validation_alias=env("UPSTREAM_TIMEOUT_S"),
        description="read and write timeout to a service behind the gateway",
    )
    # Separate limits per service, so a flood of order reads never starves sign-in. Each limit
    # adapts between the minimum and the service's maximum to the latency the service answers
    # with (gateway.concurrency); the maximum is also the size of its connection pool, kept
    # modest: httpx's pool checks each of its idle connections on every call, and one service
    # process gains nothing from more calls at once than it can work on.
    auth_max_in_flight: int = Field(
        16,
        ge=1,
        le=10_000,
        validation_alias=env("GATEWAY_AUTH_MAX_IN_FLIGHT"),
        description="the most calls to auth in flight per gateway replica (the adaptive limit's "
        "ceiling)",
    )
    orders_max_in_flight: int = Field(
        32,
        ge=1,
        le=10_000,
        validation_alias=env("GATEWAY_ORDERS_MAX_IN_FLIGHT"),
        description="the most calls to orders in flight per gateway replica (the adaptive "
        "limit's ceiling)",
    )
    ingest_max_in_flight: int = Field(
        8,
        ge=1,
        le=10_000,
        validation_alias=env("GATEWAY_INGEST_MAX_IN_FLIGHT"),
        description="the most calls to ingest in flight per gateway replica (the adaptive "
        "limit's ceiling)",
    )
    upstream_min_in_flight: int = Field(
        4,
        ge=1,
        le=10_000,
        validation_alias=env("GATEWAY_UPSTREAM_MIN_IN_FLIGHT"),
        description="the fewest calls to a service the adaptive limit allows in flight however "
        "slowly it answers (at most the service's maximum)",
    )
    upstream_latency_target_s: float = Field(
        0.25,
        gt=0,
        le=60,
        validation_alias=env("GATEWAY_UPSTREAM_LATENCY_TARGET_S"),
        description="the latency calls to a service should stay under: the limit shrinks when "
        "the service answers slower, and a call whose wait for a slot would pass it is a fast 503",
    )
    auth_latency_target_s: float = Field(
        1.0,
        gt=0,
        le=60,
        validation_alias=env("GATEWAY_AUTH_LATENCY_TARGET_S"),
        description="the latency target of calls to auth, whose sign-ins hash a password on "
        "purpose (GATEWAY_UPSTREAM_LATENCY_TARGET_S for the other services)",
    )
    max_in_flight: int = Field(
        128,
        ge=1,
        le=100_000,
        validation_alias=env("GATEWAY_MAX_IN_FLIGHT"),
        description="API calls this replica works on at once; more are a fast 503",
    )
    upstream_queue_timeout_s: float = Field(
        0.25,
        ge=0,
        le=30,
        validation_alias=env("GATEWAY_UPSTREAM_QUEUE_TIMEOUT_S"),
        description="the longest a call waits for a free slot to its service before a fast 503 "
        "(0: never waits)",
    )
    breaker_failure_threshold: int = Field(
        3,
        ge=1,
        le=100,
        validation_alias=env("GATEWAY_BREAKER_FAILURE_THRESHOLD"),
        description="transport failures in a row that open the breaker in front of a service",
    )
    breaker_recovery_s: float = Field(
        2.0,
        gt=0,
        le=300,
        validation_alias=env("GATEWAY_BREAKER_RECOVERY_S"),
        description="how long an open breaker answers 503 before a trial call",
    )

    rate_limit_per_ip_per_min: int = Field(
        600,
        ge=1,
        le=1_000_000,
        validation_alias=env("RATE_LIMIT_PER_IP_PER_MIN"),
        description=(
            "requests per client address per minute before 429, for anonymous calls (sign-in, "
            "calls without a valid token); signed-in calls count per user instead (the SPA and "
            "docs counted apart)"
        ),
    )
    rate_limit_per_user_per_min: int = Field(
        300,
        ge=1,
        le=1_000_000,
        validation_alias=env("RATE_LIMIT_PER_USER_PER_MIN"),
        description="requests per signed-in user per minute before 429, from any address",
    )
    redis_max_connections: int = Field(
        64,
        ge=1,
        le=10_000,
        validation_alias=env("GATEWAY_REDIS_MAX_CONNECTIONS"),
        description="Redis connections of this replica; a request waits for a free one",
    )
    verified_token_cache_ttl_s: float = Field(
        30.0,
        ge=0,
        le=300,
        validation_alias=env("GATEWAY_VERIFIED_TOKEN_CACHE_TTL_S"),
        description="how long a verified access token is trusted without checking it again "
        "(never past its expiry); 0 verifies every request",
    )
    verified_token_cache_size: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        validation_alias=env("GATEWAY_VERIFIED_TOKEN_CACHE_SIZE"),
        description="verified access tokens remembered per replica",
    )

    cache_ttl_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        validation_alias=env("CACHE_TTL_S"),
        description="how long an order's cached detail is fresh; its order events drop it sooner",
    )
    list_cache_ttl_s: float = Field(
        2.0,
        gt=0,
        le=3600,
        validation_alias=env("GATEWAY_LIST_CACHE_TTL_S"),
        description="how long a cached order list or stats answer is fresh while orders flow in",
    )
    cache_stale_ttl_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        validation_alias=env("GATEWAY_CACHE_STALE_TTL_S"),
        description="how long past its freshness an entry is kept, served while it is refreshed "
        "or while its service fails",
    )
    cache_fill_wait_s: float = Field(
        1.0,
        ge=0,
        le=30,
        validation_alias=env("GATEWAY_CACHE_FILL_WAIT_S"),
        description="how long a replica waits for another replica's fill of the same entry",
    )
    openapi_cache_ttl_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        validation_alias=env("OPENAPI_CACHE_TTL_S"),
        description="how long the merged API document is kept before it is merged again",
    )

    sse_heartbeat_s: float = Field(
        15.0,
        gt=0,
        le=300,
        validation_alias=env("SSE_HEARTBEAT_S"),
        description="a comment line on the event stream this often, so proxies keep it open",
    )
    sse_revalidate_s: float = Field(
        5.0,
        gt=0,
        le=300,
        validation_alias=env("GATEWAY_SSE_REVALIDATE_S"),
        description="how often a live event stream checks that its token was not revoked",
    )
    sse_replay_size: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        validation_alias=env("SSE_REPLAY_SIZE"),
        description="order changes kept to resume a stream from Last-Event-ID or to catch up a "
        "slow client; one further behind is told to refetch once",
    )
    sse_coalesce_s: float = Field(
        1.0,
        ge=0,
        le=60,
        validation_alias=env("GATEWAY_SSE_COALESCE_S"),
        description="the shortest time between two messages of one event stream: the changes "
        "meanwhile go out together",
    )

    @property
    def allowed_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def upstream_urls(self) -> dict[str, str]:
        return {"auth": self.auth_url, "orders": self.orders_url, "ingest": self.ingest_url}

    @property
    def upstream_latency_targets_s(self) -> dict[str, float]:
        return {
            "auth": self.auth_latency_target_s,
            "orders": self.upstream_latency_target_s,
            "ingest": self.upstream_latency_target_s,
        }

    @property
    def upstream_max_in_flight(self) -> dict[str, int]:
        return {
            "auth": self.auth_max_in_flight,
            "orders": self.orders_max_in_flight,
            "ingest": self.ingest_max_in_flight,
        }
