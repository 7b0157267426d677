"""Gateway settings: where the services are, and the edge's limits, cache and timeouts."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from orderhub_common.security import JwtVerifySettings
from orderhub_common.settings import KafkaSettings, RedisSettings, ServiceSettings, env

# services/gateway/src/gateway/settings.py -> the repository root
_REPO_ROOT = Path(__file__).resolve().parents[4]


class GatewaySettings(ServiceSettings, KafkaSettings, RedisSettings, JwtVerifySettings):
    port: int = Field(8080, ge=1, le=65535, validation_alias=env("GATEWAY_PORT"))
    # The gateway is the edge: it trusts no proxy unless one is configured in front of it.
    forwarded_allow_ips: str = Field("", validation_alias=env("GATEWAY_FORWARDED_ALLOW_IPS"))
    auth_url: str = Field("http://127.0.0.1:8001", validation_alias=env("AUTH_URL"))
    orders_url: str = Field("http://127.0.0.1:8002", validation_alias=env("ORDERS_URL"))
    ingest_url: str = Field("http://127.0.0.1:8003", validation_alias=env("INGEST_URL"))

    cors_origins: str = Field(
        "http://127.0.0.1:5173,http://localhost:5173",
        validation_alias=env("CORS_ORIGINS"),
        description="comma-separated browser origins allowed to call the API cross-site",
    )
    frontend_dist: Path = Field(
        _REPO_ROOT / "frontend" / "dist", validation_alias=env("FRONTEND_DIST")
    )

    upstream_connect_timeout_s: float = Field(
        1.0, gt=0, le=30, validation_alias=env("UPSTREAM_CONNECT_TIMEOUT_S")
    )
    upstream_timeout_s: float = Field(
        10.0, gt=0, le=120, validation_alias=env("UPSTREAM_TIMEOUT_S")
    )
    upstream_max_connections: int = Field(
        100, ge=1, le=10_000, validation_alias=env("UPSTREAM_MAX_CONNECTIONS")
    )
    breaker_failure_threshold: int = Field(
        3, ge=1, le=100, validation_alias=env("BREAKER_FAILURE_THRESHOLD")
    )
    breaker_recovery_s: float = Field(5.0, gt=0, le=300, validation_alias=env("BREAKER_RECOVERY_S"))
    max_body_bytes: int = Field(
        1_048_576, ge=1024, le=50_000_000, validation_alias=env("MAX_BODY_BYTES")
    )

    rate_limit_per_ip_per_min: int = Field(
        600, ge=1, le=1_000_000, validation_alias=env("RATE_LIMIT_PER_IP_PER_MIN")
    )
    rate_limit_per_user_per_min: int = Field(
        300, ge=1, le=1_000_000, validation_alias=env("RATE_LIMIT_PER_USER_PER_MIN")
    )
    cache_ttl_s: int = Field(30, ge=1, le=3600, validation_alias=env("CACHE_TTL_S"))
    openapi_cache_ttl_s: float = Field(
        30.0, ge=0, le=3600, validation_alias=env("OPENAPI_CACHE_TTL_S")
    )

    sse_heartbeat_s: float = Field(15.0, gt=0, le=300, validation_alias=env("SSE_HEARTBEAT_S"))
    sse_client_queue_size: int = Field(
        256, ge=1, le=100_000, validation_alias=env("SSE_CLIENT_QUEUE_SIZE")
    )

    @property
    def allowed_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def upstream_urls(self) -> dict[str, str]:
        return {"auth": self.auth_url, "orders": self.orders_url, "ingest": self.ingest_url}
