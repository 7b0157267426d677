"""The Amazon simulator speaks Amazon's Selling Partner API: every answer valid against Amazon's
own model, Login with Amazon, restricted data, usage plans, write-backs, the static sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from mock_channels.amazon_sp.model import ORDERS_MODEL, TOKENS_MODEL, load, operations
from mock_channels.main import create_app
from mock_channels.settings import MockChannelsSettings
from orderhub_common.amazon_sp_api import (
    SIMULATOR_CLIENT_ID,
    SIMULATOR_CLIENT_SECRET,
    SIMULATOR_REFRESH_TOKEN,
    USAGE_PLANS,
)

pytestmark = pytest.mark.unit

SHARED_SCHEMAS = Path(__file__).resolve().parents[5] / "shared" / "schemas"
ORDERS = "/amazon/orders/v0/orders"
SANDBOX = "/amazon/sandbox"
IN = "A21TJRUUN4KGV"
SIGN_IN = {
    "grant_type": "refresh_token",
    "refresh_token": SIMULATOR_REFRESH_TOKEN,
    "client_id": SIMULATOR_CLIENT_ID,
    "client_secret": SIMULATOR_CLIENT_SECRET,
}


def schema_errors(model: str, definition: str | None, answer: httpx.Response) -> list[str]:
    """What is wrong with an answer by the model's definition (an empty body needs none)."""
    if definition is None:
        return [] if not answer.content else [f"unexpected body {answer.text[:80]}"]
    schema = {"$ref": f"#/definitions/{definition}", "definitions": load(model)["definitions"]}
    validator = jsonschema.Draft4Validator(schema)
    return [
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(answer.json())
    ]


def definition_of(model: str, operation_id: str, status: int) -> str | None:
    _, _, operation = operations(model)[operation_id]
    schema = operation["responses"][str(status)].get("schema")
    return None if schema is None else str(schema["$ref"]).rsplit("/", 1)[-1]


class Checked:
    """A client whose every SP-API answer is checked against the model as it arrives."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.checked: set[tuple[str, int]] = set()

    async def call(
        self, operation_id: str, method: str, path: str, model: str = ORDERS_MODEL, **kwargs: Any
    ) -> httpx.Response:
        answer = await self.client.request(method, path, **kwargs)
        definition = definition_of(model, operation_id, answer.status_code)
        assert schema_errors(model, definition, answer) == [], (operation_id, answer.text)
        self.checked.add((operation_id, answer.status_code))
        return answer


async def signed_in(client: httpx.AsyncClient) -> str:
    answer = await client.post("/amazon/auth/o2/token", data=SIGN_IN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "bearer"
    token: str = answer.json()["access_token"]
    return token


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = MockChannelsSettings(seed_orders=0, control_api=True, amazon_items_per_page=1)
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        yield client


async def new_orders(client: httpx.AsyncClient, count: int) -> list[str]:
    created: list[str] = (
        await client.post("/_control/amazon/orders", json={"count": count})
    ).json()["created"]
    return created


def test_the_vendored_models_are_amazons_own() -> None:
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip("../shared/schemas is not beside this checkout")
    for model in (ORDERS_MODEL, TOKENS_MODEL):
        assert load(model) == json.loads((SHARED_SCHEMAS / model).read_text())


def test_the_usage_plans_are_the_models() -> None:
    for model in (ORDERS_MODEL, TOKENS_MODEL):
        for operation_id, (_, _, operation) in operations(model).items():
            table = operation["description"].split("| Rate (requests per second) | Burst |")[1]
            rate, burst = (cell.strip() for cell in table.split("\n")[2].strip("| ").split("|"))
            plan = USAGE_PLANS[operation_id]
            assert (plan.rate, plan.burst) == (float(rate), int(burst)), operation_id


async def test_every_operation_answers_by_amazons_model(client: httpx.AsyncClient) -> None:
    sp = Checked(client)
    [first, second] = await new_orders(client, 2)
    headers = {"x-amz-access-token": await signed_in(client)}
    since = {"MarketplaceIds": IN, "LastUpdatedAfter": "2020-01-01T00:00:00Z"}

    page = await sp.call(
        "getOrders", "GET", ORDERS, params=since | {"MaxResultsPerPage": 1}, headers=headers
    )
    assert page.status_code == 200
    assert page.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert page.headers["x-amzn-RequestId"]
    token = page.json()["payload"]["NextToken"]
    rest = await sp.call(
        "getOrders",
        "GET",
        ORDERS,
        params={"MarketplaceIds": IN, "NextToken": token},
        headers=headers,
    )
    listed = page.json()["payload"]["Orders"] + rest.json()["payload"]["Orders"]
    assert [o["AmazonOrderId"] for o in listed] == [first, second]
    assert "NextToken" not in rest.json()["payload"]
    assert "OrderItems" not in listed[0], "items come from getOrderItems, as on Amazon"
    assert set(listed[0]["ShippingAddress"]) == {
        "City",
        "StateOrRegion",
        "PostalCode",
        "CountryCode",
    }
    assert listed[0]["BuyerInfo"] == {}, "no buyer details without a restricted data token"

    assert (
        await sp.call("getOrders", "GET", ORDERS, params={"MarketplaceIds": IN}, headers=headers)
    ).status_code == 400
    assert (
        await sp.call("getOrder", "GET", f"{ORDERS}/{first}", headers=headers)
    ).status_code == 200
    assert (
        await sp.call("getOrder", "GET", f"{ORDERS}/402-0000000-0000000", headers=headers)
    ).status_code == 404

    items: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    while True:  # one item a page here (MOCK_AMAZON_ITEMS_PER_PAGE=1)
        answer = await sp.call(
            "getOrderItems", "GET", f"{ORDERS}/{first}/orderItems", params=params, headers=headers
        )
        assert answer.status_code == 200
        items += answer.json()["payload"]["OrderItems"]
        if "NextToken" not in answer.json()["payload"]:
            break
        params = {"NextToken": answer.json()["payload"]["NextToken"]}
    native = (await client.get(f"/_control/amazon/orders/{first}")).json()
    assert items == native["OrderItems"]

    plain = await sp.call("getOrderAddress", "GET", f"{ORDERS}/{first}/address", headers=headers)
    assert "AddressLine1" not in plain.json()["payload"]["ShippingAddress"], "no RDT, no PII"
    rdt_answer = await sp.call(
        "createRestrictedDataToken",
        "POST",
        "/amazon/tokens/2021-03-01/restrictedDataToken",
        model=TOKENS_MODEL,
        json={
            "restrictedResources": [
                {
                    "method": "GET",
                    "path": "/orders/v0/orders",
                    "dataElements": ["buyerInfo", "shippingAddress"],
                },
                {"method": "GET", "path": "/orders/v0/orders/{orderId}/address"},
                {"method": "GET", "path": "/orders/v0/orders/{orderId}/buyerInfo"},
            ]
        },
        headers=headers,
    )
    assert rdt_answer.status_code == 200
    rdt = {"x-amz-access-token": rdt_answer.json()["restrictedDataToken"]}
    full = await sp.call("getOrders", "GET", ORDERS, params=since, headers=rdt)
    assert full.json()["payload"]["Orders"][0]["BuyerInfo"]["BuyerName"]
    assert full.json()["payload"]["Orders"][0]["ShippingAddress"]["Phone"].startswith("+91")
    address = await sp.call("getOrderAddress", "GET", f"{ORDERS}/{first}/address", headers=rdt)
    assert address.json()["payload"]["ShippingAddress"]["AddressLine1"]
    buyer = await sp.call("getOrderBuyerInfo", "GET", f"{ORDERS}/{first}/buyerInfo", headers=rdt)
    assert buyer.json()["payload"]["BuyerEmail"].endswith("@marketplace.amazon.in")
    refused_rdt = await sp.call(
        "getOrder", "GET", f"{ORDERS}/{first}/orderItems/buyerInfo", headers=rdt
    )
    assert refused_rdt.status_code in (403, 404)
    bad_rdt = await sp.call(
        "createRestrictedDataToken",
        "POST",
        "/amazon/tokens/2021-03-01/restrictedDataToken",
        model=TOKENS_MODEL,
        json={"restrictedResources": [{"method": "GET", "path": "/catalog/items"}]},
        headers=headers,
    )
    assert bad_rdt.status_code == 400

    ready = {"marketplaceId": IN, "shipmentStatus": "ReadyForPickup"}
    for _ in range(2):  # a repeat is the same change
        accepted = await sp.call(
            "updateShipmentStatus",
            "POST",
            f"{ORDERS}/{first}/shipment",
            json=ready,
            headers=headers,
        )
        assert accepted.status_code == 204
    native = (await client.get(f"/_control/amazon/orders/{first}")).json()
    assert (native["OrderStatus"], native["EasyShipShipmentStatus"]) == (
        "Unshipped",
        "PendingPickUp",
    )
    assert len((await client.get(f"/_control/amazon/orders/{first}/write-backs")).json()) == 1
    wrong = ready | {"shipmentStatus": "Delivered"}
    refused = await sp.call(
        "updateShipmentStatus", "POST", f"{ORDERS}/{first}/shipment", json=wrong, headers=headers
    )
    assert refused.status_code == 400

    package = {
        "packageReferenceId": "1",
        "carrierCode": "Other",
        "carrierName": "Blue Dart",
        "trackingNumber": "BD123",
        "shipDate": "2026-12-06T08:00:00Z",
        "orderItems": [
            {"orderItemId": i["OrderItemId"], "quantity": i["QuantityOrdered"]} for i in items
        ],
    }
    shipped = await sp.call(
        "confirmShipment",
        "POST",
        f"{ORDERS}/{first}/shipmentConfirmation",
        json={"marketplaceId": IN, "packageDetail": package},
        headers=headers,
    )
    assert shipped.status_code == 204
    native = (await client.get(f"/_control/amazon/orders/{first}")).json()
    assert native["EasyShipPackage"] == {"CarrierName": "Blue Dart", "TrackingId": "BD123"}
    foreign = package | {"orderItems": [{"orderItemId": "nope", "quantity": 1}]}
    not_its_items = await sp.call(
        "confirmShipment",
        "POST",
        f"{ORDERS}/{second}/shipmentConfirmation",
        json={"marketplaceId": IN, "packageDetail": foreign},
        headers=headers,
    )
    assert not_its_items.status_code == 400

    await client.put("/_control/amazon/faults", json={"down": True})
    down = await sp.call("getOrders", "GET", ORDERS, params=since, headers=headers)
    assert down.status_code == 503

    served = {operation for operation, _ in sp.checked}
    assert served == {
        "getOrders",
        "getOrder",
        "getOrderItems",
        "getOrderAddress",
        "getOrderBuyerInfo",
        "createRestrictedDataToken",
        "updateShipmentStatus",
        "confirmShipment",
    }


async def test_sign_in_refuses_wrong_credentials_and_calls_need_a_live_token(
    client: httpx.AsyncClient,
) -> None:
    wrong_grant = await client.post(
        "/amazon/auth/o2/token", data=SIGN_IN | {"refresh_token": "Atzr|x"}
    )
    assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (400, "invalid_grant")
    wrong_client = await client.post("/amazon/auth/o2/token", data=SIGN_IN | {"client_secret": "x"})
    assert (wrong_client.status_code, wrong_client.json()["error"]) == (401, "invalid_client")

    params = {"MarketplaceIds": IN, "LastUpdatedAfter": "2020-01-01T00:00:00Z"}
    anonymous = await client.get(ORDERS, params=params)
    assert anonymous.status_code == 403
    assert anonymous.json()["errors"][0]["code"] == "Unauthorized"

    headers = {"x-amz-access-token": await signed_in(client)}
    assert (await client.get(ORDERS, params=params, headers=headers)).status_code == 200
    await client.post("/_control/amazon/sign-in/expire")
    expired = await client.get(ORDERS, params=params, headers=headers)
    assert expired.status_code == 403
    assert "expired" in expired.json()["errors"][0]["details"]


async def test_each_operation_has_its_own_token_bucket(client: httpx.AsyncClient) -> None:
    headers = {"x-amz-access-token": await signed_in(client)}
    params = {"MarketplaceIds": IN, "LastUpdatedAfter": "2020-01-01T00:00:00Z"}
    statuses = [
        (await client.get(ORDERS, params=params, headers=headers)).status_code for _ in range(21)
    ]
    assert statuses == [200] * 20 + [429], "getOrders: a burst of 20, then one a minute"
    throttled = await client.get(ORDERS, params=params, headers=headers)
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    [order] = await new_orders(client, 1)
    items = await client.get(f"{ORDERS}/{order}/orderItems", headers=headers)
    assert items.status_code == 200, "getOrderItems is paced on its own"


def sandbox_cases() -> list[tuple[str, str, str, int, dict[str, Any], Any, str]]:
    cases = []
    for model in (ORDERS_MODEL, TOKENS_MODEL):
        for operation_id, (method, path, operation) in operations(model).items():
            for status, response in operation["responses"].items():
                for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
                    parameters = {k: v["value"] for k, v in case["request"]["parameters"].items()}
                    cases.append(
                        (
                            model,
                            operation_id,
                            method,
                            int(status),
                            parameters,
                            case.get("response"),
                            path,
                        )
                    )
    return cases


async def test_the_sandbox_answers_every_static_case_exactly(client: httpx.AsyncClient) -> None:
    headers = {"x-amz-access-token": await signed_in(client)}
    cases = sandbox_cases()
    assert sum(case[0] == ORDERS_MODEL for case in cases) == 31, "the Orders API's 31 cases"
    for model, operation_id, method, status, parameters, response, template in cases:
        path, query, body = template, {}, None
        for name, value in parameters.items():
            if "{" + name + "}" in path:
                path = path.replace("{" + name + "}", value)
            elif name == "body":
                body = value
            else:
                query[name] = ",".join(value) if isinstance(value, list) else value
        answer = await client.request(
            method, SANDBOX + path, params=query, json=body, headers=headers
        )
        assert answer.status_code == status, (operation_id, parameters, answer.text)
        expected = None if status == 204 else response  # a 204 has no body, the model says {}
        assert (answer.json() if answer.content else None) == expected, operation_id
        assert schema_errors(model, definition_of(model, operation_id, status), answer) == []

    unmatched = await client.get(
        f"{SANDBOX}/orders/v0/orders", params={"CreatedAfter": "x"}, headers=headers
    )
    assert (unmatched.status_code, unmatched.json()["errors"][0]["message"]) == (
        400,
        "Could not match input arguments",
    )
    assert (await client.get(f"{SANDBOX}/orders/v0/orders/TEST_CASE_200")).status_code == 403


async def test_get_orders_lists_by_creation_with_created_after(client: httpx.AsyncClient) -> None:
    day_ago = datetime.now(UTC) - timedelta(days=1)
    window = {
        "placedFrom": (day_ago - timedelta(days=7)).isoformat(),
        "placedTo": day_ago.isoformat(),
    }
    await client.post("/_control/amazon/orders", json={"count": 2, **window})
    [new] = await new_orders(client, 1)
    headers = {"x-amz-access-token": await signed_in(client)}
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    created = await client.get(
        ORDERS, params={"MarketplaceIds": IN, "CreatedAfter": hour_ago}, headers=headers
    )
    both = await client.get(
        ORDERS,
        params={"MarketplaceIds": IN, "CreatedAfter": hour_ago, "LastUpdatedAfter": hour_ago},
        headers=headers,
    )

    assert [o["AmazonOrderId"] for o in created.json()["payload"]["Orders"]] == [new]
    assert both.status_code == 400
    assert schema_errors(ORDERS_MODEL, definition_of(ORDERS_MODEL, "getOrders", 200), created) == []
