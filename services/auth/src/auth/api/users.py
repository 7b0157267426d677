from __future__ import annotations

from fastapi import APIRouter, status

from auth.deps import Admin, UserAdminDep
from auth.schemas import UserCreate, UserEnvelope, UserList, UserUpdate

router = APIRouter(tags=["users"])


@router.get("/users", response_model=UserList, operation_id="listUsers")
async def list_users(admin: UserAdminDep, _: Admin) -> UserList:
    return UserList(users=await admin.list())


@router.post(
    "/users",
    response_model=UserEnvelope,
    status_code=status.HTTP_201_CREATED,
    operation_id="createUser",
)
async def create_user(body: UserCreate, admin: UserAdminDep, _: Admin) -> UserEnvelope:
    return UserEnvelope(user=await admin.create(body))


@router.patch("/users/{user_id}", response_model=UserEnvelope, operation_id="updateUser")
async def update_user(
    user_id: str, body: UserUpdate, admin: UserAdminDep, acting: Admin
) -> UserEnvelope:
    """Changes email, password, role or active; admins cannot demote or deactivate themselves."""
    return UserEnvelope(user=await admin.update(user_id, body, acting))
