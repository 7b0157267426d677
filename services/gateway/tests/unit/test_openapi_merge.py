from typing import Any

import pytest

from gateway.openapi import merge_documents
from gateway.routes import Upstream

pytestmark = pytest.mark.unit


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_response(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema}}}


OWN: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Order Hub API", "version": "1.0.0"},
    "paths": {
        "/api/events": {
            "get": {
                "operationId": "order_events",
                "responses": {"422": _json_response(_ref("HTTPValidationError"))},
            }
        }
    },
    "components": {"schemas": {"ApiError": {"type": "object"}}},
}


ORDERS: dict[str, Any] = {
    "paths": {
        "/orders/{order_id}": {
            "get": {"operationId": "get_order", "responses": {"200": _json_response(_ref("Page"))}}
        },
        "/orders/{order_id}/status": {
            "patch": {
                "operationId": "change_status",
                "responses": {
                    "409": {"description": "Not an allowed move (`invalid_transition`)"},
                    "422": _json_response(_ref("HTTPValidationError")),
                },
            }
        },
        "/healthz": {"get": {"operationId": "healthz", "responses": {}}},
    },
    "components": {
        "schemas": {
            "Page": {"type": "object", "properties": {"orders": {"type": "array"}}},
            "HTTPValidationError": {"type": "object"},
        }
    },
}

AUTH: dict[str, Any] = {
    "paths": {
        "/auth/login": {
            "post": {"operationId": "login", "responses": {"200": _json_response(_ref("Page"))}}
        },
        "/users": {"get": {"operationId": "get_order", "responses": {}}},
        "/.well-known/jwks.json": {"get": {"operationId": "jwks", "responses": {}}},
    },
    "components": {"schemas": {"Page": {"type": "object", "properties": {"users": {}}}}},
}


@pytest.fixture
def merged() -> dict[str, Any]:
    return merge_documents(OWN, {Upstream.ORDERS: ORDERS, Upstream.AUTH: AUTH})


def test_service_paths_appear_under_their_api_paths_and_only_routed_ones(
    merged: dict[str, Any],
) -> None:
    assert set(merged["paths"]) == {
        "/api/events",
        "/api/orders/{order_id}",
        "/api/orders/{order_id}/status",
        "/api/auth/login",
        "/api/users",
    }


def test_colliding_components_are_renamed_and_their_references_follow(
    merged: dict[str, Any],
) -> None:
    schemas = merged["components"]["schemas"]
    login = merged["paths"]["/api/auth/login"]["post"]["responses"]["200"]
    order = merged["paths"]["/api/orders/{order_id}"]["get"]["responses"]["200"]

    # auth is merged first, so orders' different Page is the one renamed
    assert login["content"]["application/json"]["schema"] == _ref("Page")
    assert order["content"]["application/json"]["schema"] == _ref("OrdersPage")
    assert schemas["Page"]["properties"] == {"users": {}}
    assert schemas["OrdersPage"]["properties"] == {"orders": {"type": "array"}}


def test_signed_in_routes_need_the_bearer_token_and_public_ones_do_not(
    merged: dict[str, Any],
) -> None:
    login = merged["paths"]["/api/auth/login"]["post"]
    status = merged["paths"]["/api/orders/{order_id}/status"]["patch"]

    assert "security" not in login
    assert status["security"] == [{"HTTPBearer": []}]
    assert {"401", "403", "429", "503"} <= set(status["responses"])
    assert merged["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_every_error_answer_is_documented_in_the_contract_error_shape(
    merged: dict[str, Any],
) -> None:
    status = merged["paths"]["/api/orders/{order_id}/status"]["patch"]["responses"]
    events = merged["paths"]["/api/events"]["get"]["responses"]

    for response in (status["409"], status["422"], events["422"]):
        assert response["content"]["application/json"]["schema"] == _ref("ApiError")
    assert status["409"]["description"] == "Not an allowed move (`invalid_transition`)"
    assert "HTTPValidationError" not in merged["components"]["schemas"]


def test_operation_ids_stay_unique(merged: dict[str, Any]) -> None:
    ids = [
        operation["operationId"] for item in merged["paths"].values() for operation in item.values()
    ]

    assert len(ids) == len(set(ids))


def test_merging_leaves_the_inputs_untouched() -> None:
    before = repr(ORDERS)

    merge_documents(OWN, {Upstream.ORDERS: ORDERS})

    assert repr(ORDERS) == before
