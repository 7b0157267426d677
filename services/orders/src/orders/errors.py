"""The orders service's DomainError subclasses: each a contract code and HTTP status."""

from __future__ import annotations

from http import HTTPStatus

from orderhub_common.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    TooManyRequestsError,
)

# Orders and their status moves


class OrderNotFoundError(NotFoundError):
    code = "order_not_found"


class InvalidStatusMoveError(ConflictError):
    code = "invalid_transition"


class InvalidCursorError(DomainError):
    """A list cursor (or ``startAt``) that this list did not give out, or of another sort."""

    code = "invalid_cursor"


class ConcurrentChangeError(ConflictError):
    """The order kept changing under us; the caller may simply try again."""

    code = "concurrent_change"


class TrackingNumberMissingError(DomainError):
    """A bulk move to SHIPPED lacks the tracking number of some of its orders: refused before
    anything moves, naming them (``details.orders``)."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "tracking_number_missing"


class BulkShipmentTooLargeError(DomainError):
    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "bulk_shipment_too_large"


# Jobs and exports


class JobNotFoundError(NotFoundError):
    code = "job_not_found"


class JobFinishedError(ConflictError):
    code = "job_finished"


class ExportNotReadyError(ConflictError):
    code = "export_not_ready"


class DownloadLinkInvalidError(ForbiddenError):
    code = "download_link_invalid"


class ExportExpiredError(DomainError):
    status_code = 410
    code = "export_expired"


class ExportLimitError(TooManyRequestsError):
    code = "export_limit_reached"


# Saved views


class ViewNotFoundError(NotFoundError):
    code = "view_not_found"


class ViewNameTakenError(ConflictError):
    code = "view_name_taken"


class ViewChangeForbiddenError(ForbiddenError):
    code = "forbidden"


# Dead letters


class DeadLetterNotFoundError(NotFoundError):
    code = "dead_letter_not_found"


class DeadLetterResolvedError(ConflictError):
    code = "dead_letter_resolved"


class DeadLetterStillInvalidError(DomainError):
    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "dead_letter_invalid"
