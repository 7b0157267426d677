from __future__ import annotations

import pytest

from bench import crowd

pytestmark = pytest.mark.unit


def test_the_crowd_is_a_hundred_people_a_fifth_of_them_admins() -> None:
    roles = crowd.roles(crowd.CROWD_SIZE)
    assert len(roles) == 100
    assert roles.count("admin") == 20
    assert set(roles) == {"admin", "viewer"}


def test_the_crowd_grows_so_that_nobody_asks_more_than_the_per_user_limit_allows() -> None:
    assert crowd.crowd_size(400, per_user_per_min=300) == 100  # 4 req/s each, 80% of 5
    assert crowd.crowd_size(25, per_user_per_min=300) == 100
    assert crowd.crowd_size(1000, per_user_per_min=300) == 250
    people = crowd.crowd_size(1250, per_user_per_min=300)
    assert 1250 / people * 60 <= crowd.PER_USER_LIMIT_SHARE * 300
