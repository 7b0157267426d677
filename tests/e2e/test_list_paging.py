"""The orders list at any depth through the gateway (issue 27 items 4 and 5): cursor paging
under every sort walks every order of a view exactly once, forwards and backwards, and orders
arriving meanwhile never shift the next page; a jump starts where it says; a cursor the list
cannot use is a clear 400; the tags in use are listed with their counts; saved views keep the
rows per page; the stats follow the tag filter.

The orders sit in a placement window of their own (as in test_bulk), so a view of that window
holds exactly this module's orders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync

from .test_bulk import a_window, place_orders, wait_for_orders

pytestmark = pytest.mark.e2e

SORTS = ["placedAt", "total", "status", "channel", "updatedAt"]
FRESH = {"Cache-Control": "no-cache"}


@pytest.fixture(scope="module")
def api(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{gateway_url}/api", timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def window(
    api: httpx.Client, mock_channels_url: str, admin_headers: dict[str, str]
) -> dict[str, str]:
    window = a_window()
    for channel in ("website", "amazon", "blinkit"):
        place_orders(mock_channels_url, channel, 15, window)
    wait_for_orders(api, admin_headers, window, 45)
    return window


def page_of(api: httpx.Client, headers: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
    response = api.get("/orders", params=params, headers={**headers, **FRESH})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def walk(
    api: httpx.Client, headers: dict[str, str], params: dict[str, Any], *, backwards: bool
) -> list[str]:
    page = page_of(api, headers, params)
    if backwards:
        page = page_of(api, headers, {**params, "cursor": page["pagination"]["lastCursor"]})
    pages = []
    for _ in range(50):
        pages.append([order["id"] for order in page["orders"]])
        following = page["pagination"]["prevCursor" if backwards else "nextCursor"]
        if following is None:
            break
        page = page_of(api, headers, {**params, "cursor": following})
    if backwards:
        pages.reverse()
    return [order_id for ids in pages for order_id in ids]


@pytest.mark.parametrize("sort_by", SORTS)
@pytest.mark.parametrize("sort_order", ["asc", "desc"])
def test_next_and_previous_under_every_sort_return_every_order_exactly_once(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    window: dict[str, str],
    sort_by: str,
    sort_order: str,
) -> None:
    params = {**window, "limit": 7, "sortBy": sort_by, "sortOrder": sort_order}
    numbered = [
        order["id"]
        for number in range(1, 8)
        for order in page_of(api, viewer_headers, {**params, "page": number})["orders"]
    ]
    assert len(numbered) == len(set(numbered)) == 45
    assert walk(api, viewer_headers, params, backwards=False) == numbered
    assert walk(api, viewer_headers, params, backwards=True) == numbered


def test_orders_arriving_meanwhile_do_not_shift_the_next_page(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
    mock_channels_url: str,
) -> None:
    older = a_window()
    newer = {  # two hours later, still inside the view below
        bound: (datetime.fromisoformat(older[bound]) + timedelta(hours=2)).isoformat()
        for bound in ("from", "to")
    }
    view = {"from": older["from"], "to": newer["to"]}
    place_orders(mock_channels_url, "website", 12, older)
    wait_for_orders(api, admin_headers, view, 12)
    params = {**view, "limit": 5}
    first = page_of(api, viewer_headers, params)
    second = page_of(api, viewer_headers, {**params, "cursor": first["pagination"]["nextCursor"]})
    # Newer orders arrive at the top of the newest-first list: by offset, page 2 would now
    # repeat rows of page 1; by cursor it is the same page.
    place_orders(mock_channels_url, "website", 6, newer)
    wait_for_orders(api, admin_headers, view, 18)
    again = page_of(api, viewer_headers, {**params, "cursor": first["pagination"]["nextCursor"]})
    assert [o["id"] for o in again["orders"]] == [o["id"] for o in second["orders"]]
    assert again["pagination"]["total"] == 18
    by_offset = page_of(api, viewer_headers, {**params, "page": 2})
    assert {o["id"] for o in by_offset["orders"]} & {o["id"] for o in first["orders"]}
    everything = walk(api, viewer_headers, params, backwards=False)
    assert len(everything) == len(set(everything)) == 18


def test_a_jump_starts_at_the_first_order_reaching_the_value(
    api: httpx.Client, viewer_headers: dict[str, str], window: dict[str, str]
) -> None:
    by_total = {**window, "sortBy": "total", "sortOrder": "asc", "limit": 100}
    totals = sorted(o["total"] for o in page_of(api, viewer_headers, by_total)["orders"])
    middle = totals[len(totals) // 2]
    jumped = page_of(api, viewer_headers, {**by_total, "limit": 5, "startAt": str(middle)})
    assert [o["total"] for o in jumped["orders"]] == [t for t in totals if t >= middle][:5]
    assert jumped["pagination"]["prevCursor"] is not None

    by_status = {**window, "sortBy": "status", "sortOrder": "asc", "limit": 5}
    shipped = page_of(api, viewer_headers, {**by_status, "startAt": "PLACED"})
    assert all(o["status"] >= "PLACED" for o in shipped["orders"])


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "bm90LWEtY3Vyc29y"},
        {"cursor": "has spaces"},
        {"sortBy": "total", "startAt": "lots"},
        {"sortBy": "channel", "startAt": "ebay"},
    ],
)
def test_a_cursor_or_jump_the_list_cannot_use_is_a_clear_400(
    api: httpx.Client, viewer_headers: dict[str, str], params: dict[str, str]
) -> None:
    response = api.get("/orders", params=params, headers=viewer_headers)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("invalid_cursor", "validation_error")


def test_a_cursor_of_another_sort_is_refused(
    api: httpx.Client, viewer_headers: dict[str, str], window: dict[str, str]
) -> None:
    first = page_of(api, viewer_headers, {**window, "limit": 5})
    response = api.get(
        "/orders",
        params={**window, "sortBy": "total", "cursor": first["pagination"]["nextCursor"]},
        headers=viewer_headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_tags_in_use_and_the_stats_follow_the_tag_filter(
    api: httpx.Client,
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
    window: dict[str, str],
) -> None:
    tag = f"e2e-{uuid.uuid4().hex[:8]}"
    orders = page_of(api, viewer_headers, {**window, "limit": 3})["orders"]
    for order in orders:
        response = api.patch(
            f"/orders/{order['id']}/tags", json={"add": [tag]}, headers=admin_headers
        )
        assert response.status_code == 200, response.text

    def in_use() -> dict[str, int]:
        response = api.get("/orders/tags", headers={**viewer_headers, **FRESH})
        assert response.status_code == 200, response.text
        return {entry["tag"]: entry["orders"] for entry in response.json()["tags"]}

    eventually_sync(lambda: in_use().get(tag) == 3, what=f"tag {tag} on 3 orders", timeout_s=30)
    stats = api.get("/orders/stats", params={"tag": tag}, headers={**viewer_headers, **FRESH})
    assert stats.json()["totalOrders"] == 3
    listed = page_of(api, viewer_headers, {"tag": tag})
    assert listed["pagination"]["total"] == 3
    assert listed["pagination"]["totalIsEstimate"] is False


def test_a_saved_view_keeps_its_rows_per_page_and_tags(
    api: httpx.Client, viewer_headers: dict[str, str]
) -> None:
    name = f"Tagged {uuid.uuid4().hex[:6]}"
    created = api.post(
        "/views",
        json={"name": name, "view": {"tag": ["vip"], "channel": ["blinkit"]}, "pageSize": 50},
        headers=viewer_headers,
    )
    assert created.status_code == 201, created.text
    view = created.json()["view"]
    assert (view["pageSize"], view["view"]["tag"]) == (50, ["vip"])
    changed = api.patch(
        f"/views/{view['id']}", json={"pageSize": 100, "isDefault": True}, headers=viewer_headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["view"]["pageSize"], changed.json()["view"]["isDefault"]) == (100, True)
    assert api.delete(f"/views/{view['id']}", headers=viewer_headers).status_code == 204
