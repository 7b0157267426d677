from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.normalizers import NORMALIZERS, NormalizationError
from ingest.normalizers.common import indian_phone
from orderhub_common.events import Channel, OrderStatus

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).parent / "samples"


def sample(channel: Channel) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / f"{channel}.json").read_text())
    return loaded


def test_website_order_normalizes_from_shopify_fields() -> None:
    order = NORMALIZERS[Channel.WEBSITE](sample(Channel.WEBSITE))
    assert order.external_id == "6336941591609"
    assert order.customer.name == "Arjun Mehta"
    assert order.customer.phone == "+919024792185"
    assert order.customer.email == "arjun.mehta32@outlook.com"
    assert order.status == OrderStatus.DELIVERED
    assert order.total == 5396.0
    assert order.currency == "INR"
    assert sum(item.price * item.qty for item in order.items) == order.total
    # Shopify speaks shop time (IST); the canonical order speaks UTC.
    assert order.placed_at == datetime(2026, 11, 24, 9, 51, 14, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 27, 5, 32, 47, tzinfo=UTC)


def test_amazon_order_normalizes_with_unit_prices_from_line_totals() -> None:
    order = NORMALIZERS[Channel.AMAZON](sample(Channel.AMAZON))
    assert order.external_id == "407-5353804-1959081"
    assert order.status == OrderStatus.SHIPPED
    assert order.customer.phone == "+916101536640"
    assert order.customer.email == "538041959081@marketplace.amazon.in"
    ring = next(item for item in order.items if item.sku == "RNG-OXD-007")
    assert (ring.qty, ring.price) == (2, 699.0)
    assert sum(item.price * item.qty for item in order.items) == order.total == 3597.0
    assert order.updated_at == datetime(2026, 11, 25, 6, 12, 9, tzinfo=UTC)


def test_an_amazon_order_without_total_or_buyer_details_still_arrives() -> None:
    # Amazon leaves OrderTotal out of pending orders, and the buyer's name, phone and full
    # address out of any order read without a restricted data token.
    native = without(
        without(without(sample(Channel.AMAZON), "OrderTotal"), "BuyerInfo"), "ShippingAddress"
    )

    order = NORMALIZERS[Channel.AMAZON](native)

    assert order.total == sum(item.price * item.qty for item in order.items)
    assert order.currency == "INR"
    assert (order.customer.name, order.customer.phone) == ("Amazon buyer", "withheld by Amazon")
    assert order.shipping_address is None


def test_blinkit_order_normalizes_paise_and_epoch_milliseconds() -> None:
    order = NORMALIZERS[Channel.BLINKIT](sample(Channel.BLINKIT))
    assert order.external_id == "BLK825008400314"
    assert order.status == OrderStatus.CONFIRMED
    assert order.customer.phone == "+919809288377"
    assert order.customer.email is None
    assert [(i.sku, i.qty, i.price) for i in order.items] == [
        ("EAR-HOP-SLV-008", 2, 1199.0),
        ("MTK-KND-PRL-019", 2, 899.0),
    ]
    assert order.total == 4196.0
    assert order.placed_at == datetime.fromtimestamp(1795513874.124, UTC)
    assert order.updated_at.microsecond == 125_000


IN_TRANSIT = [{"shipment_status": "in_transit"}]
DELIVERED = [{"shipment_status": "delivered"}]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"financial_status": "pending", "fulfillment_status": None, "fulfillments": []}, "PLACED"),
        ({"financial_status": "paid", "fulfillment_status": None, "fulfillments": []}, "CONFIRMED"),
        ({"fulfillment_status": "fulfilled", "fulfillments": IN_TRANSIT}, "SHIPPED"),
        ({"fulfillment_status": "fulfilled", "fulfillments": DELIVERED}, "DELIVERED"),
        ({"cancelled_at": "2026-11-25T10:00:00+05:30", "financial_status": "voided"}, "CANCELLED"),
    ],
)
def test_website_status_mapping(changes: dict[str, Any], expected: str) -> None:
    native = sample(Channel.WEBSITE) | changes
    assert NORMALIZERS[Channel.WEBSITE](native).status == OrderStatus(expected)


@pytest.mark.parametrize(
    ("order_status", "easy_ship", "expected"),
    [
        ("Pending", "PendingSchedule", "PLACED"),
        ("PendingAvailability", None, "PLACED"),
        ("Unshipped", "PendingPickUp", "CONFIRMED"),
        ("PartiallyShipped", None, "SHIPPED"),
        ("Shipped", "PickedUp", "SHIPPED"),
        ("Shipped", "Delivered", "DELIVERED"),
        ("InvoiceUnconfirmed", None, "SHIPPED"),
        ("Canceled", "LabelCanceled", "CANCELLED"),
    ],
)
def test_amazon_status_mapping(order_status: str, easy_ship: str | None, expected: str) -> None:
    native = sample(Channel.AMAZON) | {
        "OrderStatus": order_status,
        "EasyShipShipmentStatus": easy_ship,
    }
    assert NORMALIZERS[Channel.AMAZON](native).status == OrderStatus(expected)


@pytest.mark.parametrize(
    ("native_status", "expected"),
    [
        ("created", "PLACED"),
        ("accepted", "CONFIRMED"),
        ("dispatched", "SHIPPED"),
        ("delivered", "DELIVERED"),
        ("cancelled", "CANCELLED"),
    ],
)
def test_blinkit_status_mapping(native_status: str, expected: str) -> None:
    native = sample(Channel.BLINKIT) | {"status": native_status}
    assert NORMALIZERS[Channel.BLINKIT](native).status == OrderStatus(expected)


def without(native: dict[str, Any], *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(native)
    target = broken
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return broken


def changed(native: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    broken = copy.deepcopy(native)
    target = broken
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return broken


WEBSITE = sample(Channel.WEBSITE)
AMAZON = sample(Channel.AMAZON)
BLINKIT = sample(Channel.BLINKIT)


@pytest.mark.parametrize(
    ("channel", "native", "reason"),
    [
        (Channel.WEBSITE, without(WEBSITE, "line_items"), "missing field 'line_items'"),
        (Channel.WEBSITE, changed(WEBSITE, [], "line_items"), "items"),
        (Channel.WEBSITE, changed(WEBSITE, "12,99.00", "total_price"), "not an amount"),
        (Channel.WEBSITE, changed(WEBSITE, "2026-11-24T15:21:14", "updated_at"), "time zone"),
        (Channel.WEBSITE, changed(WEBSITE, "yesterday", "created_at"), "malformed"),
        (Channel.WEBSITE, changed(WEBSITE, -2, "line_items", 0, "quantity"), "qty"),
        (Channel.AMAZON, changed(AMAZON, "Unfulfillable", "OrderStatus"), "Unfulfillable"),
        (Channel.AMAZON, without(AMAZON, "OrderItems"), "missing field 'OrderItems'"),
        (Channel.AMAZON, changed(AMAZON, "rupees", "OrderTotal", "CurrencyCode"), "currency"),
        (Channel.AMAZON, changed(AMAZON, 0, "OrderItems", 0, "QuantityOrdered"), "QuantityOrdered"),
        (Channel.AMAZON, changed(AMAZON, "call me", "ShippingAddress", "Phone"), "phone"),
        (Channel.BLINKIT, changed(BLINKIT, "teleported", "status"), "teleported"),
        (Channel.BLINKIT, changed(BLINKIT, "1795513874124", "updated_at_ms"), "epoch"),
        (Channel.BLINKIT, changed(BLINKIT, 1199.5, "items", 0, "unit_price_paise"), "paise"),
        (Channel.BLINKIT, without(BLINKIT, "customer"), "missing field 'customer'"),
    ],
)
def test_malformed_native_orders_raise_a_clear_normalization_error(
    channel: Channel, native: dict[str, Any], reason: str
) -> None:
    with pytest.raises(NormalizationError) as raised:
        NORMALIZERS[channel](native)
    assert raised.value.channel == channel
    assert reason in str(raised.value)
    assert raised.value.external_id is not None
    assert raised.value.external_id in str(raised.value)


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("garbage", [None, "an order", 42, [], {}])
def test_anything_that_is_not_an_order_is_a_normalization_error(
    channel: Channel, garbage: Any
) -> None:
    with pytest.raises(NormalizationError):
        NORMALIZERS[channel](garbage)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9876543210", "+919876543210"),
        ("+91 98765 43210", "+919876543210"),
        ("+91-98765-43210", "+919876543210"),
        ("919876543210", "+919876543210"),
        ("09876543210", "+919876543210"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_become_e164(raw: str, expected: str) -> None:
    assert indian_phone(raw) == expected


# A NUL (PostgreSQL refuses it in text and JSONB), an escape sequence, a right-to-left override
# and a line break, as a channel might send them in any free-text field.
HOSTILE = "\x00\x1b[31m\u202e\r\n"


@pytest.mark.parametrize(
    ("channel", "native"),
    [
        (Channel.WEBSITE, changed(WEBSITE, f"Ar{HOSTILE}jun", "customer", "first_name")),
        (Channel.WEBSITE, changed(WEBSITE, f"New{HOSTILE}Delhi", "shipping_address", "city")),
        (Channel.WEBSITE, changed(WEBSITE, f"Flat 4{HOSTILE}", "shipping_address", "address1")),
        (Channel.WEBSITE, changed(WEBSITE, f"RNG{HOSTILE}-1", "line_items", 0, "sku")),
        (
            Channel.WEBSITE,
            changed(WEBSITE, f"Del{HOSTILE}hivery", "fulfillments", 0, "tracking_company"),
        ),
        (Channel.AMAZON, changed(AMAZON, f"Vivaan{HOSTILE}", "BuyerInfo", "BuyerName")),
        (
            Channel.AMAZON,
            changed(AMAZON, f"Tamil{HOSTILE}Nadu", "ShippingAddress", "StateOrRegion"),
        ),
        (Channel.AMAZON, changed(AMAZON, f"Black{HOSTILE}Bead", "OrderItems", 0, "Title")),
        (Channel.BLINKIT, changed(BLINKIT, f"Riya{HOSTILE}", "customer", "name")),
        (Channel.BLINKIT, changed(BLINKIT, f"EAR{HOSTILE}", "items", 0, "item_code")),
    ],
)
def test_control_and_bidi_characters_from_a_channel_are_cleaned_out(
    channel: Channel, native: dict[str, Any]
) -> None:
    order = NORMALIZERS[channel](native)

    published = order.model_dump_json()
    for refused in ("\\u0000", "\\u001b", "\\u202e", "\\r", "\\n"):
        assert refused not in published
    assert "[31m" in published  # the rest of the text stays: only the characters are dropped


@pytest.mark.parametrize(
    ("channel", "native", "reason"),
    [
        # Text of nothing but control characters: no name left, the order is refused by name.
        (Channel.BLINKIT, changed(BLINKIT, "\x00\x1b", "customer", "name"), "non-empty text"),
        # An id is never cleaned (a cleaned id could name another order): refused.
        (Channel.AMAZON, changed(AMAZON, "407-5353804\x00", "AmazonOrderId"), "external_id"),
        (Channel.BLINKIT, changed(BLINKIT, "BLK\u202e825", "order_id"), "external_id"),
    ],
)
def test_channel_text_that_cannot_be_cleaned_is_refused_with_a_reason(
    channel: Channel, native: dict[str, Any], reason: str
) -> None:
    with pytest.raises(NormalizationError) as raised:
        NORMALIZERS[channel](native)
    assert reason in str(raised.value)
