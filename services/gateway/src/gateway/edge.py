"""Everything the gateway holds for the life of the process, in one place on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.cache import ResponseCache
from gateway.fanout import EventHub
from gateway.openapi import CombinedOpenApi
from gateway.ratelimit import RateLimiter
from gateway.routes import Upstream
from gateway.settings import GatewaySettings
from gateway.upstreams import UpstreamClient


@dataclass
class Edge:
    settings: GatewaySettings
    upstreams: dict[Upstream, UpstreamClient]
    limiter: RateLimiter
    cache: ResponseCache
    hub: EventHub
    openapi: CombinedOpenApi
