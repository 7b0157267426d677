from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from orderhub_common.amazon_sp_api import (
    SIMULATOR_CLIENT_ID,
    SIMULATOR_CLIENT_SECRET,
    SIMULATOR_REFRESH_TOKEN,
)
from orderhub_common.settings import ServiceSettings, env, rate_limit_field


class MockChannelsSettings(ServiceSettings):
    port: int = Field(
        8004,
        ge=1,
        le=65535,
        validation_alias=env("MOCK_CHANNELS_PORT"),
        description="the port the mock channels listen on",
    )
    # High: ingest (polling, catching up) and orders (writing back every moved order of a bulk
    # job) call it from one address, as the real channels are called from the real services.
    rate_limit_per_ip_per_min: int = rate_limit_field("MOCK_CHANNELS", 60000)
    seed_orders: int = Field(
        200,
        ge=0,
        le=100_000,
        validation_alias=env("MOCK_SEED_ORDERS"),
        description="orders each channel holds at start",
    )
    seed: int = Field(
        20_261_124,
        validation_alias=env("MOCK_SEED"),
        description="seed of the generated history (same seed, same orders)",
    )
    database: Path | None = Field(
        None,
        validation_alias=env("MOCK_CHANNELS_DATABASE"),
        description="SQLite file where the channels keep their orders across restarts"
        " (unset: in memory only)",
    )
    # Whoever reaches /_control/ creates, moves and fails orders at will: it has no credentials,
    # so it exists only where the development, test and demo stacks turn it on (CONTRACT.md 6).
    control_api: bool = Field(
        False,
        validation_alias=env("MOCK_CHANNELS_CONTROL_API"),
        description="serve the control API (/_control/: order creation and fault injection,"
        " unauthenticated) for tests and demos; refused in production",
    )
    # The website simulator's side of Shopify's custom app: the token it accepts, the secret it
    # signs webhooks with, where they go; ingest holds the same values as SHOPIFY_ADMIN_TOKEN
    # and SHOPIFY_WEBHOOK_SECRET (.env.example). Each service reads its own variables.
    shopify_admin_token: SecretStr | None = Field(
        None,
        validation_alias=env("MOCK_SHOPIFY_ADMIN_TOKEN"),
        description="the Admin API access token the website simulator accepts (unset: its"
        " development token, which ingest and orders send when SHOPIFY_ADMIN_TOKEN is unset)",
    )
    shopify_webhook_secret: SecretStr | None = Field(
        None,
        validation_alias=env("MOCK_SHOPIFY_WEBHOOK_SECRET"),
        description="the secret the website simulator signs its webhooks with (ingest's"
        " SHOPIFY_WEBHOOK_SECRET); unset: it sends none",
    )
    shopify_webhook_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s]+$",
        validation_alias=env("MOCK_SHOPIFY_WEBHOOK_URL"),
        description="where the website simulator sends orders/create, orders/updated and"
        " orders/cancelled (unset: it sends none)",
    )
    shopify_cost_bucket: float = Field(
        1000.0,
        gt=0,
        le=100_000,
        validation_alias=env("MOCK_SHOPIFY_COST_BUCKET"),
        description="the query cost points the website simulator's bucket holds (Shopify's"
        " standard plan: 1000)",
    )
    shopify_restore_rate: float = Field(
        50.0,
        gt=0,
        le=100_000,
        validation_alias=env("MOCK_SHOPIFY_RESTORE_RATE"),
        description="cost points a second the website simulator's bucket gets back (standard"
        " plan: 50)",
    )

    # The Amazon simulator's one seller application (api/amazon.py): the credentials its Login
    # with Amazon accepts (.env.example gives ingest and orders the same), how long an access
    # token lasts, and how much faster than Amazon's default usage plans it lets calls through.
    amazon_lwa_client_id: str = Field(
        SIMULATOR_CLIENT_ID,
        min_length=1,
        validation_alias=env("MOCK_AMAZON_LWA_CLIENT_ID"),
        description="the LWA client id the Amazon simulator accepts",
    )
    amazon_lwa_client_secret: SecretStr = Field(
        SecretStr(SIMULATOR_CLIENT_SECRET),
        validation_alias=env("MOCK_AMAZON_LWA_CLIENT_SECRET"),
        description="the LWA client secret the Amazon simulator accepts",
    )
    amazon_lwa_refresh_token: SecretStr = Field(
        SecretStr(SIMULATOR_REFRESH_TOKEN),
        validation_alias=env("MOCK_AMAZON_LWA_REFRESH_TOKEN"),
        description="the seller refresh token the Amazon simulator accepts",
    )
    amazon_access_token_ttl_s: int = Field(
        3600,
        ge=1,
        le=86_400,
        validation_alias=env("MOCK_AMAZON_ACCESS_TOKEN_TTL_S"),
        description="how long an access token of the Amazon simulator lasts (Amazon: 3600)",
    )
    amazon_usage_plan_scale: float = Field(
        1.0,
        gt=0,
        le=100_000,
        validation_alias=env("MOCK_AMAZON_USAGE_PLAN_SCALE"),
        description=(
            "multiplies the rates of Amazon's usage plans in the simulator (1: Amazon's default "
            "plans, getOrders one a minute after a burst of 20); bursts stay Amazon's"
        ),
    )
    amazon_items_per_page: int = Field(
        20,
        ge=1,
        le=100,
        validation_alias=env("MOCK_AMAZON_ITEMS_PER_PAGE"),
        description="order items per getOrderItems page in the Amazon simulator",
    )

    @model_validator(mode="after")
    def _production_has_no_control_api(self) -> MockChannelsSettings:
        if self.control_api and self.environment == "production":
            raise ValueError(
                "MOCK_CHANNELS_CONTROL_API is for development, test and demo stacks only;"
                " production refuses it"
            )
        return self
