"""What the service prepares once MongoDB answers, before it reports ready."""

from __future__ import annotations

from loguru import logger

from auth.keys import SigningKeys, generate_signing_key, load_or_create_key_file
from auth.service import UserAdmin
from auth.settings import AuthSettings
from orderhub_common.context import new_id
from orderhub_common.resources import Resource
from orderhub_common.security import Role


async def load_signing_keys(settings: AuthSettings) -> SigningKeys:
    if settings.jwt_private_keys is not None:
        return SigningKeys.parse(
            settings.jwt_private_keys.get_secret_value(),
            algorithm=settings.jwt_algorithm,
            active_kid=settings.jwt_active_kid,
        )
    # Development and tests only (production settings refuse to start without keys).
    candidate = generate_signing_key(settings.jwt_algorithm, kid=f"dev-{new_id()}")
    if settings.jwt_private_keys_file is None:
        logger.warning("no JWT_PRIVATE_KEYS(_FILE): signing with a key this process generated")
        jwk_set = {"keys": [dict(candidate.as_dict(private=True))]}
    else:
        jwk_set = load_or_create_key_file(settings.jwt_private_keys_file, candidate)
        logger.warning(
            f"JWT_PRIVATE_KEYS is not set: signing with the development key in "
            f"{settings.jwt_private_keys_file}"
        )
    return SigningKeys.from_jwk_set(
        jwk_set, algorithm=settings.jwt_algorithm, active_kid=settings.jwt_active_kid
    )


class BootstrapUsers(Resource):
    """Creates the configured admin and viewer on first start; a no-op afterwards."""

    name = "bootstrap_users"

    def __init__(self, settings: AuthSettings, admin: UserAdmin) -> None:
        self._settings = settings
        self._admin = admin
        self._done = False

    async def connect(self) -> None:
        settings = self._settings
        configured = [
            (settings.bootstrap_admin_email, settings.bootstrap_admin_password, Role.ADMIN),
            (settings.bootstrap_viewer_email, settings.bootstrap_viewer_password, Role.VIEWER),
        ]
        for email, password, role in configured:
            if email is not None and password is not None:
                await self._admin.ensure_bootstrap_user(email, password.get_secret_value(), role)
        self._done = True

    async def ping(self) -> None:
        if not self._done:
            raise RuntimeError("bootstrap users not created yet")

    async def close(self) -> None:
        return None
