"""The one free-text rule: what people may write (a 422 naming the field otherwise) and what a
channel's text becomes (cleaned, never refused for a stray character)."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI
from pydantic import Field, TypeAdapter, ValidationError

from orderhub_common.errors import install_error_handlers
from orderhub_common.events import CamelModel, ChannelOrder
from orderhub_common.text import ChannelText, FreeText, SingleLineText, cleaned

pytestmark = pytest.mark.unit

REFUSED_EVERYWHERE = {
    "nul": "\x00",
    "escape": "\x1b[2J",
    "carriage return": "\r",
    "delete": "\x7f",
    "c1 control": "\x9b",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "first strong isolate": "\u2068",
    "pop directional isolate": "\u2069",
    "lone surrogate": "\ud800",
}

single_line = TypeAdapter(Annotated[SingleLineText, Field(min_length=1, max_length=100)])
free_text = TypeAdapter(Annotated[FreeText, Field(min_length=1, max_length=1000)])


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE.values(), ids=REFUSED_EVERYWHERE.keys())
def test_single_line_and_free_text_refuse_control_and_bidi_characters(char: str) -> None:
    for text_type in (single_line, free_text):
        with pytest.raises(ValidationError, match="must not contain control characters"):
            text_type.validate_python(f"Blue{char}Dart")


@pytest.mark.parametrize("char", ["\n", "\t"], ids=["line feed", "tab"])
def test_free_text_keeps_line_feeds_and_tabs_a_single_line_refuses_them(char: str) -> None:
    assert free_text.validate_python(f"first{char}second") == f"first{char}second"
    with pytest.raises(ValidationError):
        single_line.validate_python(f"first{char}second")


def test_text_people_write_is_kept_nfc_normalized_whatever_its_script() -> None:
    decomposed = "Jose\u0301 \u0930\u093e\u092e \u0645\u062d\u0645\u062f \u4e2d\u6587 \U0001f600"
    assert single_line.validate_python(decomposed) == "Jos\u00e9" + decomposed[5:]
    # Joiners belong to Indic scripts and emoji: they are not controls.
    assert single_line.validate_python("\u0915\u094d\u200d\u0937") == "\u0915\u094d\u200d\u0937"


def test_lengths_still_apply() -> None:
    with pytest.raises(ValidationError):
        single_line.validate_python("x" * 101)
    with pytest.raises(ValidationError):
        single_line.validate_python("")


class ShipmentBody(CamelModel):
    carrier: Annotated[SingleLineText, Field(min_length=1, max_length=100)]
    tracking_number: Annotated[SingleLineText, Field(min_length=1, max_length=100)]


class MoveBody(CamelModel):
    note: Annotated[FreeText, Field(max_length=1000)] | None = None
    shipment: ShipmentBody | None = None


async def test_a_request_with_a_control_character_is_a_422_naming_the_field() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/move")
    async def move(body: MoveBody) -> dict[str, str]:
        return {"ok": "yes"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        bad_tracking = await client.post(
            "/move", json={"shipment": {"carrier": "DHL", "trackingNumber": "AB\x001"}}
        )
        bad_note = await client.post("/move", json={"note": "ok\u202eevil"})
        fine = await client.post("/move", json={"note": "two\nlines"})

    assert bad_tracking.status_code == 422
    error = bad_tracking.json()["error"]
    assert error["code"] == "validation_error"
    assert [detail["field"] for detail in error["details"]] == ["shipment.trackingNumber"]
    assert "shipment.trackingNumber" in error["message"]
    assert bad_note.status_code == 422
    assert [detail["field"] for detail in bad_note.json()["error"]["details"]] == ["note"]
    assert fine.status_code == 200


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Ar\x00jun", "Arjun"),
        ("Ar\x1b[31mjun", "Ar[31mjun"),
        ("\u202eDelhi\u202c", "Delhi"),
        ("Flat 4\r\nMG Road", "Flat 4 MG Road"),
        ("Jose\u0301", "Jos\u00e9"),
        ("Arjun Mehta", "Arjun Mehta"),
    ],
)
def test_channel_text_is_cleaned_not_refused(sent: str, kept: str) -> None:
    assert cleaned(sent) == kept
    assert TypeAdapter(ChannelText).validate_python(sent) == kept


def test_an_ingested_order_read_from_json_carries_no_nul() -> None:
    # What the orders consumer reads from the broker: JSON may escape a NUL as \u0000.
    body = (
        '{"channel":"website","externalId":"W-1","customer":{"name":"A\\u0000B",'
        '"phone":"+919876543210"},"items":[{"sku":"S\\u001b1","name":"Ring\\u202e","qty":1,'
        '"price":10}],"total":10,"currency":"INR","status":"PLACED",'
        '"placedAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z",'
        '"shipment":{"carrier":"Blue\\r\\nDart","trackingNumber":"T\\u00001"}}'
    )
    order = ChannelOrder.model_validate_json(body)

    assert order.customer.name == "AB"
    assert (order.items[0].sku, order.items[0].name) == ("S1", "Ring")
    assert order.shipment is not None
    assert (order.shipment.carrier, order.shipment.tracking_number) == ("Blue Dart", "T1")
