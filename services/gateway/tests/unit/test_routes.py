import pytest

from gateway.routes import Access, RouteMatch, Upstream, resolve

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("method", "api_path", "upstream", "path", "access"),
    [
        ("POST", "/auth/login", Upstream.AUTH, "/auth/login", Access.PUBLIC),
        ("POST", "/auth/refresh", Upstream.AUTH, "/auth/refresh", Access.PUBLIC),
        ("POST", "/auth/logout", Upstream.AUTH, "/auth/logout", Access.SIGNED_IN),
        ("GET", "/auth/me", Upstream.AUTH, "/auth/me", Access.SIGNED_IN),
        ("GET", "/users", Upstream.AUTH, "/users", Access.ADMIN),
        ("POST", "/users", Upstream.AUTH, "/users", Access.ADMIN),
        ("PATCH", "/users/u1", Upstream.AUTH, "/users/u1", Access.ADMIN),
        # Display names, for everyone who sees who did what (names only).
        ("GET", "/users/names", Upstream.AUTH, "/users/names", Access.SIGNED_IN),
        ("PATCH", "/users/names", Upstream.AUTH, "/users/names", Access.ADMIN),
        ("GET", "/orders", Upstream.ORDERS, "/orders", Access.SIGNED_IN),
        ("GET", "/orders/stats", Upstream.ORDERS, "/orders/stats", Access.SIGNED_IN),
        ("GET", "/orders/o1", Upstream.ORDERS, "/orders/o1", Access.SIGNED_IN),
        ("PATCH", "/orders/o1/status", Upstream.ORDERS, "/orders/o1/status", Access.ADMIN),
        ("GET", "/channels", Upstream.INGEST, "/channels", Access.SIGNED_IN),
        ("GET", "/pipeline", Upstream.ORDERS, "/pipeline", Access.SIGNED_IN),
        ("POST", "/channels/amazon/pause", Upstream.INGEST, "/channels/amazon/pause", Access.ADMIN),
        (
            "POST",
            "/channels/amazon/resume",
            Upstream.INGEST,
            "/channels/amazon/resume",
            Access.ADMIN,
        ),
        (
            "POST",
            "/channels/amazon/connection-test",
            Upstream.INGEST,
            "/channels/amazon/connection-test",
            Access.ADMIN,
        ),
        # Signed by Shopify, checked by ingest: no JWT.
        ("POST", "/webhooks/shopify", Upstream.INGEST, "/webhooks/shopify", Access.PUBLIC),
    ],
)
def test_each_contract_route_reaches_its_service_with_its_access_level(
    method: str, api_path: str, upstream: Upstream, path: str, access: Access
) -> None:
    route = resolve(method, api_path)

    assert route is not None
    assert (route.upstream, route.path, route.access) == (upstream, path, access)


@pytest.mark.parametrize(
    "api_path",
    [
        "",
        "/",
        "/nothing",
        "/auth",
        "/channels/website",
        "/channels/website/stop",
        "/orders/../users",
        "/orders//x",
        "/./me",
    ],
)
def test_paths_no_service_answers_are_not_routed(api_path: str) -> None:
    assert resolve("GET", api_path) is None


def _route(method: str, api_path: str) -> RouteMatch:
    route = resolve(method, api_path)
    assert route is not None
    return route


def test_only_order_list_detail_and_stats_reads_are_cached() -> None:
    for api_path in ("/orders", "/orders/o1", "/orders/stats"):
        assert _route("GET", api_path).cacheable
    assert not _route("GET", "/orders/o1/history").cacheable
    assert not _route("HEAD", "/orders").cacheable
    assert not _route("GET", "/channels").cacheable
    assert not _route("GET", "/auth/me").cacheable


def test_every_order_write_needs_an_admin_and_invalidates_the_cache() -> None:
    for method in ("PATCH", "POST", "PUT", "DELETE"):
        route = _route(method, "/orders/o1/status")
        assert route.access is Access.ADMIN
        assert route.changes_orders
    assert not _route("GET", "/orders/o1").changes_orders


def test_only_a_status_move_names_the_one_order_it_changes() -> None:
    assert _route("PATCH", "/orders/o1/status").order_id == "o1"
    for method, api_path in [("POST", "/orders/bulk/status"), ("POST", "/orders/o1/status")]:
        assert _route(method, api_path).order_id is None


def test_path_segments_are_percent_encoded_for_the_service() -> None:
    route = resolve("GET", "/orders/a b?c#d")

    assert route is not None
    assert route.path == "/orders/a%20b%3Fc%23d"


@pytest.mark.parametrize(
    ("method", "api_path", "access"),
    [
        ("POST", "/bulk-moves", Access.ADMIN),
        ("GET", "/jobs/job_1", Access.SIGNED_IN),
        ("GET", "/jobs/job_1/items", Access.ADMIN),
        ("POST", "/jobs/job_1/cancel", Access.SIGNED_IN),
        ("POST", "/exports", Access.SIGNED_IN),
        ("GET", "/exports/job_1/download", Access.PUBLIC),
        ("GET", "/views", Access.SIGNED_IN),
        ("POST", "/views", Access.SIGNED_IN),
        ("PATCH", "/views/view_1", Access.SIGNED_IN),
        ("DELETE", "/views/view_1", Access.SIGNED_IN),
        ("GET", "/audit", Access.ADMIN),
        ("GET", "/audit/actions", Access.ADMIN),
    ],
)
def test_routes_for_working_on_many_orders_go_to_orders_with_their_roles(
    method: str, api_path: str, access: Access
) -> None:
    route = _route(method, api_path)

    assert (route.upstream, route.path, route.access) == (Upstream.ORDERS, api_path, access)
    assert not route.cacheable


@pytest.mark.parametrize(
    ("method", "api_path"),
    [
        ("GET", "/bulk-moves"),
        ("DELETE", "/audit"),
        ("PATCH", "/audit"),
        ("POST", "/audit"),
        ("GET", "/audit/x"),
        ("POST", "/audit/actions"),
        ("DELETE", "/jobs/job_1"),
        ("POST", "/exports/job_1/download"),
        ("GET", "/views/a/b"),
    ],
)
def test_the_audit_log_has_no_write_route_and_jobs_no_other_routes(
    method: str, api_path: str
) -> None:
    assert resolve(method, api_path) is None


def test_a_bulk_move_invalidates_the_order_cache() -> None:
    route = _route("POST", "/bulk-moves")

    assert route.changes_orders
    assert route.order_id is None
