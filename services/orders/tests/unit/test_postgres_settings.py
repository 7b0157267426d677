"""Orders works on PostgreSQL as a role that owns nothing; only its migration step,
``orders-migrate``, holds the schema owner's URL. Production refuses either while it still carries
a development password (the one the docs printed included)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from orders.settings import OrdersMigrationSettings, OrdersSettings

pytestmark = pytest.mark.unit

OWNER_URL = "postgresql://orderhub_owner:real-owner-secret@db:5432/orderhub_orders"
PRODUCTION = {
    "ORDERHUB_ENV": "production",
    "ORDERS_EXPORT_LINK_SECRET": "a-real-secret-from-the-vault-0123456789",
    "ORDERS_POSTGRES_URL": "postgresql://orderhub:real-service-secret@db:5432/orderhub_orders",
    # Production talks to Kafka over TLS unless told the broker is on a private network.
    "KAFKA_ALLOW_PLAINTEXT": "true",
}
MIGRATION = {"ORDERHUB_ENV": "production", "ORDERS_POSTGRES_MIGRATION_URL": OWNER_URL}


def test_production_takes_the_services_role_with_a_real_password() -> None:
    settings = OrdersSettings.model_validate(PRODUCTION)
    assert "real-service-secret" not in repr(settings)


def test_the_migration_step_takes_the_owner_and_the_role_it_grants() -> None:
    settings = OrdersMigrationSettings.model_validate(
        {**MIGRATION, "ORDERS_POSTGRES_SERVICE_ROLE": "orders_app"}
    )
    assert settings.postgres_migration_url.get_secret_value() == OWNER_URL
    assert settings.postgres_service_role == "orders_app"
    assert "real-owner-secret" not in repr(settings)


def test_the_orders_service_never_holds_the_owners_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # The local stack's environment may still name it (one .env for every process): ignored.
    monkeypatch.setenv("ORDERS_POSTGRES_MIGRATION_URL", OWNER_URL)
    settings = OrdersSettings()

    assert "owner" not in " ".join(OrdersSettings.model_fields)
    assert "real-owner-secret" not in str(settings.model_dump(mode="json", round_trip=True))
    with pytest.raises(ValidationError, match="Extra inputs"):
        OrdersSettings.model_validate({"ORDERS_POSTGRES_MIGRATION_URL": OWNER_URL})


@pytest.mark.parametrize(
    ("settings_class", "values", "variable"),
    [
        (OrdersSettings, PRODUCTION, "ORDERS_POSTGRES_URL"),
        (OrdersMigrationSettings, MIGRATION, "ORDERS_POSTGRES_MIGRATION_URL"),
    ],
)
@pytest.mark.parametrize("password", [None, "dev-only-postgres-password", "dev-only-change-me"])
def test_production_refuses_a_postgres_url_with_a_development_password(
    settings_class: type[BaseSettings], values: dict[str, str], variable: str, password: str | None
) -> None:
    values = dict(values)
    if password is None:
        del values[variable]  # its default
    else:
        values[variable] = f"postgresql://someone:{password}@db:5432/orderhub_orders"
    with pytest.raises(ValidationError, match="development default"):
        settings_class.model_validate(values)
