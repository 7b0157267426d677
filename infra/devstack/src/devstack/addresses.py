"""Where each component of one profile answers, and the environment services find them by."""

from __future__ import annotations

from devstack import postgres
from devstack.components import SERVICES, component
from devstack.install import REPO
from devstack.profiles import Profile


class Addresses:
    """Every address is on 127.0.0.1, at the profile's port for that component."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.profile.port('kafka')}"

    @property
    def mongodb_url(self) -> str:
        return self.profile.external_mongodb_url or (
            f"mongodb://127.0.0.1:{self.profile.port('mongodb')}"
        )

    @property
    def postgres_url(self) -> str:
        """The ``orderhub`` role (LOGIN CREATEDB) on its database ``orderhub_orders``."""
        password = self.profile.environment[postgres.PASSWORD_VARIABLE]
        return postgres.url(password, self.profile.port("postgres"))

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.profile.port('redis')}/0"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.profile.port(service)}"

    def service_environment(self) -> dict[str, str]:
        """The profile's settings plus every address, as the services read them."""
        env = dict(self.profile.environment)
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                "MONGODB_URL": self.mongodb_url,
                "ORDERS_POSTGRES_URL": self.postgres_url,
                "REDIS_URL": self.redis_url,
                "AUTH_URL": self.url("auth"),
                "ORDERS_URL": self.url("orders"),
                "INGEST_URL": self.url("ingest"),
                "MOCK_CHANNELS_URL": self.url("mock_channels"),
                # The mock channels keep their orders across restarts, beside the other data.
                "MOCK_CHANNELS_DATABASE": str(self.profile.data_dir / "mock_channels.sqlite3"),
                "JWKS_URL": f"{self.url('auth')}/.well-known/jwks.json",
                "FRONTEND_DIST": str(REPO / "frontend" / "dist"),
            }
        )
        # Without JWT_PRIVATE_KEYS, auth generates its development key into this secret file
        # (0600, in a 0700 folder) on first start: never into the store.
        env.setdefault(
            "JWT_PRIVATE_KEYS_FILE",
            str(self.profile.data_dir / "secrets" / "jwt-private-keys.json"),
        )
        for name in SERVICES:
            env[component(name).port_variable] = str(self.profile.port(name))
        return env
