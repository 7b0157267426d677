"""Orders reaches PostgreSQL as two roles, each with a URL of its own; production refuses either
while it still carries a development password (the one the docs printed included)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orders.settings import OrdersSettings

pytestmark = pytest.mark.unit

PRODUCTION = {
    "ORDERHUB_ENV": "production",
    "ORDERS_EXPORT_LINK_SECRET": "a-real-secret-from-the-vault-0123456789",
    "ORDERS_POSTGRES_URL": "postgresql://orderhub:real-service-secret@db:5432/orderhub_orders",
    "ORDERS_POSTGRES_MIGRATION_URL": (
        "postgresql://orderhub_owner:real-owner-secret@db:5432/orderhub_orders"
    ),
}


def test_production_takes_two_roles_with_real_passwords() -> None:
    settings = OrdersSettings.model_validate(PRODUCTION)
    assert "orderhub_owner" in settings.postgres_migration_url.get_secret_value()
    assert "real-owner-secret" not in repr(settings)


@pytest.mark.parametrize("variable", ["ORDERS_POSTGRES_URL", "ORDERS_POSTGRES_MIGRATION_URL"])
@pytest.mark.parametrize("password", [None, "dev-only-postgres-password", "dev-only-change-me"])
def test_production_refuses_a_postgres_url_with_a_development_password(
    variable: str, password: str | None
) -> None:
    values = dict(PRODUCTION)
    if password is None:
        del values[variable]  # its default
    else:
        values[variable] = f"postgresql://someone:{password}@db:5432/orderhub_orders"
    with pytest.raises(ValidationError, match="development default"):
        OrdersSettings.model_validate(values)
