"""Access-token verification every service shares, without calling auth per request.

Auth signs access tokens with an asymmetric key and publishes the public keys at
``/.well-known/jwks.json``. ``JwtVerifier`` fetches that key set, caches it, and verifies each
token locally: the signature with the key named by the header's ``kid``, only the configured
algorithm (``alg: none`` and HMAC tokens are refused before any key is touched), and the
``exp``, ``iss``, ``aud``, ``sub``, ``jti`` and ``role`` claims. An unknown ``kid`` triggers a
refetch at most once per ``JWKS_REFETCH_INTERVAL_S``; when auth is down, the cached keys keep
working, so signed-in users are served until their access tokens expire.

Wiring a service (its settings class mixes in ``JwtVerifySettings``)::

    app = create_service_app(
        settings=settings, ..., state={"jwt_verifier": JwtVerifier(settings)}
    )

    @router.get("/orders")
    async def list_orders(principal: CurrentPrincipal) -> OrderPage: ...

    @router.patch("/orders/{order_id}/status")
    async def change_status(
        ..., principal: Annotated[Principal, Depends(require_role(Role.ADMIN))]
    ) -> OrderEnvelope: ...

A missing, malformed, forged or expired token is 401 ``unauthorized`` with a
``WWW-Authenticate: Bearer`` challenge; a valid token without the role is 403 ``forbidden``.

A signature holds for the token's whole life, so ``CurrentPrincipal`` (and ``require_role``, built
on it) also asks whether the token still stands: the checker on ``app.state.access_revocations``
(``orderhub_common.revocation.AccessRevocations``, reading Redis) refuses a token whose user was
demoted, deactivated or changed since it was issued, or that was signed out (401). Every service
with a Redis wires one; a service without one says so with ``None``. The state is read without a
default on purpose: a service that forgot to wire it fails every call instead of skipping the
check.

The algorithm defaults to ``Ed25519`` (EdDSA over Curve25519, the fully specified name RFC 9864
gives what was ``EdDSA``): small keys and tokens, fast deterministic signatures, and none of the
padding or curve-parameter pitfalls of RSA and ECDSA. ``RS256`` and ``ES256`` stay available for
callers that need them. JOSE comes from ``joserfc``, the library Authlib's author split out of
Authlib and that Authlib 1.9 points to in place of its deprecated ``authlib.jose``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

import httpx
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import Key, import_key
from loguru import logger
from pydantic import Field
from pydantic_settings import BaseSettings
from starlette.requests import HTTPConnection

from orderhub_common.errors import ForbiddenError, ServiceUnavailableError, UnauthorizedError
from orderhub_common.settings import env

JwtAlgorithm = Literal["Ed25519", "ES256", "RS256"]

# The key type each algorithm verifies with: keys of any other type in the JWKS are ignored,
# so a published key can never be used with an algorithm it was not made for.
KEY_TYPE_BY_ALGORITHM: dict[str, str] = {"Ed25519": "OKP", "ES256": "EC", "RS256": "RSA"}

JwksSource = Callable[[], Awaitable[Mapping[str, Any]]]


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class JwtVerifySettings(BaseSettings):
    jwks_url: str = Field(
        "http://127.0.0.1:8001/.well-known/jwks.json",
        validation_alias=env("JWKS_URL"),
        description="where auth publishes its public signing keys",
    )
    jwt_issuer: str = Field(
        "orderhub-auth",
        min_length=1,
        validation_alias=env("JWT_ISSUER"),
        description="the iss claim tokens must carry",
    )
    jwt_audience: str = Field(
        "orderhub",
        min_length=1,
        validation_alias=env("JWT_AUDIENCE"),
        description="the aud claim tokens must carry",
    )
    jwt_algorithm: JwtAlgorithm = Field(
        "Ed25519",
        validation_alias=env("JWT_ALGORITHM"),
        description="the signature algorithm of access tokens",
    )
    jwt_leeway_s: int = Field(
        5,
        ge=0,
        le=120,
        validation_alias=env("JWT_LEEWAY_S"),
        description="clock skew allowed when checking a token's times",
    )
    jwks_cache_ttl_s: float = Field(
        300.0,
        gt=0,
        validation_alias=env("JWKS_CACHE_TTL_S"),
        description="how long fetched public keys are trusted before they are fetched again",
    )
    jwks_refetch_interval_s: float = Field(
        10.0,
        ge=0,
        validation_alias=env("JWKS_REFETCH_INTERVAL_S"),
        description="at most one fetch of the keys this often when a token names an unknown key",
    )
    jwks_fetch_timeout_s: float = Field(
        3.0,
        gt=0,
        validation_alias=env("JWKS_FETCH_TIMEOUT_S"),
        description="timeout of one fetch of the keys",
    )


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the access token says."""

    user_id: str
    role: Role
    jti: str
    expires_at: datetime
    # Carried by auth's tokens so a service can name who acted; older tokens may lack it.
    email: str | None = None
    token_version: int = 0
    """The user's access version when the token was issued (``ver``): auth moves it on every
    change of role, state, password or email, which ends every token issued before
    (``orderhub_common.revocation``)."""


class InvalidTokenError(UnauthorizedError):
    """A token was presented but cannot be trusted (RFC 6750 ``invalid_token``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def http_jwks_source(
    url: str, *, timeout_s: float = 3.0, transport: httpx.AsyncBaseTransport | None = None
) -> JwksSource:
    """Reads the JWKS over HTTP. Fetches are rare, so each uses a short-lived client."""

    async def fetch() -> Mapping[str, Any]:
        async with httpx.AsyncClient(transport=transport, timeout=timeout_s) as client:
            response = await client.get(url)
            response.raise_for_status()
            body = response.json()
        if not isinstance(body, dict):
            raise ValueError("JWKS is not a JSON object")
        return body

    return fetch


class JwtVerifier:
    """Verifies access tokens against the issuer's cached public keys."""

    def __init__(
        self,
        settings: JwtVerifySettings,
        *,
        jwks_source: JwksSource | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._algorithm = settings.jwt_algorithm
        self._key_type = KEY_TYPE_BY_ALGORITHM[settings.jwt_algorithm]
        self._fetch_jwks = jwks_source or http_jwks_source(
            settings.jwks_url, timeout_s=settings.jwks_fetch_timeout_s
        )
        self._clock = clock
        self._keys: dict[str, Key] = {}
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        kid = self._checked_kid(token)
        key = await self._key_for(kid)
        try:
            claims = jwt.decode(token, key, algorithms=[self._algorithm]).claims
            self._claims_registry().validate(claims)
        except ExpiredTokenError:
            raise InvalidTokenError("the access token has expired") from None
        except JoseError:
            raise InvalidTokenError("the access token is not valid") from None
        role = claims["role"]
        version = claims.get("ver", 0)
        if not isinstance(role, str) or not isinstance(version, int) or isinstance(version, bool):
            raise InvalidTokenError("the access token is not valid")
        return Principal(
            user_id=claims["sub"],
            role=Role(role),
            jti=claims["jti"],
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            email=email if isinstance(email := claims.get("email"), str) else None,
            token_version=version,
        )

    def _checked_kid(self, token: str) -> str:
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, UnicodeError):
            raise InvalidTokenError("the access token is malformed") from None
        if header.get("alg") != self._algorithm:
            raise InvalidTokenError("the access token uses an algorithm that is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("the access token names no signing key")
        return kid

    async def _key_for(self, kid: str) -> Key:
        stale = self._clock() - self._fetched_at >= self._settings.jwks_cache_ttl_s
        if stale or kid not in self._keys:
            await self._refresh()
        key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._keys:
            raise ServiceUnavailableError("cannot verify sign-ins right now: no signing keys")
        raise InvalidTokenError("the access token is signed by an unknown key")

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            # Bounds the load a flood of forged kids (or a down auth service) can cause.
            if now - self._attempted_at < self._settings.jwks_refetch_interval_s:
                return
            self._attempted_at = now
            try:
                keys = self._usable_keys(await self._fetch_jwks())
            except (httpx.HTTPError, ValueError, JoseError) as exc:
                logger.warning(
                    f"JWKS refresh failed, still serving {len(self._keys)} cached keys: {exc!r}"
                )
                return
            self._keys = keys
            self._fetched_at = now

    def _usable_keys(self, jwks: Mapping[str, Any]) -> dict[str, Key]:
        published = jwks.get("keys")
        if not isinstance(published, list):
            raise ValueError("JWKS has no 'keys' list")
        usable: dict[str, Key] = {}
        for jwk in published:
            if not isinstance(jwk, dict) or jwk.get("kty") != self._key_type:
                continue
            if jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid"), str):
                continue
            public = {name: value for name, value in jwk.items() if name != "d"}
            usable[jwk["kid"]] = import_key(public)
        return usable

    def _claims_registry(self) -> jwt.JWTClaimsRegistry:
        return jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=self._settings.jwt_leeway_s,
            iss={"essential": True, "value": self._settings.jwt_issuer},
            aud={"essential": True, "value": self._settings.jwt_audience},
            exp={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
            role={"essential": True, "values": [role.value for role in Role]},
        )


_bearer = HTTPBearer(
    auto_error=False,
    description="The access token from POST /api/auth/login",
)


class AccessCheck(Protocol):
    """Whether a verified token still stands (``orderhub_common.revocation.AccessRevocations``)."""

    async def check(self, principal: Principal, *, fail_closed: bool = False) -> None:
        """Raises 401 (``invalid_token``) if the token was revoked; when the answer cannot be
        had, lets a read through and refuses a change (``fail_closed``) with 503."""


async def signed_principal(
    connection: HTTPConnection,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller as its token's signature and claims say, revocation not checked: for the
    gateway, which asks Redis whether the token was revoked in the same round trip as its rate
    limits (``gateway.deps``), and for sign-out, which a revoked token may still do. Everything
    else uses ``CurrentPrincipal``."""
    if credentials is None:
        raise UnauthorizedError(
            "sign in first: send Authorization: Bearer <accessToken>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier: JwtVerifier = connection.app.state.jwt_verifier
    principal = await verifier.verify(credentials.credentials)
    connection.state.principal = principal
    return principal


# Calls that change nothing: while revocations cannot be read, these are let through.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def current_principal(
    principal: Annotated[Principal, Depends(signed_principal)], connection: HTTPConnection
) -> Principal:
    """The signed-in caller whose token still stands; 401 without a valid bearer token, or with
    one that was revoked (its user demoted, deactivated or changed, or the token signed out)."""
    access: AccessCheck | None = connection.app.state.access_revocations
    if access is not None:
        await access.check(principal, fail_closed=connection.scope.get("method") not in _READS)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only signed-in callers with one of ``roles`` (else 403)."""
    if not roles:
        raise ValueError("require_role needs at least one role")
    allowed = frozenset(Role(role) for role in roles)
    needed = " or ".join(sorted(allowed))

    async def principal_with_role(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise ForbiddenError(f"this needs the {needed} role")
        return principal

    return principal_with_role
