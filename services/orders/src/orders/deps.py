"""FastAPI dependencies: the service from app.state, and who is calling.

Tokens are verified here too (not only at the gateway) with the shared verifier kept on
``app.state.jwt_verifier``: every read needs a signed-in admin or viewer, a status move an admin.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from orderhub_common.revocation import require_current_role
from orderhub_common.security import CurrentPrincipal, Principal, Role
from orders.service import OrderService


def order_service(request: Request) -> OrderService:
    service: OrderService = request.app.state.order_service
    return service


OrderServiceDep = Annotated[OrderService, Depends(order_service)]
SignedIn = CurrentPrincipal
Admin = Annotated[Principal, Depends(require_current_role(Role.ADMIN))]
