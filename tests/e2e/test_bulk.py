"""Working on many orders through the gateway (issue 13): bulk status moves (a page at once, a
whole view as a job that survives a SIGKILL of orders), CSV exports behind signed links, saved
views, the audit log, and the roles on every one of these routes.

Each test places its orders at a mock channel inside a placement window of its own, years in
the past, so a view of that window holds exactly the test's orders."""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devstack.pytest_plugin import eventually_sync

pytestmark = pytest.mark.e2e

INGEST_WAIT_S = 180
JOB_WAIT_S = 240


@pytest.fixture(scope="module")
def api(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{gateway_url}/api", timeout=60) as client:
        yield client


def a_window() -> dict[str, str]:
    """A placement window no other test uses: one hour on a random day of 2001-2020."""
    start = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(
        days=random.randrange(365 * 20), hours=random.randrange(24)
    )
    return {
        "from": start.isoformat().replace("+00:00", "Z"),
        "to": (start + timedelta(minutes=59)).isoformat().replace("+00:00", "Z"),
    }


def place_orders(mock_channels_url: str, channel: str, count: int, window: dict[str, str]) -> None:
    response = httpx.post(
        f"{mock_channels_url}/_control/{channel}/orders",
        json={"count": count, "placedFrom": window["from"], "placedTo": window["to"]},
        timeout=60,
    )
    assert response.status_code == 200, response.text


def view_total(api: httpx.Client, headers: dict[str, str], view: dict[str, Any]) -> int:
    response = api.get(
        "/orders", params={**view, "limit": 1}, headers={**headers, "Cache-Control": "no-cache"}
    )
    assert response.status_code == 200, response.text
    total: int = response.json()["pagination"]["total"]
    return total


def wait_for_orders(
    api: httpx.Client, headers: dict[str, str], view: dict[str, Any], count: int
) -> None:
    eventually_sync(
        lambda: view_total(api, headers, view) == count,
        what=f"{count} orders in the view {view}",
        timeout_s=INGEST_WAIT_S,
    )


def orders_of(
    api: httpx.Client, headers: dict[str, str], view: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every order of the view, through the list, page by page."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        response = api.get(
            "/orders",
            params={**view, "limit": 100, "page": page, "sortBy": "placedAt", "sortOrder": "asc"},
            headers={**headers, "Cache-Control": "no-cache"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["orders"]
        if page >= body["pagination"]["totalPages"]:
            return found
        page += 1


def job_of(api: httpx.Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    response = api.get(f"/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()["job"]
    return job


def wait_for_job(api: httpx.Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    finished: dict[str, Any] = {}

    def done() -> bool:
        job = job_of(api, headers, job_id)
        finished.update(job)
        return job["state"] in {"succeeded", "failed", "cancelled"}

    eventually_sync(done, what=f"job {job_id} to finish", timeout_s=JOB_WAIT_S, interval_s=1)
    return finished


def job_items(api: httpx.Client, headers: dict[str, str], job_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = api.get(
            f"/jobs/{job_id}/items", params={"page": page, "limit": 1000}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if page >= body["pagination"]["totalPages"]:
            return items
        page += 1


def needs(status: str, ids: list[str]) -> dict[str, Any]:
    """What a move to ``status`` carries besides it: a shipment with a tracking number per order
    to SHIPPED, a reason to CANCELLED."""
    if status == "SHIPPED":
        tracking = {order_id: f"TRK-{order_id[-8:]}" for order_id in ids}
        return {"shipment": {"carrier": "Delhivery", "trackingNumbers": tracking}}
    if status == "CANCELLED":
        return {"note": "the customer asked"}
    return {}


def move_page(
    api: httpx.Client, headers: dict[str, str], ids: list[str], status: str
) -> dict[str, Any]:
    response = api.post(
        "/bulk-moves",
        json={"status": status, "orderIds": ids, **needs(status, ids)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


# What the state machine makes of a move to CONFIRMED from each status.
EXPECTED_FOR_CONFIRMED = {
    "PLACED": ("moved", None),
    "CONFIRMED": ("refused", "invalid_transition"),
    "SHIPPED": ("refused", "invalid_transition"),
    "CANCELLED": ("refused", "already_final"),
}


# Placing, ingesting and moving a thousand orders takes minutes on a small machine.
@pytest.mark.timeout(900)
def test_a_bulk_move_of_1000_orders_follows_the_state_machine_exactly(
    api: httpx.Client, mock_channels_url: str, admin_headers: dict[str, str]
) -> None:
    window = a_window()
    view = {**window, "channel": ["blinkit"]}
    place_orders(mock_channels_url, "blinkit", 1000, window)
    wait_for_orders(api, admin_headers, view, 1000)
    orders = orders_of(api, admin_headers, view)
    ids = [o["id"] for o in orders]

    # A mix made with page moves (each page answered at once): 200 cancelled, 300 confirmed,
    # 100 of those shipped; 500 stay placed.
    for start in range(0, 200, 100):
        result = move_page(api, admin_headers, ids[start : start + 100], "CANCELLED")
        assert len(result["moved"]) == 100
        assert result["refused"] == []
    for start in range(200, 500, 100):
        result = move_page(api, admin_headers, ids[start : start + 100], "CONFIRMED")
        assert len(result["moved"]) == 100
    result = move_page(api, admin_headers, ids[400:500], "SHIPPED")
    assert sorted(result["moved"]) == sorted(ids[400:500])
    # A page with a final order and one that is not there: each refusal says why.
    result = move_page(api, admin_headers, [ids[0], ids[500], "ord_missing"], "CONFIRMED")
    assert result["moved"] == [ids[500]]
    assert {(r["orderId"], r["code"]) for r in result["refused"]} == {
        (ids[0], "already_final"),
        ("ord_missing", "order_not_found"),
    }
    before = {o["id"]: o["status"] for o in orders_of(api, admin_headers, view)}
    assert Counter(before.values()) == {
        "PLACED": 499,
        "CONFIRMED": 201,
        "SHIPPED": 100,
        "CANCELLED": 200,
    }

    response = api.post(
        "/bulk-moves", json={"status": "CONFIRMED", "view": view}, headers=admin_headers
    )
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert job["total"] == 1000
    assert job["kind"] == "status_move"
    finished = wait_for_job(api, admin_headers, job["id"])

    assert finished["state"] == "succeeded"
    assert (finished["processed"], finished["moved"], finished["refused"]) == (1000, 499, 501)
    items = job_items(api, admin_headers, job["id"])
    assert len(items) == 1000
    for item in items:
        outcome, code = EXPECTED_FOR_CONFIRMED[before[item["orderId"]]]
        assert (item["outcome"], item["code"]) == (outcome, code), item
    after = {o["id"]: o for o in orders_of(api, admin_headers, view)}
    for order_id, status in before.items():
        expected = "CONFIRMED" if status == "PLACED" else status
        assert after[order_id]["status"] == expected
        history = [entry["status"] for entry in after[order_id]["statusHistory"]]
        assert history.count(expected) == 1, history


# Placing, ingesting and moving a thousand orders takes minutes on a small machine.
@pytest.mark.timeout(900)
def test_a_bulk_job_killed_with_its_service_moves_each_order_once(
    api: httpx.Client,
    mock_channels_url: str,
    admin_headers: dict[str, str],
    kill_service: Callable[[str], None],
    wait_ready: Callable[[str], None],
) -> None:
    window = a_window()
    # Not Amazon: test_orders_api walks every Amazon order two to a page.
    view = {**window, "channel": ["blinkit"]}
    place_orders(mock_channels_url, "blinkit", 1000, window)
    wait_for_orders(api, admin_headers, view, 1000)

    response = api.post(
        "/bulk-moves", json={"status": "CONFIRMED", "view": view}, headers=admin_headers
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]["id"]
    eventually_sync(
        lambda: job_of(api, admin_headers, job_id)["processed"] >= 50,
        what="the job to be under way",
        timeout_s=JOB_WAIT_S,
        interval_s=0.1,
    )
    kill_service("orders")
    wait_ready("orders")
    interrupted = job_of(api, admin_headers, job_id)
    assert interrupted["processed"] < 1000, "the job ended before the kill: nothing was tested"

    finished = wait_for_job(api, admin_headers, job_id)
    assert finished["state"] == "succeeded"
    assert (finished["processed"], finished["moved"], finished["refused"]) == (1000, 1000, 0)
    for order in orders_of(api, admin_headers, view):
        history = [entry["status"] for entry in order["statusHistory"]]
        assert order["status"] == "CONFIRMED"
        assert history == ["PLACED", "CONFIRMED"], (order["id"], history)


# Placing, ingesting and moving a thousand orders takes minutes on a small machine.
@pytest.mark.timeout(900)
def test_a_bulk_job_can_be_cancelled(
    api: httpx.Client, mock_channels_url: str, admin_headers: dict[str, str]
) -> None:
    window = a_window()
    view = {**window, "channel": ["website"]}
    place_orders(mock_channels_url, "website", 600, window)
    wait_for_orders(api, admin_headers, view, 600)
    response = api.post(
        "/bulk-moves",
        json={"status": "CANCELLED", "view": view, "note": "duplicate orders"},
        headers=admin_headers,
    )
    job_id = response.json()["job"]["id"]
    cancelled = api.post(f"/jobs/{job_id}/cancel", headers=admin_headers)
    assert cancelled.status_code == 200, cancelled.text
    finished = wait_for_job(api, admin_headers, job_id)
    assert finished["state"] in {"cancelled", "succeeded"}
    if finished["state"] == "cancelled":
        # What it did stays done, what it did not is left as it was.
        statuses = Counter(o["status"] for o in orders_of(api, admin_headers, view))
        assert statuses["CANCELLED"] == finished["moved"] < 600
        assert statuses["PLACED"] == 600 - finished["moved"]
    again = api.post(f"/jobs/{job_id}/cancel", headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_finished"


def download(gateway_url: str, url: str) -> httpx.Response:
    return httpx.get(f"{gateway_url}{url}", timeout=60)


# Placing, ingesting and moving a thousand orders takes minutes on a small machine.
@pytest.mark.timeout(900)
def test_an_export_of_the_current_view_downloads_by_a_signed_link(
    api: httpx.Client,
    gateway_url: str,
    mock_channels_url: str,
    viewer_headers: dict[str, str],
) -> None:
    window = a_window()
    view = {**window, "channel": ["website"], "sortBy": "total", "sortOrder": "asc"}
    place_orders(mock_channels_url, "website", 250, window)
    wait_for_orders(api, viewer_headers, {**window, "channel": ["website"]}, 250)
    response = api.post("/exports", json={"view": view}, headers=viewer_headers)
    assert response.status_code == 202, response.text
    job = wait_for_job(api, viewer_headers, response.json()["job"]["id"])
    assert job["state"] == "succeeded"
    assert job["processed"] == 250
    assert job["downloadUrl"].startswith(f"/api/exports/{job['id']}/download?")

    got = download(gateway_url, job["downloadUrl"])  # no token: the link is the credential
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Order ID", "External ID", "Channel", "Status"]
    assert "Items" in header
    assert "Customer email" in header
    assert len(body) == 250
    totals = [float(row[header.index("Total")]) for row in body]
    assert totals == sorted(totals)  # the view's sort
    listed = {
        o["id"]: o for o in orders_of(api, viewer_headers, {**window, "channel": ["website"]})
    }
    assert {row[0] for row in body} == set(listed)
    for row in body:
        order = listed[row[0]]
        assert row[header.index("Customer name")] == order["customer"]["name"]
        phone = order["customer"]["phone"]
        # A phone number is a text formula: shown as "+91 ...", with no apostrophe in sight.
        phone_cell = row[header.index("Customer phone")]
        assert phone_cell == f'="{phone}"'
        assert not any(
            cell.startswith(("=", "+", "-", "@")) for cell in row if cell is not phone_cell
        )

    # A tampered or expired link opens nothing.
    parts = urlsplit(job["downloadUrl"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    forged = httpx.get(
        f"{gateway_url}{parts.path}",
        params={**query, "expires": int(query["expires"]) + 3600},
        timeout=30,
    )
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "download_link_invalid"
    expired = httpx.get(
        f"{gateway_url}{parts.path}", params={"expires": 1, "signature": "0" * 64}, timeout=30
    )
    assert expired.status_code == 403


def test_saved_views_per_user_with_a_default_and_team_sharing_by_admins(
    api: httpx.Client, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    name = f"Placed Amazon {uuid.uuid4().hex[:6]}"
    view = {"channel": ["amazon"], "status": ["PLACED"], "sortBy": "total", "sortOrder": "asc"}
    created = api.post(
        "/views",
        json={"name": name, "view": view, "columns": ["id", "total"], "isDefault": True},
        headers=viewer_headers,
    )
    assert created.status_code == 201, created.text
    saved = created.json()["view"]
    assert saved["isDefault"]
    assert saved["mine"]
    assert saved["view"]["sortBy"] == "total"
    mine = api.get("/views", headers=viewer_headers).json()["views"]
    assert [v["id"] for v in mine if v["isDefault"]] == [saved["id"]]
    # Another user does not see it; the same name twice is refused.
    assert saved["id"] not in {
        v["id"] for v in api.get("/views", headers=admin_headers).json()["views"]
    }
    again = api.post("/views", json={"name": name}, headers=viewer_headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "view_name_taken"
    # A second default takes the mark from the first.
    second = api.post(
        "/views", json={"name": name + " 2", "isDefault": True}, headers=viewer_headers
    ).json()["view"]
    defaults = [
        v["id"] for v in api.get("/views", headers=viewer_headers).json()["views"] if v["isDefault"]
    ]
    assert defaults == [second["id"]]

    # Only an admin shares with the team; everyone then sees it, only admins change it.
    refused = api.patch(f"/views/{saved['id']}", json={"shared": True}, headers=viewer_headers)
    assert refused.status_code == 403
    team = api.post(
        "/views", json={"name": name + " team", "view": view, "shared": True}, headers=admin_headers
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["view"]["id"]
    seen = {v["id"]: v for v in api.get("/views", headers=viewer_headers).json()["views"]}
    assert seen[team_id]["shared"]
    assert not seen[team_id]["mine"]
    assert api.delete(f"/views/{team_id}", headers=viewer_headers).status_code == 403
    assert api.delete(f"/views/{saved['id']}", headers=viewer_headers).status_code == 204
    assert api.delete(f"/views/{saved['id']}", headers=viewer_headers).status_code == 404
    assert api.delete(f"/views/{team_id}", headers=admin_headers).status_code == 204
    bad = api.post(
        "/views", json={"name": "", "view": {"sortBy": "colour"}}, headers=viewer_headers
    )
    assert bad.status_code == 422


def test_every_new_route_and_its_roles(
    api: httpx.Client, admin_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    move = {"status": "CONFIRMED", "orderIds": ["ord_missing"]}
    # Not signed in: 401 everywhere but the signed download link.
    for method, path, body in [
        ("POST", "/bulk-moves", move),
        ("GET", "/jobs/job_x", None),
        ("GET", "/jobs/job_x/items", None),
        ("POST", "/jobs/job_x/cancel", None),
        ("POST", "/exports", {}),
        ("GET", "/views", None),
        ("POST", "/views", {"name": "x"}),
        ("GET", "/audit", None),
    ]:
        assert api.request(method, path, json=body).status_code == 401, (method, path)
    # Viewers change nothing: no bulk move, no job's items, no audit log.
    assert api.post("/bulk-moves", json=move, headers=viewer_headers).status_code == 403
    assert api.get("/audit", headers=viewer_headers).status_code == 403
    assert api.get("/jobs/job_x/items", headers=viewer_headers).status_code == 403
    # ... but they export, and see only their own jobs.
    export = api.post("/exports", json={"view": {"status": ["CANCELLED"]}}, headers=viewer_headers)
    assert export.status_code == 202
    admins = api.post("/exports", json={}, headers=admin_headers).json()["job"]["id"]
    assert api.get(f"/jobs/{admins}", headers=viewer_headers).status_code == 404
    assert api.get(f"/jobs/{admins}", headers=admin_headers).status_code == 200
    # Bad input is a clear 4xx.
    for body in [
        {"status": "CONFIRMED"},
        {"status": "CONFIRMED", "orderIds": [], "view": {}},
        {"status": "LOST", "orderIds": ["x"]},
        {"status": "CONFIRMED", "orderIds": ["x"] * 101},
    ]:
        answer = api.post("/bulk-moves", json=body, headers=admin_headers)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["code"] == "validation_error"
    assert api.get("/audit", params={"limit": 0}, headers=admin_headers).status_code == 422
    assert api.get("/jobs/job_nothing", headers=admin_headers).status_code == 404


def test_the_audit_log_records_each_action_once_with_who_where_and_the_request(
    api: httpx.Client,
    mock_channels_url: str,
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    window = a_window()
    place_orders(mock_channels_url, "blinkit", 2, window)
    view = {**window, "channel": ["blinkit"]}
    wait_for_orders(api, admin_headers, view, 2)
    first, second = (o["id"] for o in orders_of(api, admin_headers, view))
    request_id = f"req-{uuid.uuid4().hex}"
    moved = api.patch(
        f"/orders/{first}/status",
        json={"status": "CONFIRMED"},
        headers={**admin_headers, "X-Request-ID": request_id},
    )
    assert moved.status_code == 200, moved.text
    job = api.post(
        "/bulk-moves",
        json={"status": "CANCELLED", "view": view, "note": "out of stock"},
        headers=admin_headers,
    ).json()["job"]
    export = api.post("/exports", json={"view": view}, headers=viewer_headers).json()["job"]
    saved = api.post(
        "/views",
        json={"name": f"audit {uuid.uuid4().hex[:6]}", "shared": True},
        headers=admin_headers,
    ).json()["view"]
    api.delete(f"/views/{saved['id']}", headers=admin_headers)
    me = api.get("/auth/me", headers=admin_headers).json()["user"]["id"]

    def records(**params: Any) -> list[dict[str, Any]]:
        response = api.get("/audit", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["records"]
        return found

    def recorded(action: str, target: str) -> bool:
        return len(records(action=action, target=target)) == 1

    for action, target in [
        ("bulk_move.started", job["id"]),
        ("export.requested", export["id"]),
        ("view.saved", saved["id"]),
        ("view.shared", saved["id"]),
        ("view.deleted", saved["id"]),
    ]:
        eventually_sync(
            lambda a=action, t=target: recorded(a, t),  # type: ignore[misc]
            what=f"{action} of {target} in the audit log",
            timeout_s=30,
        )
    # The single move, and the job's move of the same order: one row each, the job's linked to
    # the job's own row.
    eventually_sync(
        lambda: (
            len(records(action="order.status_moved", target=first, limit=10)) == 2
            and len(records(action="order.status_moved", target=second)) == 1
        ),
        what="the single move and each of the job's moves in the audit log",
        timeout_s=JOB_WAIT_S,
    )
    by_job = records(action="order.status_moved", target=first, limit=10)
    (status_moved,) = [r for r in by_job if "bulkMove" not in r["details"]]
    (job_move,) = [r for r in by_job if "bulkMove" in r["details"]]
    assert job_move["details"] == {"from": "CONFIRMED", "to": "CANCELLED", "bulkMove": job["id"]}
    assert job_move["actorId"] == me
    assert status_moved["actorId"] == me
    assert status_moved["requestId"] == request_id
    assert status_moved["clientAddress"]
    assert status_moved["details"] == {"from": "PLACED", "to": "CONFIRMED"}
    assert status_moved["outcome"] == "succeeded"
    # Filters narrow the page; paging walks it.
    assert all(r["actorId"] == me for r in records(actorId=me, limit=10))
    page = api.get("/audit", params={"limit": 1, "page": 2}, headers=admin_headers).json()
    assert page["pagination"]["limit"] == 1
    assert len(page["records"]) == 1
    # Append-only: no route changes or removes a record.
    for method in ("PATCH", "PUT", "DELETE"):
        assert api.request(method, "/audit", headers=admin_headers).status_code in {404, 405}
    assert second  # the other order is moved by the job, not by a single move


@pytest.mark.timeout(600)
def test_bulk_shipping_needs_every_tracking_number_and_refusals_say_which_order_and_why(
    api: httpx.Client, mock_channels_url: str, admin_headers: dict[str, str]
) -> None:
    window = a_window()
    view = {**window, "channel": ["amazon"]}
    place_orders(mock_channels_url, "amazon", 4, window)
    wait_for_orders(api, admin_headers, view, 4)
    orders = orders_of(api, admin_headers, view)
    ids = [o["id"] for o in orders]
    external = {o["id"]: o["externalId"] for o in orders}
    assert move_page(api, admin_headers, ids[:3], "CONFIRMED")["moved"]
    assert move_page(api, admin_headers, ids[3:], "CANCELLED")["moved"] == ids[3:]

    # A tracking number missing for one order: refused before anything moves, naming it.
    partial = {external[ids[0]]: "AWB-0", ids[1]: "AWB-1"}
    for target in ({"orderIds": ids[:3]}, {"view": view}):
        refused = api.post(
            "/bulk-moves",
            json={
                "status": "SHIPPED",
                **target,
                "shipment": {"carrier": "Delhivery", "trackingNumbers": partial},
            },
            headers=admin_headers,
        )
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "tracking_number_missing"
        assert external[ids[2]] in error["message"]
        assert {o["orderId"] for o in error["details"]["orders"]} >= {ids[2]}
    assert {o["status"] for o in orders_of(api, admin_headers, view)} == {"CONFIRMED", "CANCELLED"}
    # Without a carrier, or cancelling without a reason: a 422 too.
    for body in (
        {"status": "SHIPPED", "orderIds": ids[:1]},
        {"status": "CANCELLED", "view": view},
    ):
        assert api.post("/bulk-moves", json=body, headers=admin_headers).status_code == 422

    # Every order with its tracking number (by external id or id): each gets its own shipment.
    tracking = {external[i]: f"AWB-{n}" for n, i in enumerate(ids[:2])} | {ids[2]: "AWB-2"}
    tracking[external[ids[3]]] = "AWB-3"
    response = api.post(
        "/bulk-moves",
        json={
            "status": "SHIPPED",
            "view": view,
            "shipment": {"carrier": "Delhivery", "trackingNumbers": tracking},
        },
        headers=admin_headers,
    )
    assert response.status_code == 202, response.text
    job = wait_for_job(api, admin_headers, response.json()["job"]["id"])
    assert (job["moved"], job["refused"]) == (3, 1)
    shipped = {o["id"]: o for o in orders_of(api, admin_headers, view)}
    for n, order_id in enumerate(ids[:3]):
        assert shipped[order_id]["shipment"] == {
            "carrier": "Delhivery",
            "trackingNumber": f"AWB-{n}",
        }
    # The refused one is listed as an admin knows it, with the server's reason in words.
    page = api.get(
        f"/jobs/{job['id']}/items", params={"outcome": "refused"}, headers=admin_headers
    ).json()
    (item,) = page["items"]
    assert item["orderId"] == ids[3]
    assert item["externalId"] == external[ids[3]]
    assert item["channel"] == "amazon"
    assert item["customer"] == orders[3]["customer"]["name"]
    assert item["code"] == "already_final"
    assert "cancelled" in item["message"]
    assert "shipped" in item["message"]
    # A page's refusals say the same.
    result = move_page(api, admin_headers, ids[3:], "CONFIRMED")
    (refusal,) = result["refused"]
    assert (refusal["externalId"], refusal["channel"]) == (external[ids[3]], "amazon")
    assert refusal["customer"] == orders[3]["customer"]["name"]
    assert "cancelled" in refusal["message"]


def test_the_audit_log_is_searched_by_email_action_part_and_external_order_id(
    api: httpx.Client, mock_channels_url: str, admin_headers: dict[str, str]
) -> None:
    window = a_window()
    view = {**window, "channel": ["website"]}
    place_orders(mock_channels_url, "website", 1, window)
    wait_for_orders(api, admin_headers, view, 1)
    (order,) = orders_of(api, admin_headers, view)
    assert move_page(api, admin_headers, [order["id"]], "CONFIRMED")["moved"]
    me = api.get("/auth/me", headers=admin_headers).json()["user"]

    def records(**params: Any) -> list[dict[str, Any]]:
        response = api.get("/audit", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["records"]
        return found

    # By the order's external id: its own row, naming the page's bulk move it was part of.
    eventually_sync(
        lambda: len(records(target=order["externalId"], action="order.status_moved")) == 1,
        what="the order's move in the audit log by its external id",
        timeout_s=60,
    )
    (moved,) = records(target=order["externalId"], action="order.status_moved")
    assert moved["target"] == order["id"]
    assert moved["targetExternalId"] == order["externalId"]
    assert moved["details"]["from"] == "PLACED"
    assert moved["details"]["to"] == "CONFIRMED"
    (page_move,) = records(target=moved["details"]["bulkMove"])
    assert page_move["action"] == "bulk_move.applied"
    # "bulk" is part of an action's name, not an invalid request; an email part finds its actor.
    assert {r["action"] for r in records(action="bulk", limit=200)} <= {
        "bulk_move.applied",
        "bulk_move.started",
        "bulk_move.cancelled",
    }
    assert records(action="bulk")
    assert all(r["actorId"] == me["id"] for r in records(actor=me["email"].upper()[:6]))
    assert records(actor=me["email"])
    actions = api.get("/audit/actions", headers=admin_headers).json()["actions"]
    assert {"order.status_moved", "bulk_move.applied"} <= set(actions)
