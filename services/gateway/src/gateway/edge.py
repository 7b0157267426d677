"""Everything the gateway holds for the life of the process, in one place on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.cache import ReadThrough, ResponseCache
from gateway.fanout import EventHub
from gateway.idempotency import IdempotentWrites
from gateway.openapi import CombinedOpenApi
from gateway.ratelimit import RateLimiter
from gateway.routes import Upstream
from gateway.settings import GatewaySettings
from gateway.upstreams import UpstreamClient
from orderhub_common.revocation import AccessRevocations
from orderhub_common.verified_tokens import VerifiedTokens


@dataclass
class Edge:
    settings: GatewaySettings
    redis: Redis
    upstreams: dict[Upstream, UpstreamClient]
    tokens: VerifiedTokens
    limiter: RateLimiter
    cache: ResponseCache
    reads: ReadThrough
    hub: EventHub
    openapi: CombinedOpenApi
    revocations: AccessRevocations
    idempotent_writes: IdempotentWrites
