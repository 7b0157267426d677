"""The orders API over HTTP against the real store, with tokens signed by a test key."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from devstack.pytest_plugin import InfraUrls
from orderhub_common.events import OrderStatus
from orderhub_common.kafka import aiokafka_options
from orderhub_common.revocation import AccessRevocations
from orderhub_common.security import Principal, Role
from orderhub_common.settings import KafkaSettings
from orderhub_common.testing import channel_order
from orders.changes import order_id_for
from orders.service import OrderService

from .conftest import ORDERS_REDIS_DB, T0, TOKENS, bearer, record, running_pipeline

pytestmark = pytest.mark.integration

CHANNELS = ["website", "amazon", "blinkit"]
STATUSES = [OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.CANCELLED]
NAMES = ["Priya Sharma", "Anita Rao", "Ravi (VIP) Kumar", "Meera Iyer", "Arjun Nair"]
ORDER_COUNT = 30
ADMIN = bearer("admin", "user-admin-1")
VIEWER = bearer("viewer", "user-viewer-1")


def seeded(n: int) -> dict[str, Any]:
    return {
        "external_id": f"EXT-{n:03d}",
        "channel": CHANNELS[n % 3],
        "status": STATUSES[n % 4],
        # Pairs of orders share placedAt and total, so ties must be broken by id.
        "placed_at": T0 + timedelta(hours=n // 2),
        "updated_at": T0 + timedelta(hours=n // 2),
        "total": float(100 * (n % 5) + 100),
        "customer": {
            "name": NAMES[n % 5],
            "phone": f"+91 98765 {n:05d}",
            "email": f"{NAMES[n % 5].split()[0].lower()}{n}@example.com",
        },
    }


@pytest.fixture(scope="module")
async def client(infra: InfraUrls) -> AsyncIterator[httpx.AsyncClient]:
    producer = AIOKafkaProducer(**aiokafka_options(KafkaSettings(**infra.kafka_settings())))
    await producer.start()
    try:
        async for pipeline in running_pipeline(infra, f"t{uuid.uuid4().hex[:10]}", producer):
            service: OrderService = pipeline.app.state.order_service
            await record(service, *(channel_order(**seeded(n)) for n in range(ORDER_COUNT)))
            transport = httpx.ASGITransport(pipeline.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
                yield client
    finally:
        await producer.stop()


def sort_value(order: dict[str, Any], field: str) -> Any:
    """Timestamps compare as instants: "...:00Z" and "...:00.5Z" do not sort as text."""
    value = order[field]
    return datetime.fromisoformat(value) if field in {"placedAt", "updatedAt"} else value


async def list_orders(client: httpx.AsyncClient, params: Any = None) -> dict[str, Any]:
    response = await client.get("/orders", params=params, headers=VIEWER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def all_pages(client: httpx.AsyncClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    page = 1
    while True:
        body = await list_orders(client, {**params, "page": page, "limit": 7})
        orders += body["orders"]
        if page >= body["pagination"]["totalPages"]:
            return orders
        page += 1


async def test_reads_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    for path in ["/orders", "/orders/stats", f"/orders/{order_id_for('website', 'EXT-000')}"]:
        response = await client.get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert (await client.get(path, headers=VIEWER)).status_code == 200
        assert (await client.get(path, headers=ADMIN)).status_code == 200


async def test_the_default_page_is_newest_first(client: httpx.AsyncClient) -> None:
    body = await list_orders(client)
    pagination = body["pagination"]
    assert pagination | {"page": 1, "limit": 20, "total": 30, "totalPages": 2} == pagination
    # Keyset paging's additions (the contract's four fields above stay as they were).
    assert pagination["totalIsEstimate"] is False
    assert pagination["prevCursor"] is None
    assert pagination["nextCursor"]
    assert pagination["lastCursor"]
    placed = [o["placedAt"] for o in body["orders"]]
    assert placed == sorted(placed, reverse=True)
    assert set(body["orders"][0]) == {
        "id", "externalId", "channel", "customer", "items", "total", "currency", "status",
        "statusHistory", "placedAt", "createdAt", "updatedAt",
        # The fulfilment issue's additions (CONTRACT.md section 4 keeps every field above).
        "shippingAddress", "paymentMethod", "shipment", "notes", "tags", "writeBack",
    }  # fmt: skip


@pytest.mark.parametrize("sort_by", ["placedAt", "total", "status", "channel", "updatedAt"])
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
async def test_paging_through_any_sort_neither_repeats_nor_skips(
    client: httpx.AsyncClient, sort_by: str, sort_order: str
) -> None:
    orders = await all_pages(client, {"sortBy": sort_by, "sortOrder": sort_order})
    ids = [o["id"] for o in orders]
    assert len(ids) == ORDER_COUNT
    assert len(set(ids)) == ORDER_COUNT
    keys = [(sort_value(o, sort_by), o["id"]) for o in orders]
    assert keys == sorted(keys, reverse=sort_order == "desc")


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    body = await list_orders(
        client,
        [
            ("channel", "amazon"),
            ("channel", "blinkit"),
            ("status", "PLACED"),
            ("status", "SHIPPED"),
            ("from", (T0 + timedelta(hours=2)).isoformat()),
            ("to", (T0 + timedelta(hours=11)).isoformat()),
            ("limit", "100"),
        ],
    )
    expected = {
        f"EXT-{n:03d}"
        for n in range(ORDER_COUNT)
        if CHANNELS[n % 3] in {"amazon", "blinkit"}
        and STATUSES[n % 4] in {OrderStatus.PLACED, OrderStatus.SHIPPED}
        and 2 <= n // 2 <= 11
    }
    assert {o["externalId"] for o in body["orders"]} == expected
    assert body["pagination"]["total"] == len(expected)


@pytest.mark.parametrize(
    ("search", "expected_count"),
    [
        ("PRIY", 6),  # name prefix, any case
        ("iya sha", 6),  # the middle of a name
        ("xt-00", 10),  # the middle of an external id
        ("@example.c", 30),  # the middle of an email
        ("ring-18k", 30),  # a SKU
        ("gold r", 30),  # an item's name
        ("rao", 6),  # a later word of the name
        ("ravi (vip)", 6),  # regex metacharacters are literal text
        ("(", 6),
        (".*", 0),
        ("$where", 0),
        ("a|b", 0),
        ("ext-007", 1),  # external id
        ("98765 00012", 1),  # phone, typed with spaces
        ("meera3@example.com", 1),  # email
    ],
)
async def test_search_is_literal(
    client: httpx.AsyncClient, search: str, expected_count: int
) -> None:
    body = await list_orders(client, {"search": search, "limit": 100})
    assert body["pagination"]["total"] == expected_count


async def test_search_finds_an_order_by_its_id(client: httpx.AsyncClient) -> None:
    order_id = order_id_for("amazon", "EXT-004")
    body = await list_orders(client, {"search": order_id.upper()})
    assert [o["id"] for o in body["orders"]] == [order_id]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"sortBy": "customer"}, "sortBy"),
        ({"sortOrder": "sideways"}, "sortOrder"),
        ({"status": "LOST"}, "status"),
        ({"channel": "ebay"}, "channel"),
        ({"from": "last tuesday"}, "from"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "to"),
    ],
)
async def test_invalid_query_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await client.get("/orders", params=params, headers=VIEWER)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    # A repeated parameter is named with its position: "status.0".
    assert field in {detail["field"].split(".")[0] for detail in error["details"]}


async def test_an_unknown_order_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/orders/ord_nope", headers=VIEWER)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"
    response = await client.patch(
        "/orders/ord_nope/status", json={"status": "CONFIRMED"}, headers=ADMIN
    )
    assert response.status_code == 404


async def test_an_admin_moves_a_status_and_it_is_recorded(client: httpx.AsyncClient) -> None:
    order_id = order_id_for("website", "EXT-000")  # PLACED
    response = await client.patch(
        f"/orders/{order_id}/status",
        json={"status": "CONFIRMED", "note": "called the customer"},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    order = response.json()["order"]
    assert order["status"] == "CONFIRMED"
    entry = order["statusHistory"][-1]
    assert entry["status"] == "CONFIRMED"
    assert entry["changedBy"] == "user-admin-1"
    assert entry["source"] == "admin"
    assert entry["note"] == "called the customer"
    # The detail (read from the query side) is the order the move answered (from MongoDB).
    detail = await client.get(f"/orders/{order_id}", headers=VIEWER)
    assert detail.headers["content-type"] == "application/json"
    assert detail.json() == response.json()
    # Read your writes: the very next list and stats reads show the move.
    confirmed = await list_orders(client, {"status": "CONFIRMED", "search": "EXT-000"})
    assert [o["id"] for o in confirmed["orders"]] == [order_id]
    assert confirmed["orders"][0]["statusHistory"][-1]["note"] == "called the customer"
    placed = await list_orders(client, {"status": "PLACED", "search": "EXT-000"})
    assert placed["orders"] == []


async def test_history_and_a_refused_move_name_the_admin_who_moved_it(
    client: httpx.AsyncClient,
) -> None:
    order_id = order_id_for("website", "EXT-012")  # PLACED
    asha = bearer("admin", "user-asha", email="asha@example.com")
    moved = await client.patch(
        f"/orders/{order_id}/status", json={"status": "CONFIRMED"}, headers=asha
    )
    assert moved.status_code == 200, moved.text
    entry = moved.json()["order"]["statusHistory"][-1]
    assert (entry["changedBy"], entry["changedByEmail"]) == ("user-asha", "asha@example.com")

    # A second admin, working from the old page, tries the same move and then a skipped one.
    for target, ending in [("CONFIRMED", " UTC"), ("DELIVERED", "so it cannot move to delivered")]:
        refused = await client.patch(
            f"/orders/{order_id}/status", json={"status": target}, headers=ADMIN
        )
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["message"].startswith("asha@example.com already confirmed this order at ")
        assert error["message"].endswith(ending)
        assert error["details"]["lastChange"]["changedByEmail"] == "asha@example.com"
        assert error["details"]["lastChange"]["status"] == "CONFIRMED"


async def test_a_viewer_cannot_move_a_status(client: httpx.AsyncClient) -> None:
    order_id = order_id_for("amazon", "EXT-004")
    response = await client.patch(
        f"/orders/{order_id}/status", json={"status": "CONFIRMED"}, headers=VIEWER
    )
    assert response.status_code == 403
    assert (await client.get(f"/orders/{order_id}", headers=VIEWER)).json()["order"][
        "status"
    ] == "PLACED"


async def test_a_demoted_or_signed_out_admins_token_cannot_move_a_status(
    client: httpx.AsyncClient, infra: InfraUrls
) -> None:
    order_id = order_id_for("amazon", "EXT-004")
    demoted_id, jti = f"user-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    demoted = bearer("admin", demoted_id)
    signed_out = TOKENS.bearer("admin", "user-admin-1", jti=jti)
    redis = Redis.from_url(infra.redis_db(ORDERS_REDIS_DB), decode_responses=True)
    revocations = AccessRevocations(redis)
    try:
        await revocations.publish_version(demoted_id, 1)  # auth demoted them after the token
        await revocations.revoke_token(
            Principal("user-admin-1", Role.ADMIN, jti, datetime.now(UTC) + timedelta(minutes=5))
        )
    finally:
        await redis.aclose()

    answers = [
        (await client.patch(f"/orders/{order_id}/status", json={"status": "CONFIRMED"}, headers=h))
        for h in (demoted, signed_out)
    ]

    assert [answer.status_code for answer in answers] == [401, 401]
    assert (await client.get(f"/orders/{order_id}", headers=VIEWER)).json()["order"][
        "status"
    ] == "PLACED"


@pytest.mark.parametrize("note", ["nul\x00byte", "bell\x07", "looks\u202eright", "iso\u2066late"])
async def test_a_note_with_control_or_bidi_characters_is_422(
    client: httpx.AsyncClient, note: str
) -> None:
    order_id = order_id_for("amazon", "EXT-004")
    response = await client.patch(
        f"/orders/{order_id}/status", json={"status": "CONFIRMED", "note": note}, headers=ADMIN
    )

    assert response.status_code == 422


# What the second security review stored through these fields (finding 7): a NUL (PostgreSQL
# refuses it in JSONB), an escape sequence, a right-to-left override and a CR/LF.
HOSTILE_TEXT = {
    "nul": "Blue\x00Dart",
    "escape": "Blue\x1b[2JDart",
    "bidi override": "Blue\u202eDart",
    "crlf": "Blue\r\nDart",
}


@pytest.mark.parametrize("text", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
@pytest.mark.parametrize("field", ["carrier", "trackingNumber"])
async def test_a_shipment_with_control_or_bidi_characters_is_422_naming_the_field(
    client: httpx.AsyncClient, field: str, text: str
) -> None:
    order_id = order_id_for("blinkit", "EXT-005")  # CONFIRMED: may be shipped
    before = (await client.get(f"/orders/{order_id}", headers=VIEWER)).json()["order"]
    shipment = {"carrier": "Blue Dart", "trackingNumber": "BD123456"} | {field: text}

    response = await client.patch(
        f"/orders/{order_id}/status",
        json={"status": "SHIPPED", "shipment": shipment},
        headers=ADMIN,
    )

    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [detail["field"] for detail in details] == [f"shipment.{field}"]
    after = (await client.get(f"/orders/{order_id}", headers=VIEWER)).json()["order"]
    assert after == before


@pytest.mark.parametrize("text", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
@pytest.mark.parametrize("how", ["picked", "view"])
async def test_a_bulk_move_note_with_control_or_bidi_characters_is_422_naming_the_field(
    client: httpx.AsyncClient, how: str, text: str
) -> None:
    order_id = order_id_for("amazon", "EXT-004")  # PLACED: may be confirmed
    before = (await client.get(f"/orders/{order_id}", headers=VIEWER)).json()["order"]
    which = {"orderIds": [order_id]} if how == "picked" else {"view": {"search": "EXT-004"}}
    note = text.replace("\r\n", "\r")  # a note may hold a line feed, never a carriage return

    response = await client.post(
        "/bulk-moves", json={"status": "CONFIRMED", "note": note} | which, headers=ADMIN
    )

    assert response.status_code == 422
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["note"]
    after = (await client.get(f"/orders/{order_id}", headers=VIEWER)).json()["order"]
    assert after == before


async def test_a_bulk_move_picked_order_id_with_a_nul_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/bulk-moves", json={"status": "CONFIRMED", "orderIds": ["ord\x00x"]}, headers=ADMIN
    )

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["orderIds.0"]


@pytest.mark.parametrize(
    ("external_id", "channel", "target"),
    [
        ("EXT-008", "blinkit", "SHIPPED"),  # PLACED -> SHIPPED skips a step
        ("EXT-008", "blinkit", "DELIVERED"),
        ("EXT-008", "blinkit", "PLACED"),  # to itself
        ("EXT-001", "amazon", "PLACED"),  # CONFIRMED backwards
        ("EXT-001", "amazon", "DELIVERED"),
        ("EXT-002", "blinkit", "CANCELLED"),  # SHIPPED cannot be cancelled
        ("EXT-002", "blinkit", "CONFIRMED"),
        ("EXT-003", "website", "PLACED"),  # CANCELLED is final
        ("EXT-003", "website", "CONFIRMED"),
    ],
)
async def test_a_move_the_state_machine_forbids_is_409(
    client: httpx.AsyncClient, external_id: str, channel: str, target: str
) -> None:
    order_id = order_id_for(channel, external_id)
    before = (await client.get(f"/orders/{order_id}", headers=VIEWER)).json()["order"]
    response = await client.patch(
        f"/orders/{order_id}/status", json=complete_move(target), headers=ADMIN
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    after = (await client.get(f"/orders/{order_id}", headers=VIEWER)).json()["order"]
    assert after == before


def complete_move(target: str) -> dict[str, Any]:
    """A move with what its status needs: a shipment to SHIPPED, a reason to CANCELLED."""
    body: dict[str, Any] = {"status": target}
    if target == "SHIPPED":
        body["shipment"] = {"carrier": "Delhivery", "trackingNumber": "DL-1"}
    if target == "CANCELLED":
        body["note"] = "customer asked"
    return body


@pytest.mark.parametrize(
    "body",
    [
        {"status": "LOST"},
        {},
        {"status": "CONFIRMED", "extra": 1},
        # The move to SHIPPED needs its shipment, the move to CANCELLED (final) a reason.
        {"status": "SHIPPED"},
        {"status": "SHIPPED", "shipment": {"carrier": "Delhivery"}},
        {"status": "CANCELLED"},
        {"status": "CANCELLED", "note": " "},
    ],
)
async def test_a_malformed_status_move_is_422(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    order_id = order_id_for("amazon", "EXT-004")
    response = await client.patch(f"/orders/{order_id}/status", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_stats_add_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/orders/stats", headers=VIEWER)
    assert response.status_code == 200
    stats = response.json()
    assert stats["totalOrders"] == ORDER_COUNT
    assert sum(stats["byChannel"].values()) == ORDER_COUNT
    assert sum(stats["byStatus"].values()) == ORDER_COUNT
    assert stats["byChannel"] == {"website": 10, "amazon": 10, "blinkit": 10}
    expected_revenue: dict[str, float] = {}
    for n in range(ORDER_COUNT):
        order = seeded(n)
        if order["status"] != OrderStatus.CANCELLED:
            expected_revenue[order["channel"]] = (
                expected_revenue.get(order["channel"], 0) + order["total"]
            )
    assert {r["channel"]: r["amount"] for r in stats["revenue"]} == expected_revenue
    assert {r["currency"] for r in stats["revenue"]} == {"INR"}


async def test_stats_accept_the_list_filters(client: httpx.AsyncClient) -> None:
    params: list[tuple[str, str]] = [("channel", "amazon"), ("search", "priya")]
    stats = (await client.get("/orders/stats", params=params, headers=VIEWER)).json()
    listed = await list_orders(client, [*params, ("limit", "100")])
    assert stats["totalOrders"] == listed["pagination"]["total"] > 0
    assert stats["byChannel"]["amazon"] == stats["totalOrders"]
    assert sum(stats["byStatus"].values()) == stats["totalOrders"]
    response = await client.get("/orders/stats", params={"sortBy": "total"}, headers=VIEWER)
    assert response.status_code == 422


async def test_the_asyncapi_document_describes_the_topics(client: httpx.AsyncClient) -> None:
    document = (await client.get("/asyncapi")).json()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert any(a.endswith("orders.ingested.v1") for a in addresses)
    assert any(a.endswith("orders.events.v1") for a in addresses)
    assert any(a.endswith("orders.ingested.v1.dlq") for a in addresses)
    schemas = document["components"]["schemas"]
    assert {"OrderIngested", "OrderCreated", "OrderStatusChanged"} <= set(schemas)


@pytest.mark.parametrize(
    "view",
    [
        [("tag", "gift")],
        [("tag", "gift"), ("tag", "vip")],
        [("tag", "urgent")],
        [("tag", "gift"), ("status", "PLACED")],
        [("tag", "gift"), ("search", "gift")],
        [("search", "gift")],
        [("channel", "amazon"), ("tag", "gift")],
    ],
)
async def test_an_order_matches_a_view_exactly_when_the_list_holds_it(
    client: httpx.AsyncClient, view: list[tuple[str, str]]
) -> None:
    """The SPA asks `/orders/matching` whether a new order belongs to the view on screen: the
    answer is the list's own, tags and tag-only search included."""
    tagged = [order_id_for(CHANNELS[n % 3], f"EXT-{n:03d}") for n in (8, 12, 13)]
    for order_id, tags in zip(tagged, (["gift"], ["gift", "vip"], ["vip"]), strict=True):
        response = await client.patch(
            f"/orders/{order_id}/tags", json={"add": tags, "remove": []}, headers=ADMIN
        )
        assert response.status_code == 200, response.text
    untagged = order_id_for(CHANNELS[4 % 3], "EXT-004")
    asked = [*tagged, untagged]
    body = await list_orders(client, [*view, ("limit", "100")])
    assert body["pagination"]["total"] <= 100  # the whole view is on this one page
    listed = {o["id"] for o in body["orders"]}
    response = await client.get(
        "/orders/matching", params=[*view, *(("ids", i) for i in asked)], headers=VIEWER
    )
    assert response.status_code == 200, response.text
    assert set(response.json()["ids"]) == listed & set(asked)
    if ("tag", "gift") in view and len(view) == 1:
        assert set(response.json()["ids"]) == set(tagged[:2])


async def test_matching_needs_ids_and_a_signed_in_user(client: httpx.AsyncClient) -> None:
    assert (await client.get("/orders/matching", params={"ids": "x"})).status_code == 401
    response = await client.get("/orders/matching", params={"tag": "gift"}, headers=VIEWER)
    assert response.status_code == 422
    too_many = [("ids", f"ord_{n}") for n in range(101)]
    response = await client.get("/orders/matching", params=too_many, headers=VIEWER)
    assert response.status_code == 422
    # PostgreSQL refuses a NUL in text: a clear 422, never a 500.
    response = await client.get("/orders/matching", params={"ids": "ord\x00"}, headers=VIEWER)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_an_order_read_carries_its_allowed_moves(client: httpx.AsyncClient) -> None:
    placed = order_id_for("website", "EXT-024")  # PLACED, never moved by another test
    detail = (await client.get(f"/orders/{placed}", headers=VIEWER)).json()
    assert detail["allowedMoves"] == ["CONFIRMED", "CANCELLED"]
    moved = await client.patch(
        f"/orders/{placed}/status", json={"status": "CANCELLED", "note": "x"}, headers=ADMIN
    )
    assert moved.json()["allowedMoves"] == []
