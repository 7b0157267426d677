"""Pure pieces of working on many orders: CSV cells a spreadsheet cannot execute, signed
download links, the bulk move request, and how a resumed job recognises its own moves."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from orderhub_common.events import (
    Channel,
    Order,
    OrderStatus,
    PaymentMethod,
    Shipment,
    ShippingAddress,
    StatusHistoryEntry,
    StatusSource,
)
from orderhub_common.security import Role
from orderhub_common.testing import order_fields
from orders import csv_export
from orders.changes import job_event_id, moved_by_job
from orders.download_links import DownloadLinks, LinkHolder, SignedLink
from orders.repository import StoredOrder
from orders.schemas import BulkStatusMove, OrderStatusChange, SavedViewWrite

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+91 98765 43210", "'+91 98765 43210"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Asha Rao", "Asha Rao"),
        ("a=b", "a=b"),
        (None, ""),
        (12.5, "12.5"),
    ],
)
def test_cells_a_spreadsheet_would_evaluate_are_escaped(value: object, cell: str) -> None:
    assert csv_export.safe_cell(value) == cell


@pytest.mark.parametrize(
    ("phone", "cell"),
    [
        ("+91 98765 43210", '="+91 98765 43210"'),
        ("098765-43210", '="098765-43210"'),
        ("(080) 2345.6789", '="(080) 2345.6789"'),
        # Anything that is not only a phone number keeps the formula guard.
        ('+1"&CMD()&"', '\'+1"&CMD()&"'),
        ("=1+1", "'=1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("", ""),
    ],
)
def test_phone_numbers_are_written_as_text_without_a_visible_quote(phone: str, cell: str) -> None:
    assert csv_export.phone_cell(phone) == cell


def _order(**changes: object) -> Order:
    order = Order.model_validate(
        order_fields(
            id="ord_1",
            external_id="=cmd|' /C calc'!A0",
            customer={"name": "@evil", "phone": "+91 98765 43210", "email": "a@example.com"},
            items=[
                {"sku": "RING-1", "name": "Ring, gold", "qty": 2, "price": 10.0},
                {"sku": "-X", "name": "Chain", "qty": 1, "price": 5.5},
            ],
            total=25.5,
            status_history=[
                StatusHistoryEntry(
                    status=OrderStatus.PLACED, changed_at=T0, source=StatusSource.CHANNEL
                )
            ],
            placed_at=T0,
            created_at=T0,
            updated_at=T0,
        )
    )
    return order.model_copy(update=changes)


def _fulfilled_order() -> Order:
    return _order(
        payment_method=PaymentMethod.CASH_ON_DELIVERY,
        shipping_address=ShippingAddress(
            name="Asha Rao",
            line1="12 MG Road",
            city="Bengaluru",
            state="KA",
            postal_code="560001",
            country="IN",
        ),
        shipment=Shipment(carrier="Delhivery", tracking_number="-DL123"),
        tags=["vip", "gift wrap"],
    )


def test_an_order_is_one_row_with_the_list_columns_items_and_customer() -> None:
    data = csv_export.header() + csv_export.encode_rows(
        [csv_export.row_of(_fulfilled_order().model_dump(mode="json", by_alias=True))]
    )
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))

    record = dict(zip(header, row, strict=True))
    assert record["Order ID"] == "ord_1"
    assert record["External ID"] == "'=cmd|' /C calc'!A0"
    assert record["Customer name"] == "'@evil"
    # Shown by a spreadsheet as the text +91 98765 43210, with no apostrophe in sight.
    assert record["Customer phone"] == '="+91 98765 43210"'
    assert record["Customer email"] == "a@example.com"
    assert record["Item count"] == "3"
    assert record["Items"] == "2 x RING-1 Ring, gold @ 10.0; 1 x -X Chain @ 5.5"
    assert record["Total"] == "25.5"
    assert record["Payment method"] == "cash_on_delivery"
    assert record["Ship to"] == "Asha Rao, 12 MG Road, Bengaluru, KA, 560001, IN"
    assert (record["Carrier"], record["Tracking number"]) == ("Delhivery", "'-DL123")
    assert record["Tags"] == "vip; gift wrap"
    # No cell but the phone's text formula starts a formula.
    phone_column = header.index("Customer phone")
    assert not any(
        cell.startswith(("=", "+", "-", "@")) for n, cell in enumerate(row) if n != phone_column
    )


def test_a_download_link_works_until_it_expires_and_only_for_its_export() -> None:
    links = DownloadLinks(b"secret", ttl_s=300)
    holder = LinkHolder("user-1", Role.VIEWER, 0)
    url, expires = links.link("job_1", holder, now=1000)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    signature = query["signature"]

    def link(expires: int = 1300, signature: str = signature) -> SignedLink:
        return SignedLink(holder, 1000, expires, signature)

    assert url.startswith("/api/exports/job_1/download?user=user-1&role=viewer&version=0&")
    assert (expires, query["issued"], query["expires"]) == (1300, "1000", "1300")
    assert links.valid("job_1", link(), now=1299)
    assert not links.valid("job_1", link(), now=1301)  # expired
    assert not links.valid("job_2", link(), now=1000)  # another export
    assert not links.valid("job_1", link(expires=1299), now=1000)  # another expiry, forged
    assert not DownloadLinks(b"other", 300).valid("job_1", link(), now=1000)
    assert not links.valid("job_1", link(signature="9\U000b631c"), now=1000)  # not even ASCII


@pytest.mark.parametrize(
    "body",
    [
        {"status": "CONFIRMED"},
        {"status": "CONFIRMED", "orderIds": ["a"], "view": {}},
        {"status": "CONFIRMED", "orderIds": []},
        {"status": "CONFIRMED", "orderIds": ["a"] * 101},
        {"status": "CONFIRMED", "view": {"sortBy": "colour"}},
        {"status": "CONFIRMED", "view": {"from": "2026-02-01", "to": "2026-01-01"}},
        {"status": "NOPE", "orderIds": ["a"]},
    ],
)
def test_a_bulk_move_names_either_a_page_of_orders_or_a_view(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BulkStatusMove.model_validate(body)


def test_a_bulk_move_over_a_view_keeps_its_filters_and_sort() -> None:
    move = BulkStatusMove.model_validate(
        {
            "status": "CONFIRMED",
            "view": {"channel": ["amazon"], "search": "ring", "sortBy": "total"},
        }
    )

    assert move.view is not None
    assert move.view.channel == [Channel.AMAZON]
    assert move.view.sort_by.value == "total"


@pytest.mark.parametrize(
    "body",
    [
        # Shipping needs a shipment, cancelling (final) a reason: alone or in a bulk move.
        {"status": "SHIPPED", "orderIds": ["a"]},
        {"status": "SHIPPED", "view": {}},
        {"status": "SHIPPED", "orderIds": ["a"], "shipment": {"trackingNumbers": {"a": "1"}}},
        {
            "status": "SHIPPED",
            "orderIds": ["a"],
            "shipment": {"carrier": "", "trackingNumbers": {}},
        },
        {"status": "CANCELLED", "orderIds": ["a"]},
        {"status": "CANCELLED", "view": {}, "note": "  "},
        {
            "status": "CONFIRMED",
            "orderIds": ["a"],
            "shipment": {"carrier": "Delhivery", "trackingNumbers": {"a": "1"}},
        },
    ],
)
def test_a_bulk_move_needs_what_a_single_move_needs(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BulkStatusMove.model_validate(body)
    if "shipment" not in body:
        single = {k: v for k, v in body.items() if k in {"status", "note"}}
        with pytest.raises(ValidationError):
            OrderStatusChange.model_validate(single)


def test_a_bulk_shipment_finds_each_orders_tracking_number_by_id_or_external_id() -> None:
    move = BulkStatusMove.model_validate(
        {
            "status": "SHIPPED",
            "orderIds": ["ord_1", "ord_2"],
            "shipment": {"carrier": "Delhivery", "trackingNumbers": {"ord_1": "T1", "B-2": "T2"}},
        }
    )
    assert move.shipment is not None
    assert move.shipment.tracking_for("ord_1", "B-1") == "T1"
    assert move.shipment.tracking_for("ord_2", "B-2") == "T2"
    assert move.shipment.tracking_for("ord_3", "B-3") is None
    cancel = BulkStatusMove.model_validate(
        {"status": "CANCELLED", "orderIds": ["ord_1"], "note": "customer asked"}
    )
    assert cancel.note == "customer asked"


def test_a_saved_view_needs_a_name_and_known_columns() -> None:
    with pytest.raises(ValidationError):
        SavedViewWrite.model_validate({"name": ""})
    with pytest.raises(ValidationError):
        SavedViewWrite.model_validate({"name": "x", "columns": ["<script>"]})


def test_a_job_recognises_the_move_it_made_by_its_event_id() -> None:
    stored = StoredOrder(_order(), revision=3, channel_updated_at=T0)
    mine = str(job_event_id("job_1", "ord_1", 2))
    moved = StoredOrder(_order(), revision=3, channel_updated_at=T0, announced=frozenset({mine}))

    assert not moved_by_job(stored, "job_1")
    assert moved_by_job(moved, "job_1")
    assert not moved_by_job(moved, "job_2")
    # Each attempt from another revision is another move, with another id.
    assert job_event_id("job_1", "ord_1", 2) != job_event_id("job_1", "ord_1", 3)
