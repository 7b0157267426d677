"""The orders API through the gateway (CONTRACT.md section 4, issue 5): filters, literal search,
sorting, paging, errors and the admin's status moves, on orders placed at the mock channels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync

pytestmark = pytest.mark.e2e

# Through the whole stack, ingestion takes seconds.
API_WAIT_S = 60

CHANNELS = ("website", "amazon", "blinkit")
SORT_FIELDS = ("placedAt", "total", "status", "channel", "updatedAt")


@pytest.fixture(scope="module")
def api(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{gateway_url}/api", timeout=30) as client:
        yield client


def find_by_external_id(
    api: httpx.Client, headers: dict[str, str], channel: str, external_id: str
) -> dict[str, Any] | None:
    response = api.get(
        "/orders", params={"search": external_id, "channel": channel}, headers=headers
    )
    assert response.status_code == 200, response.text
    matches = [o for o in response.json()["orders"] if o["externalId"] == external_id]
    return matches[0] if matches else None


@pytest.fixture(scope="module")
def placed_orders(
    api: httpx.Client, mock_channels_url: str, viewer_headers: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """Three fresh orders at every channel, once they can be read through the API."""
    created: dict[str, list[str]] = {}
    for channel in CHANNELS:
        response = httpx.post(
            f"{mock_channels_url}/_control/{channel}/orders", json={"count": 3}, timeout=30
        )
        assert response.status_code == 200, response.text
        created[channel] = response.json()["created"]
    found: dict[str, list[dict[str, Any]]] = {}

    def all_readable() -> bool:
        for channel, external_ids in created.items():
            orders = [find_by_external_id(api, viewer_headers, channel, e) for e in external_ids]
            if any(o is None for o in orders):
                return False
            found[channel] = [o for o in orders if o is not None]
        return True

    eventually_sync(
        all_readable, what="the new orders to be readable through the API", timeout_s=API_WAIT_S
    )
    return found


def sort_value(order: dict[str, Any], field: str) -> Any:
    """Timestamps compare as instants: "...:00Z" and "...:00.5Z" do not sort as text."""
    value = order[field]
    return datetime.fromisoformat(value) if field in {"placedAt", "updatedAt"} else value


def list_orders(api: httpx.Client, headers: dict[str, str], params: Any) -> dict[str, Any]:
    response = api.get("/orders", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def complete_move(status: str) -> dict[str, Any]:
    """A move with what its status needs: a shipment to SHIPPED, a reason to CANCELLED."""
    body: dict[str, Any] = {"status": status}
    if status == "SHIPPED":
        body["shipment"] = {"carrier": "Delhivery", "trackingNumber": "DL-1"}
    if status == "CANCELLED":
        body["note"] = "the customer asked"
    return body


def test_each_filter_and_their_combination(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    placed_orders: dict[str, list[dict[str, Any]]],
) -> None:
    for channel in CHANNELS:
        body = list_orders(api, viewer_headers, {"channel": channel, "limit": 100})
        assert body["orders"]
        assert {o["channel"] for o in body["orders"]} == {channel}
    body = list_orders(
        api, viewer_headers, [("channel", "amazon"), ("channel", "blinkit"), ("limit", "100")]
    )
    assert {o["channel"] for o in body["orders"]} <= {"amazon", "blinkit"}
    body = list_orders(api, viewer_headers, {"status": "PLACED", "limit": 100})
    assert {o["status"] for o in body["orders"]} == {"PLACED"}

    order = placed_orders["website"][0]
    body = list_orders(
        api,
        viewer_headers,
        {
            "channel": "website",
            "status": "PLACED",
            "from": order["placedAt"],
            "to": order["placedAt"],
            "search": order["customer"]["name"],
        },
    )
    assert order["id"] in {o["id"] for o in body["orders"]}
    assert all(o["placedAt"] == order["placedAt"] for o in body["orders"])


def test_search_matches_ids_name_phone_and_email_as_literal_text(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    placed_orders: dict[str, list[dict[str, Any]]],
) -> None:
    order = placed_orders["blinkit"][1]
    customer = order["customer"]
    terms = [order["id"], order["externalId"], customer["name"].upper(), customer["phone"]]
    if customer["email"]:
        terms.append(customer["email"])
    for term in terms:
        found = list_orders(api, viewer_headers, {"search": term, "limit": 100})["orders"]
        assert order["id"] in {o["id"] for o in found}, term
    # Literal substrings, never patterns: whatever is found holds the text itself.
    for pattern in [".*", "(", "$where", "[a-z]+", "\\", "%", "_"]:
        body = list_orders(api, viewer_headers, {"search": pattern, "limit": 100})
        for found_order in body["orders"]:
            assert pattern in searched_text(found_order), (pattern, found_order["id"])
    for pattern in [".*", "[a-z]+", "$where"]:
        assert list_orders(api, viewer_headers, {"search": pattern})["pagination"]["total"] == 0


def searched_text(order: dict[str, Any]) -> str:
    """The fields a search looks in (CONTRACT.md section 4), as one lowercase text."""
    customer = order["customer"]
    fields = [order["id"], order["externalId"], customer["name"], customer["phone"]]
    fields += [customer["email"] or ""]
    fields += [part for item in order["items"] for part in (item["sku"], item["name"])]
    return "\n".join(fields).casefold()


@pytest.mark.parametrize("sort_by", SORT_FIELDS)
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
def test_sorting_on_every_allowed_field(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    placed_orders: dict[str, list[dict[str, Any]]],
    sort_by: str,
    sort_order: str,
) -> None:
    body = list_orders(
        api, viewer_headers, {"sortBy": sort_by, "sortOrder": sort_order, "limit": 100}
    )
    keys = [(sort_value(o, sort_by), o["id"]) for o in body["orders"]]
    assert keys == sorted(keys, reverse=sort_order == "desc")


def test_page_totals_add_up_and_pages_neither_repeat_nor_skip(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    placed_orders: dict[str, list[dict[str, Any]]],
) -> None:
    params = {"channel": "amazon", "sortBy": "total", "limit": 2}
    first = list_orders(api, viewer_headers, params)
    pagination = first["pagination"]
    ids: list[str] = []
    for page in range(1, pagination["totalPages"] + 1):
        body = list_orders(api, viewer_headers, {**params, "page": page})
        assert body["pagination"]["total"] == pagination["total"]
        ids += [o["id"] for o in body["orders"]]
    assert len(ids) == pagination["total"] == len(set(ids))
    assert pagination["totalPages"] == -(-pagination["total"] // 2)
    beyond = list_orders(api, viewer_headers, {**params, "page": pagination["totalPages"] + 1})
    assert beyond["orders"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"colour": "red"},
        {"page": "0"},
        {"limit": "0"},
        {"limit": "101"},
        {"sortBy": "customer"},
        {"sortOrder": "sideways"},
        {"status": "LOST"},
        {"channel": "ebay"},
        {"from": "not-a-date"},
    ],
)
def test_invalid_parameters_are_422(
    api: httpx.Client, viewer_headers: dict[str, str], params: dict[str, str]
) -> None:
    response = api.get("/orders", params=params, headers=viewer_headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert next(iter(params)) in error["message"]


def test_reading_an_order_and_a_missing_one(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    placed_orders: dict[str, list[dict[str, Any]]],
) -> None:
    order = placed_orders["amazon"][0]
    response = api.get(f"/orders/{order['id']}", headers=viewer_headers)
    assert response.status_code == 200
    assert response.json()["order"]["externalId"] == order["externalId"]
    response = api.get("/orders/ord_does_not_exist", headers=viewer_headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"


def test_orders_need_a_signed_in_user(api: httpx.Client) -> None:
    assert api.get("/orders").status_code == 401
    assert api.get("/orders/stats").status_code == 401


def test_a_viewer_cannot_move_a_status(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    placed_orders: dict[str, list[dict[str, Any]]],
) -> None:
    order = placed_orders["website"][1]
    response = api.patch(
        f"/orders/{order['id']}/status", json={"status": "CONFIRMED"}, headers=viewer_headers
    )
    assert response.status_code == 403


def test_admin_status_moves_follow_the_state_machine_and_are_recorded(
    api: httpx.Client,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
    placed_orders: dict[str, list[dict[str, Any]]],
) -> None:
    order = placed_orders["blinkit"][0]
    path = f"/orders/{order['id']}/status"
    admin = api.get("/auth/me", headers=admin_headers).json()["user"]
    admin_id = admin["id"]

    def stored(headers: dict[str, str]) -> dict[str, Any]:
        """The order as orders holds it: a fresh read, never an answer from the gateway's cache
        (entries are per role, so the reads after a refusal use the role not read before)."""
        response = api.get(f"/orders/{order['id']}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers.get("X-Cache") != "HIT"
        stored_order: dict[str, Any] = response.json()["order"]
        return stored_order

    before = stored(admin_headers)
    for forbidden in ["SHIPPED", "DELIVERED", "PLACED"]:
        response = api.patch(path, json=complete_move(forbidden), headers=admin_headers)
        assert response.status_code == 409, forbidden
        assert response.json()["error"]["code"] == "invalid_transition"
    assert api.patch(path, json={"status": "LOST"}, headers=admin_headers).status_code == 422
    after_refusals = stored(viewer_headers)
    assert after_refusals["status"] == "PLACED", "a refused move changes nothing"
    assert after_refusals["statusHistory"] == before["statusHistory"]

    response = api.patch(
        path, json={"status": "CONFIRMED", "note": "verified by phone"}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    entry = response.json()["order"]["statusHistory"][-1]
    assert (entry["status"], entry["source"], entry["note"]) == (
        "CONFIRMED",
        "admin",
        "verified by phone",
    )
    assert entry["changedBy"] == admin_id
    assert entry["changedByEmail"] == admin["email"], "the history names the admin by email"
    reread = api.get(f"/orders/{order['id']}", headers=viewer_headers).json()["order"]
    assert reread["status"] == "CONFIRMED"

    cancel = complete_move("CANCELLED")
    assert api.patch(path, json=cancel, headers=admin_headers).status_code == 200
    cancelled = stored(admin_headers)
    for after_final in ["PLACED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"]:
        response = api.patch(path, json=complete_move(after_final), headers=admin_headers)
        assert response.status_code == 409, after_final
    final = stored(viewer_headers)
    assert final["status"] == "CANCELLED", "CANCELLED is final"
    assert final["statusHistory"] == cancelled["statusHistory"]


def test_stats_count_every_order_once(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    placed_orders: dict[str, list[dict[str, Any]]],
) -> None:
    response = api.get("/orders/stats", headers=viewer_headers)
    assert response.status_code == 200
    stats = response.json()
    assert set(stats["byChannel"]) == set(CHANNELS)
    assert sum(stats["byChannel"].values()) == stats["totalOrders"]
    assert sum(stats["byStatus"].values()) == stats["totalOrders"]
    assert stats["totalOrders"] >= sum(len(orders) for orders in placed_orders.values())
    for row in stats["revenue"]:
        assert row["channel"] in CHANNELS
        assert row["amount"] >= 0
