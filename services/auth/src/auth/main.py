from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from auth.api.auth import router as auth_router
from auth.api.users import router as users_router
from auth.bootstrap import BootstrapUsers, load_signing_keys
from auth.cookies import SessionCookies
from auth.documents import UserDocument
from auth.keys import SigningKeysResource
from auth.passwords import Passwords
from auth.repository import RedisRefreshTokenStore, UserRepository
from auth.service import AuthService, UserAdmin
from auth.sessions import RefreshSessions
from auth.settings import AuthSettings
from auth.throttle import LoginThrottle
from auth.tokens import AccessTokenIssuer
from auth.user_lock import UserChangeLock
from orderhub_common.app import create_service_app, serve
from orderhub_common.audit import AuditTrail
from orderhub_common.kafka import create_broker, ensure_topics, topics_from
from orderhub_common.ratelimit import RateLimit
from orderhub_common.resources import KafkaResource, MongoResource, RedisResource
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import JwtVerifier
from orderhub_common.settings import load_settings


def create_app(settings: AuthSettings, *, passwords: Passwords | None = None) -> FastAPI:
    """``passwords`` lets tests use cheaper Argon2 parameters; production uses the defaults."""
    mongo = MongoResource(
        settings.mongodb_url.get_secret_value(), settings.mongodb_database, [UserDocument]
    )
    redis = RedisResource(settings.redis_url.get_secret_value())
    broker = create_broker(settings, client_id="auth")
    trail = AuditTrail(broker, topics_from(settings), service="auth")
    signing_keys = SigningKeysResource(lambda: load_signing_keys(settings))
    revocations = AccessRevocations(redis.client)
    users = UserRepository()
    passwords = passwords or Passwords()
    user_admin = UserAdmin(
        users=users,
        passwords=passwords,
        lock=UserChangeLock(redis.client),
        revocations=revocations,
        trail=trail,
    )
    auth_service = AuthService(
        users=users,
        passwords=passwords,
        throttle=LoginThrottle(
            redis.client,
            free_failures_per_client=settings.login_max_failures,
            max_delay_s=settings.login_max_delay_s,
            unknown_account_failures_per_ip=settings.login_max_failures_per_ip,
            window_s=settings.login_window_s,
        ),
        sessions=RefreshSessions(
            RedisRefreshTokenStore(redis.client),
            ttl_s=settings.refresh_token_ttl_s,
            max_lifetime_s=settings.session_max_lifetime_s,
        ),
        issuer=AccessTokenIssuer(
            lambda: signing_keys.keys,
            algorithm=settings.jwt_algorithm,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_s=settings.access_token_ttl_s,
        ),
        revocations=revocations,
        trail=trail,
    )
    cookies = SessionCookies(
        path=settings.cookie_path,
        secure=settings.cookie_secure,
        max_age_s=min(settings.refresh_token_ttl_s, settings.session_max_lifetime_s),
    )

    async def create_topics() -> None:
        await ensure_topics(settings)

    async def own_public_keys() -> Mapping[str, Any]:
        # Auth verifies its own tokens from its own keys, never through HTTP to itself.
        return signing_keys.keys.public_jwks()

    # A store that does not answer is 503 by orderhub_common's one rule, as in every service.
    return create_service_app(
        settings=settings,
        rate_limit=RateLimit("auth", settings.rate_limit_per_ip_per_min, redis.client),
        title="Order Hub auth",
        description="Users, sign-in with rotating refresh tokens, and the JWKS for every service.",
        # Without Redis the JWKS every service verifies with is still served (docs/FAULTS.md).
        resources=[
            mongo,
            redis.degrades_to("sign-in and refresh answer 503; the JWKS and user reads are served"),
            KafkaResource(broker, before_start=create_topics).degrades_to(
                "actions go ahead; their audit records are counted lost"
            ),
            signing_keys,
            BootstrapUsers(settings, user_admin),
        ],
        routers=[auth_router, users_router],
        state={
            "auth_service": auth_service,
            "user_admin": user_admin,
            "signing_keys": signing_keys,
            "session_cookies": cookies,
            "access_revocations": revocations,
            "jwt_verifier": JwtVerifier(settings, jwks_source=own_public_keys),
        },
    )


def run() -> None:
    settings = load_settings(AuthSettings)
    serve("auth", settings, lambda: create_app(settings))
