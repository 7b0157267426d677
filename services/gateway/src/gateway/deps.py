"""The edge's checks of every API call, in the order they apply, with one Redis round trip.

Signed-in traffic is limited per user, anonymous traffic per address: colleagues behind one
office address never use up each other's budget.

- A caller whose access token was verified recently (``orderhub_common.verified_tokens``): its
  per-user limit and, for a cacheable read, the cache lookup go to Redis in one pipeline. No
  per-address count.
- A caller without a token (and every public route, such as sign-in) is counted against its
  per-address limit.
- A caller with a token not verified yet: the address's limit is peeked at first (not counted),
  so once an address has spent its budget on missing or forged tokens its next ones are turned
  away before any signature is checked; then the token is verified locally with the shared
  ``JwtVerifier`` (no call to auth). A token that fails counts against the address; one that
  holds goes on to the per-user limit and the cache lookup in a second pipeline.
- With the per-user limit, in the same round trip: whether the token was revoked (the user's
  access version moved, or the token was signed out: ``orderhub_common.revocation``), 401.
- Then the edge's role check (services check again).

Redis down: limits are skipped and reads bypass the cache (fail open, logged once), so the API
stays up; rate limiting is a protection, not a gate that may take the API down with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from gateway.cache import CacheLookup, CacheSlot
from gateway.edge import Edge
from gateway.metrics import RATE_LIMITED
from gateway.ratelimit import RATE_LIMIT_DECISION, QueuedHit, RateLimitDecision
from gateway.redis_outage import REDIS_FAILURES, EdgePipeline, Reply, one_round_trip
from gateway.routes import Access
from orderhub_common.errors import ForbiddenError, TooManyRequestsError, UnauthorizedError
from orderhub_common.http import client_key
from orderhub_common.revocation import AccessRevocations, AccessRevokedError
from orderhub_common.security import Principal, Role, signed_principal


async def edge(request: Request) -> Edge:
    # Async on purpose: FastAPI runs a plain function dependency in a worker thread.
    edge: Edge = request.app.state.edge
    return edge


EdgeDep = Annotated[Edge, Depends(edge)]


@dataclass(frozen=True)
class Admission:
    """A caller let through: who they are, and the cache lookup asked for with the checks."""

    principal: Principal | None
    slot: CacheSlot | None = None
    lookup: CacheLookup | None = None
    """None when no lookup was asked for, or while the cache is bypassed."""


def bearer_credentials(token: str | None) -> HTTPAuthorizationCredentials | None:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None


def header_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return bearer_credentials(token.strip()) if scheme.lower() == "bearer" else None


async def admit(
    request: Request,
    edge: Edge,
    access: Access,
    credentials: HTTPAuthorizationCredentials | None,
    *,
    cache_slot: Callable[[Principal], CacheSlot] | None = None,
) -> Admission:
    """Counts and verifies the caller of a route of the given access level (429, 401, 403).

    ``cache_slot`` names the cached read the caller will want, looked up in the same round trip.
    """
    ip: str | None = client_key(request)
    if access is Access.PUBLIC or credentials is None:
        await _checked(request, edge, ip=ip)
        if access is Access.PUBLIC:
            return Admission(None)
    principal = edge.tokens.known(credentials.credentials) if credentials else None
    if principal is None:
        if credentials is not None:
            await _checked(request, edge, ip=ip, count_ip=False)
        try:
            principal = await signed_principal(request, credentials)
        except UnauthorizedError:
            if credentials is not None:
                await _checked(request, edge, ip=ip)
            raise
    slot = cache_slot(principal) if cache_slot is not None else None
    if slot is not None and not await edge.cache.is_usable():
        slot = None
    lookup = await _checked(request, edge, ip=None, principal=principal, slot=slot)
    if access is Access.ADMIN and principal.role is not Role.ADMIN:
        raise ForbiddenError("this needs the admin role")
    return Admission(principal, slot if lookup is not None else None, lookup)


async def _checked(
    request: Request,
    edge: Edge,
    *,
    ip: str | None,
    count_ip: bool = True,
    principal: Principal | None = None,
    slot: CacheSlot | None = None,
) -> CacheLookup | None:
    """Counts ``ip`` (only peeks at its limit with ``count_ip=False``) and the principal's user,
    checks the principal's token is not revoked and looks ``slot`` up, in one round trip; raises
    429 or 401."""
    settings = edge.settings

    def queue(pipe: EdgePipeline) -> _Queued:
        hits = []
        if ip is not None:
            hit = edge.limiter.queue_hit(
                pipe, "ip", ip, settings.rate_limit_per_ip_per_min, count=count_ip
            )
            hits.append(("ip", hit))
        revocation = None
        if principal is not None:
            hit = edge.limiter.queue_hit(
                pipe, "user", principal.user_id, settings.rate_limit_per_user_per_min
            )
            hits.append(("user", hit))
            revocation = pipe.queue(lambda raw: edge.revocations.queue_check(raw, principal))
        lookup = edge.cache.queue_lookup(pipe, slot) if slot is not None else None
        return _Queued(hits, revocation, lookup)

    try:
        queued = await one_round_trip(
            edge.redis, queue, [*edge.limiter.scripts, *edge.cache.scripts]
        )
    except REDIS_FAILURES as exc:
        edge.limiter.outage.failed(exc)
        return None
    edge.limiter.outage.answered()
    for scope, hit in queued.hits:
        _enforce(request, scope, hit.decide())
    if principal is not None and queued.revocation is not None:
        version, revoked = queued.revocation.values
        if not AccessRevocations.is_current_reply(principal, version, revoked):
            raise AccessRevokedError()
    if slot is None or queued.lookup is None:
        return None
    return edge.cache.read(queued.lookup.value)


@dataclass(frozen=True)
class _Queued:
    """What one request's checks queued: each reads its own replies."""

    hits: list[tuple[str, QueuedHit]]
    revocation: Reply | None
    lookup: Reply | None


_REFUSALS = {"ip": "too many requests from this address", "user": "too many requests for this user"}


def _enforce(request: Request, scope: str, decision: RateLimitDecision) -> None:
    tightest: RateLimitDecision | None = getattr(request.state, RATE_LIMIT_DECISION, None)
    if tightest is None or decision.remaining < tightest.remaining:
        setattr(request.state, RATE_LIMIT_DECISION, decision)
    if not decision.allowed:
        RATE_LIMITED.labels(scope).inc()
        raise TooManyRequestsError(
            f"{_REFUSALS[scope]}, retry in {decision.reset_s}s", retry_after_s=decision.reset_s
        )
