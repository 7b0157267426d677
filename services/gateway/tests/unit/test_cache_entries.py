import pytest

from gateway.cache import CachedResponse, ResponseCache, cache_slot, normalized_query
from gateway.cache.store import (
    DETAIL_EPOCH_KEY,
    LIST_GENERATION_KEY,
    CacheEntry,
    decode_entry,
    encode_entry,
    order_version_key,
    writer_key,
)

from .fakes import FlakyRedis

pytestmark = pytest.mark.unit


def _slot(audience: str, path: str, query: str = ""):  # type: ignore[no-untyped-def]
    return cache_slot(audience, path, query, reader="u1", detail_fresh_s=30, list_fresh_s=2)


def test_the_same_query_in_any_order_is_one_cache_entry() -> None:
    one = normalized_query([("status", "PLACED"), ("page", "2"), ("channel", "amazon")])
    other = normalized_query([("channel", "amazon"), ("page", "2"), ("status", "PLACED")])

    assert one == other
    assert _slot("admin", "/orders", one) == _slot("admin", "/orders", other)


def test_repeated_filters_are_part_of_the_key() -> None:
    both = normalized_query([("status", "PLACED"), ("status", "SHIPPED")])
    one = normalized_query([("status", "PLACED")])

    assert _slot("admin", "/orders", both) != _slot("admin", "/orders", one)


def test_another_role_path_or_query_never_finds_the_entry() -> None:
    base = _slot("viewer", "/orders", "page=1").entry_key

    assert _slot("admin", "/orders", "page=1").entry_key != base
    assert _slot("viewer", "/orders/stats", "page=1").entry_key != base
    assert _slot("viewer", "/orders", "page=2").entry_key != base


def test_query_text_cannot_forge_another_key() -> None:
    # Separators inside values are encoded, so two different questions never share a key.
    tricky = normalized_query([("search", "x&page=2")])
    plain = normalized_query([("search", "x"), ("page", "2")])

    assert tricky != plain


def test_a_detail_is_versioned_by_its_order_and_lists_by_the_list_generation() -> None:
    detail = _slot("admin", "/orders/ord%201")
    listed = _slot("admin", "/orders", "page=1")
    stats = _slot("admin", "/orders/stats")
    # Which new orders a view holds is answered by the list's filters: cached as the list is.
    matching = _slot("admin", "/orders/matching", "ids=o1&tag=gift")

    assert detail.version_keys == (DETAIL_EPOCH_KEY, order_version_key("ord 1"))
    assert detail.fresh_s == 30
    assert listed.version_keys == stats.version_keys == matching.version_keys
    assert listed.version_keys == (LIST_GENERATION_KEY,)
    assert listed.fresh_s == stats.fresh_s == matching.fresh_s == 2
    # A list must show its reader's own writes; a detail is versioned by its order already.
    assert listed.writer_key == stats.writer_key == matching.writer_key == writer_key("u1")
    assert detail.writer_key is None


def test_readers_share_list_entries_and_differ_only_in_their_write_marks() -> None:
    mine = cache_slot("admin", "/orders", "", reader="u1", detail_fresh_s=30, list_fresh_s=2)
    theirs = cache_slot("admin", "/orders", "", reader="u2", detail_fresh_s=30, list_fresh_s=2)

    assert mine.entry_key == theirs.entry_key
    assert mine.writer_key != theirs.writer_key


def test_an_entry_is_served_only_under_its_own_version_and_fresh_until_its_time() -> None:
    response = CachedResponse(200, "application/json", '{"note": "naïve"}\n{"lines": 2}')
    raw = encode_entry("3.7", as_of=12, fresh_until=100.0, response=response)

    assert decode_entry(raw, "3.7", now=99.0) == CacheEntry(response, fresh=True, as_of=12)
    assert decode_entry(raw, "3.7", now=100.5) == CacheEntry(response, fresh=False, as_of=12)
    assert decode_entry(raw, "3.8", now=99.0) is None


async def test_a_writers_lists_miss_entries_from_before_the_write_while_others_still_hit() -> None:
    cache = ResponseCache(
        FlakyRedis(),  # type: ignore[arg-type]
        detail_fresh_s=30,
        list_fresh_s=2,
        stale_s=30,
        fill_timeout_s=6,
    )
    writer, other = (cache.slot("admin", "/orders", "", reader=user) for user in ("u1", "u2"))
    before = CachedResponse(200, "application/json", '{"orders": ["before"]}')
    first = await cache.lookup(other)
    assert first is not None
    await cache.fill(other, first, before, release_lock=False)

    await cache.record_write("o1", "u1")
    seen_by_other, seen_by_writer = await cache.lookup(other), await cache.lookup(writer)

    assert seen_by_other is not None
    assert seen_by_other.response == before
    assert seen_by_writer is not None
    assert seen_by_writer.response is None
    # The writer's own fill keys apart from fills that may have started before the write.
    assert seen_by_writer.fill != first.fill
    after = CachedResponse(200, "application/json", '{"orders": ["after"]}')
    await cache.fill(writer, seen_by_writer, after, release_lock=False)
    again = await cache.lookup(writer)
    assert again is not None
    assert (again.response, again.fresh) == (after, True)
