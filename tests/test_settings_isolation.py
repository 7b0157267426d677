"""Each service reads only its own variables (issue 21, findings 2 and 14).

Every service's environment holds the variables of all of them (``.env``, compose's
``env_file``): a service's field must read its own variable and nothing else. Before, pydantic's
``populate_by_name`` also read a field from the variable its field name spells, so the gateway's
``forwarded_allow_ips`` took the services' ``FORWARDED_ALLOW_IPS`` (it trusted every private
address) and each service's ``rate_limit_per_ip_per_min`` took the gateway's
``RATE_LIMIT_PER_IP_PER_MIN``.
"""

from __future__ import annotations

import pytest
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from auth.settings import AuthSettings
from gateway.settings import GatewaySettings
from ingest.settings import IngestSettings
from mock_channels.settings import MockChannelsSettings
from orders.settings import OrdersSettings

pytestmark = pytest.mark.unit

SETTINGS: dict[str, type[BaseSettings]] = {
    "auth": AuthSettings,
    "orders": OrdersSettings,
    "ingest": IngestSettings,
    "gateway": GatewaySettings,
    "mock_channels": MockChannelsSettings,
}
# Not one service's default: a variable read by mistake changes the value or fails validation.
FOREIGN_VALUE = "7"


def variables(settings_class: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (its fields' aliases)."""
    names = set()
    for field in settings_class.model_fields.values():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices), "every field names its variable with env()"
        names.update(str(choice) for choice in alias.choices)
    return names


def loaded(settings_class: type[BaseSettings]) -> dict[str, object]:
    return settings_class().model_dump()


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for settings_class in SETTINGS.values():
        for name in variables(settings_class) | set(settings_class.model_fields):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.parametrize("service", SETTINGS)
def test_no_other_services_variable_changes_a_services_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment(monkeypatch)
    settings_class = SETTINGS[service]
    before = loaded(settings_class)
    foreign = set().union(*(variables(other) for other in SETTINGS.values())) - variables(
        settings_class
    )
    assert foreign, "the other services have variables of their own"
    for name in foreign:
        monkeypatch.setenv(name, FOREIGN_VALUE)

    assert loaded(settings_class) == before


@pytest.mark.parametrize("service", SETTINGS)
def test_a_field_is_read_from_its_own_variable_and_never_from_its_field_name(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment(monkeypatch)
    settings_class = SETTINGS[service]
    before = loaded(settings_class)
    own = {name.lower() for name in variables(settings_class)}
    spelled_by_field_names = [name for name in settings_class.model_fields if name not in own]
    for name in spelled_by_field_names:
        monkeypatch.setenv(name.upper(), FOREIGN_VALUE)

    assert loaded(settings_class) == before


def test_the_gateway_trusts_no_proxy_the_services_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    # What .env, compose and the local stack give every process.
    clean_environment(monkeypatch)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16")

    assert GatewaySettings().forwarded_allow_ips == ""
    assert AuthSettings().forwarded_allow_ips == "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
    monkeypatch.setenv("GATEWAY_FORWARDED_ALLOW_IPS", "192.0.2.10")
    assert GatewaySettings().forwarded_allow_ips == "192.0.2.10"


def test_the_gateways_rate_limit_is_the_gateways_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)
    monkeypatch.setenv("RATE_LIMIT_PER_IP_PER_MIN", "3")

    assert GatewaySettings().rate_limit_per_ip_per_min == 3
    limits = {name: cls().rate_limit_per_ip_per_min for name, cls in SETTINGS.items()}  # type: ignore[attr-defined]
    assert limits == {
        "auth": 600,
        "orders": 1200,
        "ingest": 600,
        "gateway": 3,
        "mock_channels": 60000,
    }


def test_code_may_still_set_a_field_by_its_name_and_unknown_names_are_refused() -> None:
    assert MockChannelsSettings(rate_limit_per_ip_per_min=5).rate_limit_per_ip_per_min == 5
    assert GatewaySettings(forwarded_allow_ips="127.0.0.1").forwarded_allow_ips == "127.0.0.1"
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        MockChannelsSettings(not_a_setting=1)  # type: ignore[call-arg]
