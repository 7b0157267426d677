from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from auth.keys import generate_signing_key
from auth.schemas import UserUpdate
from auth.settings import AuthSettings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests describe the defaults, whatever the shell running them has exported."""
    for field in AuthSettings.model_fields.values():
        for alias in getattr(field.validation_alias, "choices", ()):
            monkeypatch.delenv(str(alias), raising=False)


def key_set() -> str:
    return json.dumps({"keys": [generate_signing_key("Ed25519", "k").as_dict(private=True)]})


def production(**values: Any) -> AuthSettings:
    # Kafka on a private network: its own production rule is tested in common.
    return AuthSettings(environment="production", kafka_allow_plaintext=True, **values)


def test_the_contract_defaults() -> None:
    settings = AuthSettings()

    assert settings.port == 8001
    assert settings.mongodb_database == "orderhub_auth"
    assert (settings.access_token_ttl_s, settings.refresh_token_ttl_s) == (900, 604_800)
    assert (settings.login_max_failures, settings.login_window_s) == (5, 900)


def test_production_refuses_to_run_without_a_signing_key() -> None:
    with pytest.raises(ValidationError, match="JWT_PRIVATE_KEYS must be set in production"):
        production()

    assert production(jwt_private_keys=key_set()).jwt_private_keys is not None


def test_production_refuses_the_development_passwords() -> None:
    with pytest.raises(ValidationError, match="development default"):
        production(
            jwt_private_keys=key_set(),
            bootstrap_admin_email="admin@example.com",
            bootstrap_admin_password="dev-only-admin-password",
        )


def test_unusable_signing_keys_are_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="not JSON"):
        AuthSettings(jwt_private_keys="-----BEGIN PRIVATE KEY-----")


def test_a_bootstrap_user_needs_both_email_and_password() -> None:
    with pytest.raises(ValidationError, match="BOOTSTRAP_VIEWER_PASSWORD"):
        AuthSettings(bootstrap_viewer_email="viewer@example.com")


@pytest.mark.parametrize("body", [{}, {"role": None}, {"active": None}])
def test_a_user_update_must_change_something(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        UserUpdate.model_validate(body)
