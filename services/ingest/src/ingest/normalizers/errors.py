from __future__ import annotations


class NormalizationError(ValueError):
    """A native order that cannot become a canonical order: skipped, counted and logged."""

    def __init__(self, channel: str, external_id: str | None, reason: str) -> None:
        self.channel = channel
        self.external_id = external_id
        self.reason = reason
        super().__init__(f"{channel} order {external_id or '<no id>'}: {reason}")
