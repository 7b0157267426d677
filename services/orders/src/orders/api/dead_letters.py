"""``/dead-letters``: list, inspect, replay and discard dead letters. Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from orderhub_common.http import ClientAddress
from orders.deps import Admin, DeadLettersDep
from orders.schemas import (
    DeadLetterDiscard,
    DeadLetterEnvelope,
    DeadLetterPage,
    DeadLetterReplay,
    DeadLetterState,
    Pagination,
)

router = APIRouter(prefix="/dead-letters", tags=["dead letters"])

LetterId = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^\d+-\d+$")]

_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not signed in, or the access token is not valid"},
    403: {"description": "Signed in without the admin role"},
}
_ONE: dict[int | str, dict[str, str]] = {
    **_ERRORS,
    404: {"description": "No such dead letter (`dead_letter_not_found`)"},
}
_RESOLVE: dict[int | str, dict[str, str]] = {
    **_ONE,
    409: {"description": "Already replayed or discarded (`dead_letter_resolved`)"},
}


@router.get("", responses=_ERRORS)
async def list_dead_letters(
    letters: DeadLettersDep,
    _: Admin,
    state: DeadLetterState | None = DeadLetterState.PENDING,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DeadLetterPage:
    """Dead letters newest first, each with its error and payload (pending ones by default)."""
    found, total = await letters.page(state, page, limit)
    return DeadLetterPage(
        dead_letters=found,
        pagination=Pagination.of(page, limit, total),
    )


@router.get("/{letter_id}", responses=_ONE)
async def get_dead_letter(
    letter_id: LetterId, letters: DeadLettersDep, _: Admin
) -> DeadLetterEnvelope:
    return DeadLetterEnvelope(dead_letter=await letters.get(letter_id))


@router.post(
    "/{letter_id}/replay",
    responses={
        **_RESOLVE,
        422: {"description": "The event is still not valid (`dead_letter_invalid`)"},
    },
)
async def replay_dead_letter(
    letter_id: LetterId,
    body: DeadLetterReplay,
    address: ClientAddress,
    letters: DeadLettersDep,
    admin: Admin,
) -> DeadLetterEnvelope:
    """Publishes the event again on `orders.ingested.v1` (or `payload`, its fixed version),
    once it is a valid ingested event; audited as `dead_letter.replayed`."""
    letter = await letters.replay(
        letter_id, actor=admin, payload=body.payload, client_address=address
    )
    return DeadLetterEnvelope(dead_letter=letter)


@router.post("/{letter_id}/discard", responses=_RESOLVE)
async def discard_dead_letter(
    letter_id: LetterId,
    body: DeadLetterDiscard,
    address: ClientAddress,
    letters: DeadLettersDep,
    admin: Admin,
) -> DeadLetterEnvelope:
    """Closes the dead letter without replaying it; audited as `dead_letter.discarded`."""
    letter = await letters.discard(
        letter_id, actor=admin, reason=body.reason, client_address=address
    )
    return DeadLetterEnvelope(dead_letter=letter)
