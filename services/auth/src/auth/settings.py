from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from auth.keys import SigningKeyError, SigningKeys
from orderhub_common.security import JwtVerifySettings
from orderhub_common.settings import (
    KafkaSettings,
    MongoSettings,
    RedisSettings,
    ServiceSettings,
    env,
)


class AuthSettings(ServiceSettings, MongoSettings, RedisSettings, KafkaSettings, JwtVerifySettings):
    port: int = Field(8001, ge=1, le=65535, validation_alias=env("AUTH_PORT"))
    mongodb_database: str = Field("orderhub_auth", validation_alias=env("AUTH_MONGODB_DATABASE"))

    bootstrap_admin_email: str | None = Field(None, validation_alias=env("BOOTSTRAP_ADMIN_EMAIL"))
    bootstrap_admin_password: SecretStr | None = Field(
        None, validation_alias=env("BOOTSTRAP_ADMIN_PASSWORD")
    )
    bootstrap_viewer_email: str | None = Field(None, validation_alias=env("BOOTSTRAP_VIEWER_EMAIL"))
    bootstrap_viewer_password: SecretStr | None = Field(
        None, validation_alias=env("BOOTSTRAP_VIEWER_PASSWORD")
    )

    # A JWK Set of private signing keys; the one named by JWT_ACTIVE_KID (else the last) signs,
    # all of them are published. Unset in development: a key is generated and kept in MongoDB.
    jwt_private_keys: SecretStr | None = Field(None, validation_alias=env("JWT_PRIVATE_KEYS"))
    jwt_active_kid: str | None = Field(None, validation_alias=env("JWT_ACTIVE_KID"))
    # Without JWT_PRIVATE_KEYS (development): the secret file a key is generated into on first
    # start (0600, its folder 0700), shared by restarts and replicas. Never a database.
    jwt_private_keys_file: Path | None = Field(None, validation_alias=env("JWT_PRIVATE_KEYS_FILE"))

    access_token_ttl_s: int = Field(
        900, ge=30, le=86_400, validation_alias=env("ACCESS_TOKEN_TTL_S")
    )
    refresh_token_ttl_s: int = Field(
        604_800, ge=60, le=90 * 86_400, validation_alias=env("REFRESH_TOKEN_TTL_S")
    )

    # However often it is refreshed, a session ends this long after its sign-in.
    session_max_lifetime_s: int = Field(
        43_200, ge=60, le=90 * 86_400, validation_alias=env("SESSION_MAX_LIFETIME_S")
    )
    cookie_path: str = Field("/api/auth", pattern=r"^/", validation_alias=env("AUTH_COOKIE_PATH"))
    cookie_secure: bool = Field(True, validation_alias=env("AUTH_COOKIE_SECURE"))

    # Failures at one account from one address before each further try must wait (1 s, 2 s, ...).
    login_max_failures: int = Field(5, ge=1, le=1000, validation_alias=env("LOGIN_MAX_FAILURES"))
    login_max_delay_s: int = Field(900, ge=1, le=86_400, validation_alias=env("LOGIN_MAX_DELAY_S"))
    # Failures on unknown accounts from one address before its failures answer 429.
    login_max_failures_per_ip: int = Field(
        20, ge=1, le=100_000, validation_alias=env("LOGIN_MAX_FAILURES_PER_IP")
    )
    login_window_s: int = Field(900, ge=1, le=86_400, validation_alias=env("LOGIN_WINDOW_S"))

    @model_validator(mode="after")
    def _bootstrap_users_are_complete(self) -> AuthSettings:
        for role in ("admin", "viewer"):
            email = getattr(self, f"bootstrap_{role}_email")
            password = getattr(self, f"bootstrap_{role}_password")
            if (email is None) != (password is None):
                raise ValueError(
                    f"set both BOOTSTRAP_{role.upper()}_EMAIL and BOOTSTRAP_{role.upper()}_PASSWORD"
                    " or neither"
                )
        return self

    @model_validator(mode="after")
    def _signing_keys_are_usable(self) -> AuthSettings:
        if self.jwt_private_keys is None:
            if self.environment == "production":
                raise ValueError(
                    "JWT_PRIVATE_KEYS must be set in production (see services/auth/README.md)"
                )
            return self
        try:
            SigningKeys.parse(
                self.jwt_private_keys.get_secret_value(),
                algorithm=self.jwt_algorithm,
                active_kid=self.jwt_active_kid,
            )
        except SigningKeyError as exc:
            raise ValueError(str(exc)) from None
        return self
