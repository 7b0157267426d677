"""The website simulator speaks Shopify's Admin GraphQL API: the custom app's token, the orders
query with cursor paging, the write-back mutations, the cost bucket (THROTTLED), faults, and
webhooks signed with the app's secret."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mock_channels.main import create_app
from mock_channels.settings import MockChannelsSettings
from mock_channels.shopify.cost import CostBucket
from mock_channels.shopify.webhooks import deliveries
from mock_channels.store import ChannelStore
from orderhub_common.events import Channel
from orderhub_common.shopify import SIMULATOR_ADMIN_TOKEN

pytestmark = pytest.mark.unit

GRAPHQL = "/website/admin/api/2025-10/graphql.json"
ORDERS = """
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { legacyResourceId displayFinancialStatus lineItems(first: 5) { nodes { sku } } }
  }
}
"""


@pytest.fixture
def app() -> FastAPI:
    return create_app(MockChannelsSettings(seed_orders=0, control_api=True))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        yield client


async def create(client: httpx.AsyncClient, count: int) -> list[str]:
    response = await client.post("/_control/website/orders", json={"count": count})
    created: list[str] = response.json()["created"]
    return created


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str = SIMULATOR_ADMIN_TOKEN,
) -> httpx.Response:
    return await client.post(
        GRAPHQL,
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token},
    )


async def test_a_wrong_or_missing_token_is_refused_with_401(client: httpx.AsyncClient) -> None:
    wrong = await graphql(client, ORDERS, {"first": 1}, token="shpat_wrong")
    missing = await client.post(GRAPHQL, json={"query": ORDERS, "variables": {"first": 1}})
    assert wrong.status_code == missing.status_code == 401
    assert "Invalid API key or access token" in wrong.json()["errors"]


async def test_orders_page_by_cursor_in_update_order_with_the_cost_extension(
    client: httpx.AsyncClient,
) -> None:
    created = await create(client, 7)
    seen: list[str] = []
    after = None
    while True:
        answer = (
            await graphql(
                client,
                ORDERS,
                {"first": 3, "after": after, "query": "updated_at:>='2020-01-01T00:00:00Z'"},
            )
        ).json()
        orders = answer["data"]["orders"]
        seen += [node["legacyResourceId"] for node in orders["nodes"]]
        cost = answer["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 2 + 3 * (1 + 2 + 5 * 1)
        assert cost["actualQueryCost"] <= cost["requestedQueryCost"]
        assert cost["throttleStatus"]["maximumAvailable"] == 1000.0
        assert cost["throttleStatus"]["restoreRate"] == 50.0
        if not orders["pageInfo"]["hasNextPage"]:
            break
        after = orders["pageInfo"]["endCursor"]
    assert seen == created


async def test_the_updated_at_filter_leaves_older_orders_out(client: httpx.AsyncClient) -> None:
    await create(client, 2)
    future = {"first": 10, "query": "updated_at:>='2999-01-01T00:00:00Z'"}
    answer = (await graphql(client, ORDERS, future)).json()
    assert answer["data"]["orders"]["nodes"] == []
    unknown = (await graphql(client, ORDERS, {"first": 10, "query": "status:open"})).json()
    assert "unsupported search query" in unknown["errors"][0]["message"]


async def test_a_field_outside_the_modelled_schema_is_a_validation_error(
    client: httpx.AsyncClient,
) -> None:
    # Asked twice: the second answer comes from the query's kept parse and validation.
    for _ in range(2):
        answer = (await graphql(client, "{ orders(first: 1) { nodes { riskLevel } } }")).json()
        assert "data" not in answer or answer["data"] is None
        assert "riskLevel" in answer["errors"][0]["message"]
    malformed = await graphql(client, "{ orders(first: 1) { nodes { id }")
    assert malformed.status_code == 400


async def test_an_empty_bucket_answers_throttled_and_runs_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    [order] = await create(client, 1)
    app.state.shopify.bucket.drain()
    paid = """mutation($input: OrderMarkAsPaidInput!) {
      orderMarkAsPaid(input: $input) { userErrors { message } } }"""
    answer = (await graphql(client, paid, {"input": {"id": f"gid://shopify/Order/{order}"}})).json()
    assert answer["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 10
    shown = (await client.get(f"/_control/website/orders/{order}")).json()
    assert shown["financial_status"] == "pending", "a throttled mutation changed the order"


async def test_a_query_dearer_than_the_bucket_is_refused(client: httpx.AsyncClient) -> None:
    answer = (await graphql(client, ORDERS, {"first": 250})).json()
    assert answer["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_the_bucket_leaks_back_at_its_restore_rate() -> None:
    now = [0.0]
    bucket = CostBucket(1000, 50, clock=lambda: now[0])
    assert bucket.take(900)
    assert not bucket.take(200)
    now[0] = 2.0  # 100 points back
    assert bucket.take(200)
    now[0] = 100.0
    assert bucket.available() == 1000


MUTATIONS = {
    "paid": """mutation($id: ID!) { orderMarkAsPaid(input: {id: $id}) {
        order { displayFinancialStatus } userErrors { message } } }""",
    "fulfill": """mutation($fo: ID!) { fulfillmentCreate(fulfillment: {
        lineItemsByFulfillmentOrder: [{fulfillmentOrderId: $fo}],
        trackingInfo: {company: "Blue Dart", number: "BD1"}}) {
        fulfillment { trackingInfo { company number } } userErrors { message } } }""",
    "cancel": """mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, refund: true,
        restock: true) { orderCancelUserErrors { message } } }""",
}


async def test_write_back_mutations_move_the_order_or_answer_user_errors(
    client: httpx.AsyncClient,
) -> None:
    [order] = await create(client, 1)
    gid = f"gid://shopify/Order/{order}"
    paid = (await graphql(client, MUTATIONS["paid"], {"id": gid})).json()["data"]
    assert paid["orderMarkAsPaid"] == {
        "order": {"displayFinancialStatus": "PAID"},
        "userErrors": [],
    }
    again = (await graphql(client, MUTATIONS["paid"], {"id": gid})).json()["data"]
    assert again["orderMarkAsPaid"]["userErrors"][0]["message"] == "the order is already confirmed"
    fo = f"gid://shopify/FulfillmentOrder/{int(order) + 500}"
    fulfilled = (await graphql(client, MUTATIONS["fulfill"], {"fo": fo})).json()["data"]
    assert fulfilled["fulfillmentCreate"]["fulfillment"]["trackingInfo"] == [
        {"company": "Blue Dart", "number": "BD1"}
    ]
    refused = (await graphql(client, MUTATIONS["cancel"], {"id": gid})).json()["data"]
    [error] = refused["orderCancel"]["orderCancelUserErrors"]
    assert "cannot become cancelled" in error["message"]
    missing = (await graphql(client, MUTATIONS["paid"], {"id": "gid://shopify/Order/1"})).json()
    assert missing["data"]["orderMarkAsPaid"]["userErrors"][0]["message"] == (
        "Order does not exist"
    )


async def test_the_endpoint_is_subject_to_the_websites_faults(client: httpx.AsyncClient) -> None:
    await client.put("/_control/website/faults", json={"down": True})
    assert (await graphql(client, ORDERS, {"first": 1})).status_code == 503


async def test_webhooks_are_signed_with_the_apps_secret_and_posted() -> None:
    received: list[httpx.Request] = []

    def ingest(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json={})

    settings = MockChannelsSettings(
        seed_orders=0,
        control_api=True,
        MOCK_SHOPIFY_WEBHOOK_URL="http://ingest/webhooks/shopify",
        MOCK_SHOPIFY_WEBHOOK_SECRET="s3cret",
    )
    app = create_app(settings, webhook_transport=httpx.MockTransport(ingest))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            [order] = await create(client, 1)
            await client.post(
                f"/_control/website/orders/{order}/status", json={"status": "CANCELLED"}
            )
            sender = app.state.shopify.webhooks
            for _ in range(100):
                if len(sender.sent) == 3:
                    break
                await asyncio.sleep(0.02)

    topics = [request.headers["X-Shopify-Topic"] for request in received]
    assert topics == ["orders/create", "orders/updated", "orders/cancelled"]
    for request in received:
        expected = base64.b64encode(
            hmac.new(b"s3cret", request.content, hashlib.sha256).digest()
        ).decode()
        assert request.headers["X-Shopify-Hmac-Sha256"] == expected
        assert json.loads(request.content)["id"] == int(order)
    assert len({request.headers["X-Shopify-Webhook-Id"] for request in received}) == 3


def test_without_a_secret_or_an_address_the_shop_sends_no_webhooks() -> None:
    app = create_app(MockChannelsSettings(seed_orders=0, MOCK_SHOPIFY_WEBHOOK_URL="http://x/y"))
    assert app.state.shopify.webhooks.url is None


def test_each_delivery_has_its_own_webhook_id() -> None:
    store = ChannelStore(seed=1, seed_orders=0)
    [order] = store.create(Channel.WEBSITE, 1)
    first, second = deliveries(order, created=True)[0], deliveries(order, created=True)[0]
    assert first.webhook_id != second.webhook_id
    assert first.body == second.body


async def test_orders_by_creation_list_each_new_order_once_and_leave_history_out(
    client: httpx.AsyncClient,
) -> None:
    by_creation = ORDERS.replace("UPDATED_AT", "CREATED_AT")
    day_ago = datetime.now(UTC) - timedelta(days=1)
    window = {
        "placedFrom": (day_ago - timedelta(days=7)).isoformat(),
        "placedTo": day_ago.isoformat(),
    }
    await client.post("/_control/website/orders", json={"count": 2, **window})
    new = await create(client, 2)
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    first = await graphql(client, by_creation, {"first": 1, "query": f"created_at:>='{hour_ago}'"})
    page = first.json()["data"]["orders"]
    rest = await graphql(
        client,
        by_creation,
        {"first": 5, "after": page["pageInfo"]["endCursor"], "query": f"created_at:>='{hour_ago}'"},
    )
    mixed = await graphql(client, by_creation, {"first": 5, "query": f"updated_at:>='{hour_ago}'"})

    listed = page["nodes"] + rest.json()["data"]["orders"]["nodes"]
    assert [node["legacyResourceId"] for node in listed] == new
    assert "unsupported search query" in mixed.json()["errors"][0]["message"]
