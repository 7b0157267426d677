"""Export download links (issue 21, finding 6): a link is capped to the configured lifetime at
verification, whatever it was signed with, and names the user it was made for; production
refuses the development key."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from orderhub_common.security import Role
from orders.download_links import DownloadLinks, LinkHolder, SignedLink
from orders.settings import OrdersSettings

pytestmark = pytest.mark.unit

NOW = 1_900_000_000
TEN_YEARS_S = 10 * 365 * 86_400
LINKS = DownloadLinks(b"the-real-key", ttl_s=300)
VIEWER_A = LinkHolder("user-a", Role.VIEWER, 0)


def hand_signed(holder: LinkHolder, issued: int, expires: int) -> SignedLink:
    """A link signed with the service's own key, as someone holding it could make one."""
    return SignedLink(holder, issued, expires, LINKS.signature("job_1", holder, issued, expires))


def test_a_link_made_by_the_service_works_until_it_expires() -> None:
    url, expires = LINKS.link("job_1", VIEWER_A, now=NOW)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    link = SignedLink(
        LinkHolder(query["user"], Role(query["role"]), int(query["version"])),
        int(query["issued"]),
        int(query["expires"]),
        query["signature"],
    )

    assert expires == NOW + 300
    assert LINKS.valid("job_1", link, now=NOW)
    assert LINKS.valid("job_1", link, now=NOW + 300)
    assert not LINKS.valid("job_1", link, now=NOW + 301)


@pytest.mark.parametrize(
    ("issued", "expires"),
    [
        (NOW, NOW + TEN_YEARS_S),  # a ten-year lifetime
        (NOW + TEN_YEARS_S - 300, NOW + TEN_YEARS_S),  # a short lifetime, issued in the future
        (NOW - TEN_YEARS_S, NOW + 300),  # issued long ago to pass the lifetime check
        (NOW, NOW + 301),  # just over the maximum
    ],
)
def test_a_link_signed_for_longer_than_the_maximum_is_refused_even_with_the_right_key(
    issued: int, expires: int
) -> None:
    assert not LINKS.valid("job_1", hand_signed(VIEWER_A, issued, expires), now=NOW)


def test_a_link_names_its_user_and_cannot_be_turned_into_anothers() -> None:
    link = hand_signed(VIEWER_A, NOW, NOW + 300)
    assert LINKS.valid("job_1", link, now=NOW)

    for holder in [
        LinkHolder("user-b", Role.VIEWER, 0),  # another user
        LinkHolder("user-a", Role.ADMIN, 0),  # a role they do not have
        LinkHolder("user-a", Role.VIEWER, 1),  # an access version after a change
    ]:
        moved = SignedLink(holder, link.issued, link.expires, link.signature)
        assert not LINKS.valid("job_1", moved, now=NOW)


def test_a_link_never_outlives_the_exports_file() -> None:
    _, expires = LINKS.link("job_1", VIEWER_A, now=NOW, not_after=NOW + 60)
    assert expires == NOW + 60


def test_production_refuses_the_development_export_link_key() -> None:
    real = {
        "ORDERHUB_ENV": "production",
        "ORDERS_POSTGRES_URL": "postgresql://orders:a-real-password@db/orderhub_orders",
        "KAFKA_ALLOW_PLAINTEXT": "true",
    }
    with pytest.raises(ValidationError, match="export_link_secret still has its development"):
        OrdersSettings.model_validate(real)
    chosen = OrdersSettings.model_validate({**real, "ORDERS_EXPORT_LINK_SECRET": "x" * 40})
    assert chosen.export_link_secret.get_secret_value() == "x" * 40
