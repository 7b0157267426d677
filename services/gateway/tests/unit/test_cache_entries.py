import pytest

from gateway.cache import cache_slot, normalized_query
from gateway.cache.store import (
    DETAIL_EPOCH_KEY,
    LIST_GENERATION_KEY,
    order_version_key,
    writer_key,
)

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
