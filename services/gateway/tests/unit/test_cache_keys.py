import pytest

from gateway.cache import CachedResponse, cache_key, normalized_query

pytestmark = pytest.mark.unit


def test_the_same_query_in_any_order_is_one_cache_entry() -> None:
    one = normalized_query([("status", "PLACED"), ("page", "2"), ("channel", "amazon")])
    other = normalized_query([("channel", "amazon"), ("page", "2"), ("status", "PLACED")])

    assert one == other
    assert cache_key(1, "admin", "/orders", one) == cache_key(1, "admin", "/orders", other)


def test_repeated_filters_are_part_of_the_key() -> None:
    both = normalized_query([("status", "PLACED"), ("status", "SHIPPED")])
    one = normalized_query([("status", "PLACED")])

    assert cache_key(1, "admin", "/orders", both) != cache_key(1, "admin", "/orders", one)


def test_a_new_generation_role_or_path_never_finds_an_old_entry() -> None:
    base = cache_key(7, "viewer", "/orders", "page=1")

    assert cache_key(8, "viewer", "/orders", "page=1") != base
    assert cache_key(7, "admin", "/orders", "page=1") != base
    assert cache_key(7, "viewer", "/orders/stats", "page=1") != base
    assert cache_key(7, "viewer", "/orders", "page=2") != base


def test_query_text_cannot_forge_another_key() -> None:
    # Separators inside values are encoded, so two different questions never share a key.
    tricky = normalized_query([("search", "x&page=2")])
    plain = normalized_query([("search", "x"), ("page", "2")])

    assert tricky != plain


def test_a_cached_response_survives_the_round_trip() -> None:
    response = CachedResponse(200, "application/json", '{"orders": [], "note": "naïve"}')

    assert CachedResponse.loads(response.dumps()) == response
