from __future__ import annotations

from fastapi import APIRouter, status

from auth.deps import Admin, UserAdminDep
from auth.schemas import UserCreate, UserEnvelope, UserList, UserNames, UserUpdate
from orderhub_common.http import ClientKey
from orderhub_common.security import CurrentPrincipal

router = APIRouter(tags=["users"])


@router.get("/users", response_model=UserList, operation_id="listUsers")
async def list_users(admin: UserAdminDep, acting: Admin) -> UserList:
    return UserList(users=await admin.list(acting))


@router.get("/users/names", response_model=UserNames, operation_id="userNames")
async def user_names(admin: UserAdminDep, _: CurrentPrincipal) -> UserNames:
    """Every user's display name by id, for anyone signed in: how the SPA names the people in
    an order's history and notes and in the audit log."""
    return UserNames(users=await admin.names())


@router.post(
    "/users",
    response_model=UserEnvelope,
    status_code=status.HTTP_201_CREATED,
    operation_id="createUser",
)
async def create_user(
    body: UserCreate, admin: UserAdminDep, acting: Admin, ip: ClientKey
) -> UserEnvelope:
    return UserEnvelope(user=await admin.create(body, acting, ip))


@router.patch("/users/{user_id}", response_model=UserEnvelope, operation_id="updateUser")
async def update_user(
    user_id: str, body: UserUpdate, admin: UserAdminDep, acting: Admin, ip: ClientKey
) -> UserEnvelope:
    """Changes email, password, role, active or displayName; admins cannot demote or
    deactivate themselves, and no change may leave no active admin (409 `last_admin`). A change
    of role, state, password or email ends the user's sessions and access tokens."""
    return UserEnvelope(user=await admin.update(user_id, body, acting, ip))
