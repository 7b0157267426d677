"""How many exports a user may start, and how long their files are kept.

A finished export's file (its chunks in the query side) is kept for ``retention_s`` after it
finished; no download link made for it expires later (``JobService``). The sweep then deletes
it, once a grace for a download still streaming has passed too, a bounded batch at a time by the
index of exports whose files are kept (migration 0007).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from loguru import logger

from orderhub_common.errors import is_store_outage
from orderhub_common.logging import utc_now
from orderhub_common.workers import run_rounds
from orders.query_side import ExportLimitReached, WorkStore

# A download that began just before its link expired may still be streaming (the gateway allows
# one 120 s): its file stays this much longer.
DOWNLOAD_GRACE = timedelta(minutes=5)
SWEEP_BATCH = 100


@dataclass(frozen=True)
class ExportRules:
    running_per_user: int = 2
    per_user_per_day: int = 20
    retention_s: int = 3600

    def files_kept_until(self, finished_at: datetime) -> datetime:
        """When a finished export's file stops being served (its links expire by then)."""
        return finished_at + timedelta(seconds=self.retention_s)


class ExportRetention:
    """The sweep deleting the files of exports past their retention (any replica may run it:
    each batch is taken with SKIP LOCKED)."""

    def __init__(self, store: WorkStore, rules: ExportRules, *, interval_s: float = 60.0) -> None:
        self._store = store
        self._rules = rules
        self._interval_s = interval_s

    async def sweep(self, *, now: datetime | None = None) -> int:
        """Deletes every file past its retention and grace; how many exports' files went."""
        cutoff = (now or utc_now()) - timedelta(seconds=self._rules.retention_s) - DOWNLOAD_GRACE
        deleted = 0
        while True:
            ids = await self._store.delete_export_files(cutoff, SWEEP_BATCH)
            deleted += len(ids)
            if len(ids) < SWEEP_BATCH:
                break
        if deleted:
            logger.info(f"export retention: deleted the files of {deleted} exports")
        return deleted

    async def run(self) -> None:
        await run_rounds(
            self._round,
            name="export retention",
            interval_s=self._interval_s,
            on_error=_log_sweep_failure,
        )

    async def _round(self) -> bool:
        await self.sweep()
        return False  # a sweep deletes all that is due


def _log_sweep_failure(exc: Exception) -> None:
    if is_store_outage(exc):
        logger.warning(f"export retention: {exc!r}")
    else:
        logger.opt(exception=exc).error("export retention sweep failed")


def export_limit_message(reached: ExportLimitReached) -> str:
    if reached.limit == "running":
        return (
            f"you already have {reached.allowed} exports queued or running; wait for one to "
            "finish (or cancel one) before starting another"
        )
    return (
        f"you have started {reached.allowed} exports in the last 24 hours, the most allowed; "
        f"try again in {-(-reached.retry_after_s // 60)} minutes"
    )
