"""Orders as CSV rows for a spreadsheet: the list's columns, the items and the customer, and
what fulfilment needs (payment, address, carrier and tracking) with the admins' tags.

Pure. A cell that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``,
``@``, or a tab or carriage return that hides one) is written with a leading apostrophe, so
opening an export never runs anything a customer typed into an order.

A phone number ("+91 98765 43210") starts with ``+`` too, and behind an apostrophe a spreadsheet
shows the apostrophe. A phone cell made only of digits, spaces and ``+().-`` is written as the
text formula ``="+91 98765 43210"`` instead: every spreadsheet shows the number as text (no
quote, no leading zero or ``+`` lost, never a sum), and such a cell holds nothing a formula
could run. Any other phone cell gets the apostrophe like every other cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

HEADER: tuple[str, ...] = (
    "Order ID",
    "External ID",
    "Channel",
    "Status",
    "Placed at",
    "Updated at",
    "Total",
    "Currency",
    "Customer name",
    "Customer phone",
    "Customer email",
    "Item count",
    "Items",
    "Payment method",
    "Ship to",
    "Carrier",
    "Tracking number",
    "Tags",
)

_PHONE_COLUMN = HEADER.index("Customer phone")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, neutralized if a spreadsheet would evaluate it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


_PHONE_ONLY = re.compile(r"^\+?[0-9(][0-9 ().-]{0,40}$")


def phone_cell(value: object) -> str:
    """A phone number a spreadsheet shows as the text it is (see the module's note)."""
    text = "" if value is None else str(value)
    if _PHONE_ONLY.match(text):
        return f'="{text}"'
    return safe_cell(text)


def items_cell(items: Sequence[dict[str, Any]]) -> str:
    return "; ".join(
        f"{item.get('qty', '')} x {item.get('sku', '')} {item.get('name', '')} @ "
        f"{item.get('price', '')}"
        for item in items
    )


def address_cell(address: dict[str, Any] | None) -> str:
    if not address:
        return ""
    parts = ("name", "line1", "line2", "city", "state", "postalCode", "country", "phone")
    return ", ".join(str(address[part]) for part in parts if address.get(part))


def row_of(order: dict[str, Any]) -> list[str]:
    """One order as the API serves it (camelCase JSON) -> one CSV row."""
    customer = order.get("customer") or {}
    items = order.get("items") or []
    shipment = order.get("shipment") or {}
    cells = [
        order.get("id"),
        order.get("externalId"),
        order.get("channel"),
        order.get("status"),
        order.get("placedAt"),
        order.get("updatedAt"),
        order.get("total"),
        order.get("currency"),
        customer.get("name"),
        customer.get("phone"),
        customer.get("email"),
        sum(int(item.get("qty") or 0) for item in items),
        items_cell(items),
        order.get("paymentMethod"),
        address_cell(order.get("shippingAddress")),
        shipment.get("carrier"),
        shipment.get("trackingNumber"),
        "; ".join(order.get("tags") or []),
    ]
    row = [safe_cell(cell) for cell in cells]
    row[_PHONE_COLUMN] = phone_cell(customer.get("phone"))
    return row


def encode_rows(rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode()


def header() -> bytes:
    # A byte order mark, so spreadsheets read the names of customers as UTF-8.
    return "\ufeff".encode() + encode_rows([HEADER])
