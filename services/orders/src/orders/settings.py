"""Settings of the orders service, read once from the environment by ``run()``."""

from __future__ import annotations

from pydantic import Field

from orderhub_common.security import JwtVerifySettings
from orderhub_common.settings import (
    KafkaSettings,
    MongoSettings,
    ServiceSettings,
    env,
)


class OrdersSettings(ServiceSettings, KafkaSettings, MongoSettings, JwtVerifySettings):
    port: int = Field(8002, ge=1, le=65535, validation_alias=env("ORDERS_PORT"))
    mongodb_database: str = Field(
        "orderhub_orders",
        min_length=1,
        pattern=r"^[A-Za-z0-9_-]+$",
        validation_alias=env("ORDERS_MONGODB_DATABASE"),
    )
    outbox_sweep_interval_s: float = Field(
        1.0, gt=0, le=60, validation_alias=env("ORDERS_OUTBOX_SWEEP_INTERVAL_S")
    )
    outbox_batch_size: int = Field(
        100, ge=1, le=1000, validation_alias=env("ORDERS_OUTBOX_BATCH_SIZE")
    )
    outbox_lease_s: float = Field(30.0, gt=0, le=600, validation_alias=env("ORDERS_OUTBOX_LEASE_S"))
