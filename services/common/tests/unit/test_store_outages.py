"""One rule for every service: a store that does not answer is 503 with Retry-After, not 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter
from pymongo.errors import AutoReconnect, OperationFailure, ServerSelectionTimeoutError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from orderhub_common.app import create_service_app
from orderhub_common.errors import STORE_OUTAGE_RETRY_AFTER_S, is_store_outage, store_out_of_space
from orderhub_common.settings import ServiceSettings

pytestmark = pytest.mark.unit


def lost_postgres_connection() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionResetError(), connection_invalidated=True)


OUTAGES: dict[str, Exception] = {
    "mongodb-server-selection": ServerSelectionTimeoutError("no primary"),
    "mongodb-reconnect": AutoReconnect("connection closed"),
    "redis-connection": RedisConnectionError("Connection refused"),
    "redis-timeout": RedisTimeoutError("Timeout reading from socket"),
    "postgres-refused": ConnectionRefusedError(111, "Connect call failed"),
    "postgres-lost": lost_postgres_connection(),
    "postgres-pool": PoolTimeoutError("QueuePool limit reached"),
}
NOT_OUTAGES: dict[str, Exception] = {
    "redis-wrong-type": ResponseError("WRONGTYPE"),
    "postgres-constraint": IntegrityError("INSERT", {}, Exception("duplicate key")),
}


def client_raising(exc: Exception) -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/fail")
    async def fail() -> None:
        raise exc

    app = create_service_app(
        settings=ServiceSettings(environment="test"), title="probe", routers=[router]
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://probe")


@pytest.mark.parametrize("outage", OUTAGES.values(), ids=OUTAGES.keys())
async def test_a_store_outage_is_503_with_retry_after(outage: Exception) -> None:
    async with client_raising(outage) as client:
        response = await client.get("/fail", headers={"X-Request-ID": "outage-1"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(STORE_OUTAGE_RETRY_AFTER_S)
    error = response.json()["error"]
    assert (error["code"], error["requestId"]) == ("service_unavailable", "outage-1")
    assert is_store_outage(outage)


@pytest.mark.parametrize("failure", NOT_OUTAGES.values(), ids=NOT_OUTAGES.keys())
async def test_other_store_errors_stay_500(failure: Exception) -> None:
    async with client_raising(failure) as client:
        response = await client.get("/fail")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert not is_store_outage(failure)


@pytest.mark.parametrize(
    ("error", "out_of_space"),
    [
        (
            OperationFailure("[db.go:167 fsql.(*DB).InTransaction] database or disk is full", 1),
            True,
        ),
        (OperationFailure("Commit failed: No space left on device", 8), True),
        (OperationFailure("OutOfDiskSpace", 14031), True),
        (OperationFailure("E11000 duplicate key error", 11000), False),
        (OperationFailure("unknown operator: $foo", 2), False),
    ],
)
def test_only_a_full_disk_makes_a_refused_write_a_store_outage(
    error: OperationFailure, out_of_space: bool
) -> None:
    assert store_out_of_space(error) is out_of_space
    assert is_store_outage(error) is out_of_space


async def test_a_write_refused_for_a_full_disk_is_a_503_saying_so() -> None:
    router = APIRouter()

    @router.get("/full")
    async def full() -> None:
        raise OperationFailure("database or disk is full (13)", 1)

    app = create_service_app(settings=ServiceSettings(), title="t", routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/full")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "disk space" in response.json()["error"]["message"]
    assert response.headers["Retry-After"] == str(STORE_OUTAGE_RETRY_AFTER_S)
