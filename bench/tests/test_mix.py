from __future__ import annotations

import random

import pytest

from bench import mix

pytestmark = pytest.mark.unit


def order(order_id: str, status: str, email: str | None = "priya.sharma7@gmail.com") -> dict:
    return {
        "id": order_id,
        "externalId": "402-1234567-7654321",
        "status": status,
        "customer": {"name": "Priya Sharma", "phone": "+919812345678", "email": email},
    }


def test_the_mix_covers_every_kind_of_request_and_its_shares_sum_to_one() -> None:
    shares = mix.shares()
    assert sum(shares.values()) == pytest.approx(1)
    assert all(share > 0 for share in shares.values())
    assert set(shares) == {
        "list newest",
        "list by channel",
        "list by status",
        "list filtered and sorted",
        "list next pages",
        "search customer name",
        "search external id",
        "search email",
        "detail",
        "stats",
        "status move",
        "token refresh",
        "login",
    }
    # An admin app is read-mostly: writes and sign-ins are a small part of the traffic.
    writes = shares["status move"] + shares["token refresh"] + shares["login"]
    assert writes < 0.15


def test_admin_moves_follow_the_lifecycle_and_stop_at_final_statuses() -> None:
    path, status = [], "PLACED"
    while (move := mix.next_admin_move(status)) is not None:
        path.append(move)
        status = move
    assert path == ["CONFIRMED", "SHIPPED", "DELIVERED"]
    assert mix.next_admin_move("CANCELLED") is None


def test_a_movable_order_stays_out_of_the_pool_until_its_move_is_settled() -> None:
    seen = mix.SeenOrders(capacity=10, rng=random.Random(1))
    seen.add_from_api([order("a", "DELIVERED"), order("b", "CONFIRMED"), order("c", "CANCELLED")])
    taken = seen.take_movable()
    assert taken is not None
    moved, status = taken
    assert (moved.id, status) == ("b", "SHIPPED")
    assert len(seen) == 2
    assert seen.take_movable() is None  # only final or delivered orders are left
    seen.add_from_api([order("b", "CONFIRMED")])  # a list answered before the move landed
    assert seen.take_movable() is None
    seen.settle_move("b", mix.SeenOrder.from_api(order("b", "SHIPPED")))
    assert seen.take_movable() == (mix.SeenOrder.from_api(order("b", "SHIPPED")), "DELIVERED")
    seen.settle_move("b", None)  # a failed move: the order is simply forgotten
    assert len(seen) == 2


def test_the_pool_keeps_the_newest_word_on_an_order_and_stays_within_capacity() -> None:
    seen = mix.SeenOrders(capacity=3, rng=random.Random(2))
    seen.add_from_api([order(str(i), "PLACED") for i in range(10)])
    assert len(seen) == 3
    seen.add_from_api([order("x", "PLACED"), order("x", "DELIVERED")])
    assert len(seen) == 3
    statuses = {o.id: o.status for o in (seen.random() for _ in range(200)) if o is not None}
    assert statuses.get("x", "DELIVERED") == "DELIVERED"


def test_search_fragments_are_what_a_person_would_type() -> None:
    rng = random.Random(3)
    for _ in range(100):
        name = mix.name_fragment("Priya Sharma", rng)
        assert 3 <= len(name) <= 5
        assert "priya".startswith(name) or "sharma".startswith(name)
        external = mix.external_id_fragment("402-1234567-7654321", rng)
        assert 6 <= len(external) <= 8
        assert external in "402-1234567-7654321"
        email = mix.email_fragment("priya.sharma7@gmail.com", rng)
        assert "priya.sharma7@gmail.com".startswith(email)
        assert len(email) >= 4


def test_an_order_without_email_is_searched_for_by_name() -> None:
    seen = mix.SeenOrders(capacity=5, rng=random.Random(4))
    seen.add_from_api([order("a", "PLACED", email=None)])
    fragment = mix.search_fragment("search email", random.Random(5), seen)
    assert "priya".startswith(fragment) or "sharma".startswith(fragment)


@pytest.mark.parametrize(
    "kind",
    [k.name for k in mix.MIX if k.name.startswith(("list", "search")) or k.name == "stats"],
)
def test_list_queries_stay_within_the_contract(kind: str) -> None:
    rng = random.Random(6)
    seen = mix.SeenOrders(capacity=5, rng=rng)
    seen.add_from_api([order("a", "PLACED")])
    for _ in range(50):
        params = mix.list_params(kind, rng, seen)
        statuses = params.get("status", [])
        assert set([statuses] if isinstance(statuses, str) else statuses) <= set(mix.STATUSES)
        assert params.get("channel", "amazon") in mix.CHANNELS
        assert params.get("sortBy", "placedAt") in mix.SORT_FIELDS
        assert params.get("sortOrder", "asc") in {"asc", "desc"}
        assert 1 <= params.get("limit", 20) <= 100
        assert params.get("page", 1) >= 1
        assert params.get("search", "x")


def test_requests_without_a_query_are_not_list_kinds() -> None:
    with pytest.raises(ValueError, match="detail"):
        mix.list_params("detail", random.Random(), mix.SeenOrders(1, random.Random()))


def test_the_crowd_moves_three_percent_of_its_requests_and_only_its_admins_move() -> None:
    shares = mix.crowd_shares()
    assert sum(shares.values()) == pytest.approx(1)
    assert shares["status move"] == pytest.approx(0.03)
    assert "status move" not in {kind.name for kind in mix.VIEWER_MIX}
    assert {kind.name for kind in mix.ADMIN_MIX} == {kind.name for kind in mix.MIX}
    assert sum(kind.weight for kind in mix.ADMIN_MIX) == 100
    assert sum(kind.weight for kind in mix.VIEWER_MIX) == 100
