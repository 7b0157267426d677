"""The Shopify Admin client: the webhook signature, the token's refusal, pacing to the cost
bucket's throttle status, and THROTTLED answered by waiting and asking again the same call."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from orderhub_common.events import OrderStatus
from orderhub_common.shopify import (
    ShopifyAdminClient,
    ShopifyError,
    order_status,
    signature_matches,
    webhook_signature,
)

pytestmark = pytest.mark.unit


def test_the_webhook_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":820982911946154508,"email":"jon@example.com"}'
    expected = base64.b64encode(hmac.new(b"hush", body, hashlib.sha256).digest()).decode()

    assert webhook_signature(b"hush", body) == expected
    assert signature_matches(b"hush", body, expected)
    assert not signature_matches(b"hush", body + b" ", expected)
    assert not signature_matches(b"other", body, expected)
    assert not signature_matches(b"hush", body, None)
    assert not signature_matches(b"hush", body, "")


def answer(
    data: Any = None,
    *,
    available: float = 1000,
    requested: int = 10,
    throttled: bool = False,
) -> dict[str, Any]:
    cost = {
        "requestedQueryCost": requested,
        "actualQueryCost": None if throttled else requested,
        "throttleStatus": {
            "maximumAvailable": 1000.0,
            "currentlyAvailable": available,
            "restoreRate": 50.0,
        },
    }
    body: dict[str, Any] = {"extensions": {"cost": cost}}
    if throttled:
        body["errors"] = [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]
    else:
        body["data"] = data
    return body


class Shop:
    """Answers in turn; notes each request's token and variables, and each wait."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.waits: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(
            {
                "token": request.headers.get("X-Shopify-Access-Token"),
                "path": request.url.path,
                **json.loads(request.content),
            }
        )
        return self.answers.pop(0)

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def client(self) -> ShopifyAdminClient:
        http = httpx.AsyncClient(
            transport=httpx.MockTransport(self.handler), base_url="https://shop.example"
        )
        return ShopifyAdminClient(
            http,
            api_version="2025-10",
            token=SecretStr("shpat_x"),
            sleep=self.sleep,
            clock=lambda: 0.0,
        )


async def test_a_throttled_call_waits_for_the_points_and_asks_again_with_the_same_cursor() -> None:
    shop = Shop(
        httpx.Response(200, json=answer(available=100, requested=500, throttled=True)),
        httpx.Response(200, json=answer({"orders": []}, available=500, requested=500)),
    )

    data = await shop.client().execute("query Q { orders }", {"after": "cursor-7"})

    assert data == {"orders": []}
    assert shop.waits == [pytest.approx(8.0)], "the 400 missing points at 50 a second"
    assert [r["variables"] for r in shop.requests] == [{"after": "cursor-7"}] * 2
    assert {r["token"] for r in shop.requests} == {"shpat_x"}
    assert {r["path"] for r in shop.requests} == {"/admin/api/2025-10/graphql.json"}


async def test_the_next_call_waits_until_the_bucket_holds_what_it_will_ask() -> None:
    shop = Shop(
        httpx.Response(200, json=answer({}, available=150, requested=300)),
        httpx.Response(200, json=answer({}, available=0, requested=300)),
    )
    client = shop.client()

    await client.execute("query Q { a }")
    assert shop.waits == [], "the first call knows nothing of the bucket yet"
    await client.execute("query Q { a }")
    assert shop.waits == [pytest.approx(3.0)], "150 points short, at 50 a second"


async def test_a_bucket_that_never_refills_ends_in_a_retryable_throttled_error() -> None:
    shop = Shop(*[httpx.Response(200, json=answer(available=0, throttled=True))] * 6)

    with pytest.raises(ShopifyError) as failed:
        await shop.client().execute("query Q { a }")

    assert failed.value.retryable
    assert failed.value.reason.startswith("throttled")


@pytest.mark.parametrize(
    ("response", "retryable", "words"),
    [
        (httpx.Response(401, json={"errors": "[API] Invalid API key"}), False, "access token"),
        (httpx.Response(503), True, "answered 503"),
        (
            httpx.Response(200, json={"errors": [{"message": "Field 'x' doesn't exist"}]}),
            False,
            "x",
        ),
        (httpx.Response(200, text="<html>"), False, "unreadable"),
    ],
)
async def test_failures_say_whether_asking_again_may_help(
    response: httpx.Response, retryable: bool, words: str
) -> None:
    with pytest.raises(ShopifyError) as failed:
        await Shop(response).client().execute("query Q { a }")

    assert failed.value.retryable is retryable
    assert words in failed.value.reason


@pytest.mark.parametrize(
    ("order", "status"),
    [
        (
            {"displayFinancialStatus": "PENDING", "displayFulfillmentStatus": "UNFULFILLED"},
            "PLACED",
        ),
        ({"displayFinancialStatus": "AUTHORIZED"}, "CONFIRMED"),
        (
            {
                "displayFulfillmentStatus": "FULFILLED",
                "fulfillments": [{"displayStatus": "IN_TRANSIT"}],
            },
            "SHIPPED",
        ),
        (
            {
                "displayFulfillmentStatus": "FULFILLED",
                "fulfillments": [{"displayStatus": "DELIVERED"}],
            },
            "DELIVERED",
        ),
        (
            {"displayFulfillmentStatus": "FULFILLED", "returns": {"nodes": [{"status": "CLOSED"}]}},
            "RETURNED",
        ),
        ({"displayFinancialStatus": "PAID", "cancelledAt": "2026-11-02T10:00:00Z"}, "CANCELLED"),
    ],
)
def test_an_orders_status_is_read_from_shopifys_several_fields(
    order: dict[str, Any], status: str
) -> None:
    assert order_status(order) == OrderStatus(status)
