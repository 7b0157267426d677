"""The order-read cache: versioned entries in Redis (``store``), read through one fill per entry
(``read_through``), shared in this process by single flight (``singleflight``)."""

from gateway.cache.read_through import Answer, Fetch, ReadThrough
from gateway.cache.singleflight import SingleFlight
from gateway.cache.store import (
    DETAIL_EPOCH_KEY,
    LIST_GENERATION_KEY,
    WRITE_SEQUENCE_KEY,
    CachedResponse,
    CacheLookup,
    CacheSlot,
    ResponseCache,
    cache_slot,
    decode_entry,
    encode_entry,
    normalized_query,
    order_version_key,
    writer_key,
)

__all__ = [
    "DETAIL_EPOCH_KEY",
    "LIST_GENERATION_KEY",
    "WRITE_SEQUENCE_KEY",
    "Answer",
    "CacheLookup",
    "CacheSlot",
    "CachedResponse",
    "Fetch",
    "ReadThrough",
    "ResponseCache",
    "SingleFlight",
    "cache_slot",
    "decode_entry",
    "encode_entry",
    "normalized_query",
    "order_version_key",
    "writer_key",
]
