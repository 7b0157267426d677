"""The dead letters' table: kept, paged, read and resolved on the query side's engine (a part
of ``QuerySide``; ``orders.dead_letters`` is what works with them).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from orderhub_common.logging import utc_now
from orders.query_side.tables import dead_letters
from orders.schemas import DeadLetterRead, DeadLetterState


class DeadLetterRows:
    """``QuerySide``'s reads and writes of ``dead_letters``."""

    engine: AsyncEngine

    async def keep_dead_letters(self, letters: Sequence[DeadLetterRead]) -> int:
        """Stores dead letters as they arrive; one seen before (a redelivery) is kept once."""
        if not letters:
            return 0
        statement = (
            insert(dead_letters)
            .values([letter.model_dump(by_alias=False, mode="python") for letter in letters])
            .on_conflict_do_nothing(index_elements=[dead_letters.c.id])
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return int(result.rowcount or 0)

    async def dead_letter_page(
        self, state: DeadLetterState | None, page: int, limit: int
    ) -> tuple[list[DeadLetterRead], int]:
        where = [] if state is None else [dead_letters.c.state == state.value]
        statement = (
            select(dead_letters)
            .where(*where)
            .order_by(dead_letters.c.dead_lettered_at.desc(), dead_letters.c.id.desc())
            .offset((page - 1) * limit)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).mappings().all()
            total = (
                await connection.execute(
                    select(func.count()).select_from(dead_letters).where(*where)
                )
            ).scalar_one()
        return [DeadLetterRead.model_validate(dict(row)) for row in rows], total

    async def dead_letter(self, letter_id: str) -> DeadLetterRead | None:
        async with self.engine.connect() as connection:
            row = (
                (
                    await connection.execute(
                        select(dead_letters).where(dead_letters.c.id == letter_id)
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else DeadLetterRead.model_validate(dict(row))

    async def resolve_dead_letter(
        self, letter_id: str, state: DeadLetterState, *, by: str, reason: str | None
    ) -> DeadLetterRead | None:
        """Marks a pending dead letter replayed or discarded; None if it was not pending."""
        statement = (
            dead_letters.update()
            .where(dead_letters.c.id == letter_id, dead_letters.c.state == "pending")
            .values(state=state.value, resolved_at=utc_now(), resolved_by=by, reason=reason)
            .returning(*dead_letters.c)
        )
        async with self.engine.begin() as connection:
            row = (await connection.execute(statement)).mappings().first()
        return None if row is None else DeadLetterRead.model_validate(dict(row))
