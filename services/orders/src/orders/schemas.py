"""Request and response models of the orders API (CONTRACT.md section 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)

from orderhub_common.events import CamelModel, Channel, Customer, Order, OrderStatus, Shipment
from orderhub_common.text import FreeText, SingleLineText

# An order as the API serves it: exactly the canonical order.
OrderRead = Order


class OrderEnvelope(CamelModel):
    order: OrderRead
    # The statuses an admin may move this order to next, from the state machine: the SPA
    # offers these moves rather than keeping its own copy of the rules.
    allowed_moves: list[OrderStatus]


class Pagination(CamelModel):
    page: int
    limit: int
    total: int
    total_pages: int

    @classmethod
    def of(cls, page: int, limit: int, total: int) -> Pagination:
        """Page ``page`` of ``total`` rows, ``limit`` a page."""
        return cls(page=page, limit=limit, total=total, total_pages=-(-total // limit))


class OrderPagination(Pagination):
    """The order list's page, with keyset paging's cursors."""

    total_is_estimate: bool = Field(
        False,
        description="`total` (and so `totalPages`) is an estimate, rounded to two significant "
        "figures: a search or tag matching more than 1,000 orders is not counted to the last one.",
    )
    next_cursor: str | None = Field(
        None,
        description="Opaque: pass as `cursor` for the page after this one; null on the last page.",
    )
    prev_cursor: str | None = Field(
        None,
        description="Opaque: pass as `cursor` for the page before this one; null on the first.",
    )
    last_cursor: str | None = Field(
        None, description="Opaque: pass as `cursor` for the view's last page."
    )


class OrderPage(CamelModel):
    orders: list[OrderRead]
    pagination: OrderPagination


Note = Annotated[FreeText, Field(max_length=1000)]


class ShipmentChange(Shipment):
    """The carrier and tracking number an admin gives with the move to SHIPPED: one line each."""

    carrier: Annotated[SingleLineText, Field(min_length=1, max_length=100)]
    tracking_number: Annotated[SingleLineText, Field(min_length=1, max_length=100)]


# What a move needs besides its status, alone or in a bulk move (CONTRACT section 4): the move
# to SHIPPED its shipment, the move to CANCELLED (final) a reason, given as the move's note.
SHIPMENT_NEEDED = "a move to SHIPPED needs a shipment: the carrier and a tracking number"
REASON_NEEDED = "a move to CANCELLED needs a reason (the note): cancelling is final"


def check_move_needs(status: OrderStatus, *, note: str | None, has_shipment: bool) -> None:
    """The same rules for a single and a bulk move (a ``ValueError`` is a 422)."""
    if has_shipment and status != OrderStatus.SHIPPED:
        raise ValueError("a shipment goes only with the move to SHIPPED")
    if status == OrderStatus.SHIPPED and not has_shipment:
        raise ValueError(SHIPMENT_NEEDED)
    if status == OrderStatus.CANCELLED and not (note or "").strip():
        raise ValueError(REASON_NEEDED)


class OrderStatusChange(CamelModel):
    """An admin's status move. An unknown status is a 422 before anything is read. The move to
    SHIPPED carries its ``shipment`` (carrier and tracking number), the move to CANCELLED a
    reason in ``note``."""

    status: OrderStatus
    note: Note | None = None
    shipment: ShipmentChange | None = None

    @model_validator(mode="after")
    def _what_the_move_needs(self) -> OrderStatusChange:
        check_move_needs(self.status, note=self.note, has_shipment=self.shipment is not None)
        return self


class NoteCreate(CamelModel):
    text: Annotated[FreeText, Field(min_length=1, max_length=2000)]

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("a note needs some text")
        return text.strip()


# A free tag: letters, digits, spaces and - _ : / . #, stored in lower case.
Tag = Annotated[
    SingleLineText, Field(min_length=1, max_length=40, pattern=r"^[\w\- :/.#]*\w[\w\- :/.#]*$")
]


class TagsChange(CamelModel):
    """Tags to add and to remove; removing one the order lacks, or adding one it has, is fine."""

    add: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    remove: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)


class CustomerOrders(CamelModel):
    """The other orders of an order's customer: same phone number or same email address."""

    customer: Customer
    orders: list[OrderRead]
    total: int


class DeadLetterState(StrEnum):
    PENDING = "pending"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class DeadLetterRead(CamelModel):
    """An event that could not be processed, as it was consumed, with its error."""

    id: str
    dead_lettered_at: datetime
    error_type: str
    error: str
    original_topic: str | None = None
    original_partition: int | None = None
    original_offset: int | None = None
    key: str | None = None
    headers: dict[str, str]
    payload: str  # the event's bytes as text (UTF-8, undecodable bytes replaced)
    state: DeadLetterState
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    reason: str | None = None


class DeadLetterPage(CamelModel):
    dead_letters: list[DeadLetterRead]
    pagination: Pagination


class DeadLetterEnvelope(CamelModel):
    dead_letter: DeadLetterRead


class DeadLetterReplay(CamelModel):
    """Replays the event as stored, or ``payload`` instead: the event after a fix."""

    payload: Annotated[str, Field(min_length=1, max_length=1_000_000)] | None = None


class DeadLetterDiscard(CamelModel):
    reason: Annotated[FreeText, Field(min_length=1, max_length=1000)]


class ChannelRevenue(CamelModel):
    channel: Channel
    currency: str
    amount: float


class OrderStats(CamelModel):
    """The dashboard's numbers. Revenue leaves out cancelled orders and is per currency, since
    amounts in different currencies cannot be added."""

    total_orders: int
    by_channel: dict[Channel, int]
    by_status: dict[OrderStatus, int]
    revenue: list[ChannelRevenue]


class SortField(StrEnum):
    PLACED_AT = "placedAt"
    TOTAL = "total"
    STATUS = "status"
    CHANNEL = "channel"
    UPDATED_AT = "updatedAt"


def _as_utc(value: datetime) -> datetime:
    # A timestamp without an offset (or a bare date) is read as UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the timestamp is out of range in UTC") from None


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]


class OrderFilters(CamelModel):
    """What narrows the orders of a list or of the stats; any other parameter is a 422."""

    # Only the documented (camelCase) names: `sort_by` is as unknown as `colour`.
    model_config = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)

    channel: list[Channel] = Field(default_factory=list)
    status: list[OrderStatus] = Field(default_factory=list)
    search: Annotated[SingleLineText, Field(max_length=200)] | None = None
    # Orders carrying every one of these tags.
    tag: Annotated[list[Tag], Field(max_length=10)] = Field(default_factory=list)
    placed_from: Timestamp | None = Field(None, alias="from")
    placed_to: Timestamp | None = Field(None, alias="to")

    @field_validator("placed_to")
    @classmethod
    def _range_is_ordered(cls, placed_to: datetime | None, info: ValidationInfo) -> datetime | None:
        placed_from = info.data.get("placed_from")
        if placed_to is not None and placed_from is not None and placed_from > placed_to:
            raise ValueError("'to' must not be before 'from'")
        return placed_to


CursorToken = Annotated[str, Field(min_length=1, max_length=400, pattern=r"^[A-Za-z0-9_-]+$")]


class OrderListQuery(OrderFilters):
    """``GET /orders`` query parameters: the filters, a page and a sort."""

    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(20, ge=1, le=100)
    sort_by: SortField = SortField.PLACED_AT
    sort_order: Literal["asc", "desc"] = "desc"
    # Keyset paging: a page at any depth costs what the first one does. With either, ``page``
    # is not read (the answer echoes it).
    cursor: CursorToken | None = Field(
        None,
        description="A `nextCursor`, `prevCursor` or `lastCursor` of an earlier answer under the "
        "same sort (and filters); `page` is then not read.",
    )
    start_at: Annotated[SingleLineText, Field(min_length=1, max_length=40)] | None = Field(
        None,
        description="Jump: the page starts at the first order whose sort value reaches this one "
        "(a date or timestamp under placedAt/updatedAt, an amount under total, a status or a "
        "channel); `page` is then not read.",
    )


class OrderMatchQuery(OrderFilters):
    """``GET /orders/matching``: which of these orders the list under these filters holds."""

    ids: Annotated[
        list[Annotated[SingleLineText, Field(min_length=1, max_length=100)]],
        Field(min_length=1, max_length=100),
    ]


class TagInUse(CamelModel):
    tag: str
    orders: int


class TagsInUse(CamelModel):
    """The tags orders carry, most used first (up to 200), with how many orders carry each."""

    tags: list[TagInUse]


class OrderMatches(CamelModel):
    """The asked-for ids that the list under the same filters holds (in no particular order)."""

    ids: list[str]


# Working on many orders: bulk moves, jobs, exports, saved views, the audit log ---------------

# What a list (and so an export, a saved view, a bulk move over "all N matching") is sorted by.
SortOrder = Literal["asc", "desc"]


class OrderView(OrderFilters):
    """The current view of the list without its page: filters, search and sort."""

    sort_by: SortField = SortField.PLACED_AT
    sort_order: SortOrder = "desc"


# The most orders one bulk move to SHIPPED can carry tracking numbers for.
MAX_BULK_TRACKING_NUMBERS = 10_000
TrackingKey = Annotated[SingleLineText, Field(min_length=1, max_length=100)]
TrackingNumber = Annotated[SingleLineText, Field(min_length=1, max_length=100)]


class BulkShipment(CamelModel):
    """The shipment of a bulk move to SHIPPED: one carrier for all, a tracking number per order,
    keyed by the order's id or its external id. Every order the move covers needs one."""

    model_config = ConfigDict(extra="forbid")

    carrier: Annotated[SingleLineText, Field(min_length=1, max_length=100)]
    tracking_numbers: Annotated[
        dict[TrackingKey, TrackingNumber], Field(max_length=MAX_BULK_TRACKING_NUMBERS)
    ]

    def tracking_for(self, order_id: str, external_id: str | None) -> str | None:
        found = self.tracking_numbers.get(order_id)
        if found is None and external_id is not None:
            found = self.tracking_numbers.get(external_id)
        return found


class BulkStatusMove(CamelModel):
    """Moves the orders picked on a page (``orderIds``, at most a page) at once, or every order
    matching a view (``view``) as a background job. Each move needs what a single move needs:
    the move to SHIPPED a ``shipment`` (a tracking number for every order), the move to
    CANCELLED a reason in ``note``."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    note: Note | None = None
    shipment: BulkShipment | None = None
    order_ids: (
        Annotated[
            list[Annotated[SingleLineText, Field(min_length=1, max_length=100)]],
            Field(min_length=1, max_length=100),
        ]
        | None
    ) = None
    view: OrderView | None = None

    @model_validator(mode="after")
    def _ids_or_view(self) -> BulkStatusMove:
        if (self.order_ids is None) == (self.view is None):
            raise ValueError("give either orderIds or view, not both nor neither")
        check_move_needs(self.status, note=self.note, has_shipment=self.shipment is not None)
        return self


class OrderLabel(CamelModel):
    """How an admin knows an order: its external id, channel and customer's name."""

    order_id: str
    external_id: str | None = None
    channel: Channel | None = None
    customer: str | None = None


class RefusedMove(OrderLabel):
    code: str
    """``already_final``, ``invalid_transition``, ``concurrent_change``, ``order_not_found`` or
    ``tracking_number_missing``."""
    message: str
    """The server's reason, in words an admin can act on."""


class BulkMoveResult(CamelModel):
    moved: list[str]
    refused: list[RefusedMove]


class JobKind(StrEnum):
    STATUS_MOVE = "status_move"
    EXPORT = "export"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Job(CamelModel):
    """A background job: a bulk status move over a view or a CSV export, and how far it got."""

    id: str
    kind: JobKind
    state: JobState
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    total: int
    processed: int
    moved: int
    refused: int
    cancel_requested: bool
    error: str | None
    status: OrderStatus | None = None
    """The status a bulk move moves to."""
    view: OrderView
    download_url: str | None = None
    """A finished export's file: a signed link that works without a token until it expires."""
    download_expires_at: datetime | None = None


class JobEnvelope(CamelModel):
    job: Job


class BulkMoveAnswer(CamelModel):
    """Either the result at once (orders picked on a page) or the job moving a whole view."""

    result: BulkMoveResult | None = None
    job: Job | None = None


class JobItemOutcome(StrEnum):
    MOVED = "moved"
    REFUSED = "refused"
    PENDING = "pending"


class JobItem(OrderLabel):
    position: int
    outcome: JobItemOutcome
    code: str | None
    message: str | None = None
    """Why the order was refused, in the server's words."""
    from_status: OrderStatus | None


class JobItemPage(CamelModel):
    items: list[JobItem]
    pagination: Pagination


class JobItemQuery(CamelModel):
    model_config = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)

    outcome: JobItemOutcome | None = None
    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(100, ge=1, le=1000)


class ExportRequest(CamelModel):
    model_config = ConfigDict(extra="forbid")

    view: OrderView = Field(default_factory=OrderView)


class DownloadQuery(CamelModel):
    """A download link's query (``download_links``). A link made before links named their user
    lacks ``user``, ``role``, ``version`` and ``issued``: it is refused as not valid (403), not
    as a malformed request."""

    model_config = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)

    user: str | None = Field(None, min_length=1, max_length=200)
    role: str | None = Field(None, max_length=20)
    version: int | None = Field(None, ge=0, le=2**62)
    issued: int | None = Field(None, ge=0, le=2**62)
    expires: int = Field(ge=0, le=2**62)
    signature: str = Field(min_length=1, max_length=200)


ViewName = Annotated[SingleLineText, Field(min_length=1, max_length=80)]
ColumnName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9_.]*$")]


PageSize = Annotated[int, Field(ge=1, le=100)]


class SavedViewWrite(CamelModel):
    """A named preset of the list: its filters, search and sort, and the columns shown."""

    model_config = ConfigDict(extra="forbid")

    name: ViewName
    view: OrderView = Field(default_factory=OrderView)
    columns: Annotated[list[ColumnName], Field(max_length=40)] = Field(default_factory=list)
    page_size: PageSize | None = None
    """Rows per page the view opens with (the list's default when absent)."""
    is_default: bool = False
    shared: bool = False
    """Shown to the whole team: only an admin may share a view."""


class SavedViewChange(CamelModel):
    model_config = ConfigDict(extra="forbid")

    name: ViewName | None = None
    view: OrderView | None = None
    columns: Annotated[list[ColumnName], Field(max_length=40)] | None = None
    page_size: PageSize | None = None
    is_default: bool | None = None
    shared: bool | None = None


class SavedView(CamelModel):
    id: str
    name: str
    owner_id: str
    mine: bool
    shared: bool
    is_default: bool
    view: OrderView
    columns: list[str]
    page_size: int | None = None
    created_at: datetime
    updated_at: datetime


class SavedViewEnvelope(CamelModel):
    view: SavedView


class SavedViewList(CamelModel):
    views: list[SavedView]


class AuditQuery(CamelModel):
    """``GET /audit``: newest first, narrowed by any of these."""

    model_config = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)

    action: Annotated[SingleLineText, Field(max_length=64)] | None = None
    """Any part of an action's name (``bulk`` finds ``bulk_move.started`` and the others);
    ``GET /audit/actions`` lists them."""
    actor: Annotated[SingleLineText, Field(max_length=254)] | None = None
    """Who acted: any part of their email, or their id."""
    actor_id: Annotated[SingleLineText, Field(max_length=100)] | None = None
    target: Annotated[SingleLineText, Field(max_length=200)] | None = None
    """What was acted on: an id (user, job, order), or an order's external id."""
    outcome: Literal["succeeded", "failed"] | None = None
    occurred_from: Timestamp | None = Field(None, alias="from")
    occurred_to: Timestamp | None = Field(None, alias="to")
    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(50, ge=1, le=200)


class AuditEntry(CamelModel):
    event_id: str
    occurred_at: datetime
    recorded_at: datetime
    service: str
    action: str
    outcome: str
    actor_id: str | None
    actor_email: str | None
    target: str | None
    client_address: str | None
    request_id: str | None
    details: dict[str, JsonValue]
    target_external_id: str | None = None
    """When the target is an order: its external id and channel."""
    target_channel: Channel | None = None


class AuditPage(CamelModel):
    records: list[AuditEntry]
    pagination: Pagination


class AuditActions(CamelModel):
    """The actions the audit log holds, for a filter to choose from."""

    actions: list[str]
