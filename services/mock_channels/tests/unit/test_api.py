from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mock_channels.page_tokens import decode_page_token, encode_page_token
from mock_channels.store import FeedOrder, FeedPosition

pytestmark = pytest.mark.unit

AMAZON_FEED = "/amazon/orders/v0/orders"
BLINKIT_FEED = "/blinkit/v1/orders"


async def create(client: httpx.AsyncClient, channel: str, count: int) -> list[str]:
    response = await client.post(f"/_control/{channel}/orders", json={"count": count})
    assert response.status_code == 200
    created: list[str] = response.json()["created"]
    return created


async def test_created_orders_are_placed_in_each_channels_own_words(
    client: httpx.AsyncClient,
) -> None:
    [website_id] = await create(client, "website", 1)
    [amazon_id] = await create(client, "amazon", 1)
    [blinkit_id] = await create(client, "blinkit", 1)

    website = (await client.get(f"/_control/website/orders/{website_id}")).json()
    amazon = (await client.get(f"/_control/amazon/orders/{amazon_id}")).json()
    blinkit = (await client.get(f"/_control/blinkit/orders/{blinkit_id}")).json()

    assert (website["financial_status"], website["fulfillment_status"]) == ("pending", None)
    assert website["name"].startswith("#")
    assert amazon["OrderStatus"] == "Pending"
    assert amazon["AmazonOrderId"].count("-") == 2
    assert amazon["OrderTotal"]["CurrencyCode"] == "INR"
    assert blinkit["status"] == "created"
    assert isinstance(blinkit["updated_at_ms"], int)


async def test_status_moves_render_natively(client: httpx.AsyncClient) -> None:
    [amazon_id] = await create(client, "amazon", 1)
    response = await client.post(
        f"/_control/amazon/orders/{amazon_id}/status", json={"status": "DELIVERED"}
    )
    assert response.status_code == 200
    assert response.json()["OrderStatus"] == "Shipped"
    assert response.json()["EasyShipShipmentStatus"] == "Delivered"

    [website_id] = await create(client, "website", 1)
    await client.post(f"/_control/website/orders/{website_id}/status", json={"status": "CANCELLED"})
    website = (await client.get(f"/_control/website/orders/{website_id}")).json()
    assert website["cancelled_at"] is not None
    assert website["financial_status"] == "voided"


async def test_created_orders_can_be_backdated_in_every_native_format(
    client: httpx.AsyncClient,
) -> None:
    window = {"placedFrom": "2026-10-01T00:00:00Z", "placedTo": "2026-10-01T06:00:00Z"}
    placed: dict[str, datetime] = {}
    for channel in ("website", "amazon", "blinkit"):
        response = await client.post(f"/_control/{channel}/orders", json={"count": 1, **window})
        assert response.status_code == 200
        [external_id] = response.json()["created"]
        native = (await client.get(f"/_control/{channel}/orders/{external_id}")).json()
        if channel == "website":
            placed[channel] = datetime.fromisoformat(native["created_at"])
        elif channel == "amazon":
            placed[channel] = datetime.fromisoformat(native["PurchaseDate"])
        else:
            placed[channel] = datetime.fromtimestamp(native["created_at_ms"] / 1000, UTC)
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 1, 6, tzinfo=UTC)
    assert all(start <= moment <= end for moment in placed.values()), placed


async def test_count_and_reset(client: httpx.AsyncClient) -> None:
    await create(client, "blinkit", 3)
    assert (await client.get("/_control/blinkit/orders/count")).json() == {"count": 3}
    assert (await client.post("/_control/reset")).status_code == 204
    assert (await client.get("/_control/blinkit/orders/count")).json() == {"count": 0}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/_control/ebay/orders", {"count": 1}),
        ("get", "/_control/ebay/orders/count", None),
        ("put", "/_control/ebay/faults", {"down": True}),
        ("get", "/_control/amazon/orders/402-0000000-0000000", None),
        ("post", "/_control/amazon/orders/402-0000000-0000000/status", {"status": "SHIPPED"}),
    ],
)
async def test_unknown_channel_or_order_is_404_in_the_contract_shape(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, object] | None
) -> None:
    response = await client.request(method, path, json=body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] in {"channel_not_found", "order_not_found"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_control/website/orders", {"count": 0}),
        ("/_control/website/orders", {"count": "many"}),
        ("/_control/website/orders", {"count": 1, "extra": True}),
        ("/_control/website/orders", {}),
        ("/_control/website/orders", {"count": 1, "placedFrom": "2026-11-01T00:00:00Z"}),
        (
            "/_control/website/orders",
            {"count": 1, "placedFrom": "2026-11-02T00:00:00Z", "placedTo": "2026-11-01T00:00:00Z"},
        ),
        (
            "/_control/website/orders",
            {"count": 1, "placedFrom": "2026-11-01T00:00:00Z", "placedTo": "2999-01-01T00:00:00Z"},
        ),
        (
            "/_control/website/orders",
            {"count": 1, "placedFrom": "2026-11-01T00:00:00", "placedTo": "2026-11-02T00:00:00"},
        ),
    ],
)
async def test_bad_control_bodies_are_422(
    client: httpx.AsyncClient, path: str, body: dict[str, object]
) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_bad_status_and_fault_values_are_422(client: httpx.AsyncClient) -> None:
    [order_id] = await create(client, "blinkit", 1)
    bad_status = await client.post(
        f"/_control/blinkit/orders/{order_id}/status", json={"status": "LOST"}
    )
    bad_rate = await client.put("/_control/blinkit/faults", json={"errorRate": 1.5})
    assert bad_status.status_code == 422
    assert bad_rate.status_code == 422


async def test_blinkit_feed_filters_by_epoch_milliseconds(client: httpx.AsyncClient) -> None:
    await create(client, "blinkit", 1)
    await asyncio.sleep(0.005)  # the feed speaks milliseconds: make the second order later
    await create(client, "blinkit", 1)
    everything = (await client.get(BLINKIT_FEED)).json()
    newest_ms = everything["orders"][-1]["updated_at_ms"]
    recent = (await client.get(BLINKIT_FEED, params={"updated_since_ms": newest_ms})).json()
    assert [o["order_id"] for o in recent["orders"]] == [everything["orders"][-1]["order_id"]]
    assert recent["has_more"] is False


async def test_a_forged_page_token_is_a_clear_400(client: httpx.AsyncClient) -> None:
    response = await client.get(BLINKIT_FEED, params={"cursor": "not-a-token"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_page_token"


async def test_a_down_channel_answers_503_but_control_and_other_channels_work(
    client: httpx.AsyncClient,
) -> None:
    await client.put("/_control/amazon/faults", json={"down": True})
    assert (await client.get(AMAZON_FEED, params={"NextToken": "x"})).status_code == 503
    assert (await client.get(BLINKIT_FEED)).status_code == 200
    assert (await create(client, "amazon", 1)) != []
    assert (await client.get("/_control/amazon/faults")).json()["down"] is True


async def test_error_rate_one_fails_every_feed_read(client: httpx.AsyncClient) -> None:
    await client.put("/_control/blinkit/faults", json={"errorRate": 1})
    statuses = {(await client.get(BLINKIT_FEED)).status_code for _ in range(10)}
    assert statuses <= {500, 503}
    await client.post("/_control/reset")
    assert (await client.get(BLINKIT_FEED)).status_code == 200


async def test_latency_delays_feed_answers(client: httpx.AsyncClient) -> None:
    await client.put("/_control/blinkit/faults", json={"latencyMs": 200})
    started = time.monotonic()
    await client.get(BLINKIT_FEED)
    assert time.monotonic() - started >= 0.2


def test_page_token_carries_the_original_filter() -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    position = FeedPosition(datetime(2026, 11, 2, tzinfo=UTC), "5512", FeedOrder.PLACED)
    token = encode_page_token(since, position)
    assert decode_page_token(token) == (since, position)


async def test_blinkit_lists_orders_by_creation_with_created_since_ms(
    client: httpx.AsyncClient,
) -> None:
    day_ago = datetime.now(UTC) - timedelta(days=1)
    window = {
        "placedFrom": (day_ago - timedelta(days=7)).isoformat(),
        "placedTo": day_ago.isoformat(),
    }
    history = await client.post("/_control/blinkit/orders", json={"count": 3, **window})
    [new] = await create(client, "blinkit", 1)
    hour_ago_ms = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)

    fresh = (await client.get(BLINKIT_FEED, params={"created_since_ms": hour_ago_ms})).json()
    everything = (await client.get(BLINKIT_FEED, params={"created_since_ms": 0, "limit": 2})).json()
    both = await client.get(BLINKIT_FEED, params={"created_since_ms": 0, "updated_since_ms": 0})

    assert [o["order_id"] for o in fresh["orders"]] == [new]
    assert [o["order_id"] for o in everything["orders"]] == history.json()["created"][:2]
    rest = (await client.get(BLINKIT_FEED, params={"cursor": everything["next_cursor"]})).json()
    assert [o["order_id"] for o in rest["orders"]] == [history.json()["created"][2], new]
    assert both.status_code == 400
