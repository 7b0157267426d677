"""What every service inherits: settings validation, the error model, request ids, health."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Query
from faststream.kafka.security import parse_security
from pydantic import Field, SecretStr

from orderhub_common.app import create_service_app
from orderhub_common.errors import NotFoundError
from orderhub_common.settings import KafkaSettings, ServiceSettings, env, load_settings

pytestmark = pytest.mark.unit


class DemoSettings(ServiceSettings):
    port: int = Field(8999, ge=1, le=65535, validation_alias=env("DEMO_PORT"))
    api_secret: SecretStr = Field(
        SecretStr("dev-only-change-me"), validation_alias=env("DEMO_SECRET")
    )


class ThingNotFoundError(NotFoundError):
    code = "thing_not_found"


def demo_app() -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def read_thing(thing_id: str, limit: int = Query(10, ge=1, le=100)) -> dict[str, str]:
        if thing_id == "boom":
            raise RuntimeError("database password is hunter2")
        raise ThingNotFoundError(f"thing {thing_id} does not exist")

    app = create_service_app(
        settings=DemoSettings(environment="test"), title="demo", routers=[router]
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://demo"
    )


def test_a_bad_setting_stops_the_service_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEMO_PORT", "not-a-port")
    with pytest.raises(SystemExit) as stopped:
        load_settings(DemoSettings)
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "DEMO_PORT" in lines[0]


def test_production_refuses_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERHUB_ENV", "production")
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)
    monkeypatch.setenv("DEMO_SECRET", "a-real-secret-from-the-vault")
    assert load_settings(DemoSettings).environment == "production"


def test_settings_refuse_unknown_fields() -> None:
    with pytest.raises(ValueError, match="Extra inputs"):
        DemoSettings(not_a_setting=1)  # type: ignore[call-arg]


async def test_domain_errors_render_as_the_contract_error_with_the_request_id() -> None:
    async with demo_app() as client:
        response = await client.get("/things/ring-9", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "req-42"
    assert response.json() == {
        "error": {
            "code": "thing_not_found",
            "message": "thing ring-9 does not exist",
            "requestId": "req-42",
        }
    }


async def test_invalid_parameters_are_422_naming_the_field() -> None:
    async with demo_app() as client:
        response = await client.get("/things/x", params={"limit": "1000"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "limit" in error["message"]
    assert error["details"][0]["field"] == "limit"


async def test_unexpected_errors_are_json_500_without_internals() -> None:
    async with demo_app() as client:
        response = await client.get("/things/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.json()["error"]["requestId"] == "req-500"
    assert response.headers["X-Request-ID"] == "req-500"
    assert "hunter2" not in response.text


async def test_every_response_gets_a_request_id_and_unsafe_ones_are_replaced() -> None:
    async with demo_app() as client:
        generated = await client.get("/healthz")
        unsafe = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert len(generated.headers["X-Request-ID"]) == 36
    assert unsafe.headers["X-Request-ID"] != "bad id\nwith newline"


async def test_unknown_routes_answer_json_404() -> None:
    async with demo_app() as client:
        response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_metrics_are_exposed_for_prometheus() -> None:
    async with demo_app() as client:
        await client.get("/things/a")
        metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "http_requests_total" in metrics.text


def test_kafka_credentials_are_all_or_none_and_reach_the_clients() -> None:
    assert KafkaSettings().kafka_security() is None
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME"):
        KafkaSettings(KAFKA_SASL_MECHANISM="PLAIN")
    security = KafkaSettings(
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="orderhub",
        KAFKA_SASL_PASSWORD="s3cret",
    ).kafka_security()
    assert security is not None
    assert parse_security(security) | {"ssl_context": None} == {
        "security_protocol": "SASL_PLAINTEXT",
        "ssl_context": None,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "orderhub",
        "sasl_plain_password": "s3cret",
    }
