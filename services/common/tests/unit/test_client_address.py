"""The client's address every service sees: one setting (FORWARDED_ALLOW_IPS), one resolver."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Request

from orderhub_common.app import create_service_app
from orderhub_common.settings import ServiceSettings

pytestmark = pytest.mark.unit

GATEWAY = "127.0.0.1,10.0.0.0/8"


def client_from(peer: str, trusted: str = GATEWAY) -> httpx.AsyncClient:
    """A client calling from ``peer`` a service that trusts ``trusted``."""
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(request: Request) -> dict[str, str | None]:
        return {"client": request.client.host if request.client else None}

    settings = ServiceSettings(environment="test", forwarded_allow_ips=trusted)
    app = create_service_app(settings=settings, title="probe", routers=[router])
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://probe")


async def client_address(peer: str, forwarded_for: str | None, trusted: str = GATEWAY) -> str:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    async with client_from(peer, trusted) as client:
        address: str = (await client.get("/whoami", headers=headers)).json()["client"]
    return address


async def test_a_direct_caller_is_the_peer_whatever_it_claims() -> None:
    assert await client_address("203.0.113.5", "198.51.100.1") == "203.0.113.5"


async def test_behind_the_gateway_the_forwarded_client_counts() -> None:
    assert await client_address("127.0.0.1", "198.51.100.1") == "198.51.100.1"


async def test_a_client_cannot_pick_its_address_by_sending_its_own_header() -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4"; the gateway appended the address it saw.
    assert await client_address("127.0.0.1", "1.2.3.4, 198.51.100.1") == "198.51.100.1"


async def test_trusted_hops_are_skipped() -> None:
    assert await client_address("127.0.0.1", "198.51.100.1, 10.1.2.3") == "198.51.100.1"


async def test_without_a_header_the_peer_counts() -> None:
    assert await client_address("127.0.0.1", None) == "127.0.0.1"


async def test_an_empty_setting_trusts_no_proxy() -> None:
    assert await client_address("127.0.0.1", "198.51.100.1", trusted="") == "127.0.0.1"


def test_the_setting_is_a_comma_separated_list_of_addresses_and_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", " 10.0.0.0/8, 192.168.1.7 ,::1")
    assert ServiceSettings().forwarded_allow_ips == "10.0.0.0/8,192.168.1.7,::1"
    # Unset, no proxy is trusted: the local stack and compose name the gateway's address.
    assert ServiceSettings.model_fields["forwarded_allow_ips"].default == ""


@pytest.mark.parametrize("typo", ["gateway", "10.0.0.0/33", "127.0.0.1;10.0.0.1"])
def test_a_typo_in_the_setting_is_refused_instead_of_trusting_nobody(typo: str) -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        ServiceSettings(forwarded_allow_ips=typo)


@pytest.mark.parametrize(
    "not_an_address",
    ["<img src=x onerror=alert(1)>", "gateway.internal", "1.2.3.4.5", "198.51.100.1, unknown"],
)
async def test_a_trusted_proxys_hop_that_is_no_address_is_refused_never_used(
    not_an_address: str,
) -> None:
    async with client_from("127.0.0.1") as client:
        answer = await client.get("/whoami", headers={"X-Forwarded-For": not_an_address})

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_forwarded_for"
    assert not_an_address.split(",")[-1].strip() not in answer.text


async def test_an_untrusted_callers_header_is_ignored_whatever_it_holds() -> None:
    assert await client_address("203.0.113.5", "<img src=x onerror=alert(1)>") == "203.0.113.5"


async def test_a_forwarded_address_is_kept_in_its_one_spelling() -> None:
    # One client, one throttle key: "2001:DB8::0001" and "2001:db8::1" are the same address.
    assert await client_address("127.0.0.1", "2001:DB8::0001") == "2001:db8::1"
