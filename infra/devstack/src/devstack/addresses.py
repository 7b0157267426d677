"""Where each component of one profile answers, and the environment services find them by."""

from __future__ import annotations

from urllib.parse import quote

from devstack import credentials, kafka_tls, postgres
from devstack.components import SERVICES, component, runs_ferretdb
from devstack.install import REPO
from devstack.profiles import Profile


class Addresses:
    """Every address is on 127.0.0.1, at the profile's port for that component; the stores'
    addresses carry the profile's credentials (``devstack.credentials``)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.profile.port('kafka')}"

    def kafka_environment(self) -> dict[str, str]:
        """How a client reaches Kafka: the variables ``KafkaSettings`` reads (SASL/PLAIN)."""
        env = self.profile.environment
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": env["KAFKA_SASL_USERNAME"],
            "KAFKA_SASL_PASSWORD": env["KAFKA_SASL_PASSWORD"],
        }

    @property
    def kafka_tls_bootstrap(self) -> str:
        """The SASL_SSL listener (PLAIN or SCRAM-SHA-512), certificate of ``kafka_tls``'s CA."""
        return f"127.0.0.1:{self.profile.port('kafka_tls')}"

    @property
    def kafka_mtls_bootstrap(self) -> str:
        """The SSL listener that requires a client certificate of ``kafka_tls``'s CA."""
        return f"127.0.0.1:{self.profile.port('kafka_mtls')}"

    @property
    def kafka_tls(self) -> kafka_tls.KafkaTls:
        """The broker's CA (``ca_file``, for clients to trust) and its certificates."""
        return kafka_tls.folder(self.profile.data_dir)

    @property
    def mongodb_url(self) -> str:
        if self.profile.external_mongodb_url:
            return self.profile.external_mongodb_url
        port = self.profile.port("mongodb")
        if not runs_ferretdb():
            # A mongod found on the PATH runs as it is, without users.
            return f"mongodb://127.0.0.1:{port}"
        return f"mongodb://{self._userinfo('MONGODB')}@127.0.0.1:{port}/?authSource=admin"

    @property
    def postgres_url(self) -> str:
        """The role the orders service works as, on its database ``orderhub_orders``."""
        password = self.profile.environment[postgres.PASSWORD_VARIABLE]
        return postgres.url(postgres.ROLE, password, self.profile.port("postgres"))

    @property
    def postgres_owner_url(self) -> str:
        """The role that owns the database and migrates it (LOGIN CREATEDB)."""
        password = self.profile.environment[postgres.OWNER_PASSWORD_VARIABLE]
        return postgres.url(postgres.OWNER, password, self.profile.port("postgres"))

    @property
    def redis_url(self) -> str:
        return f"redis://{self._userinfo('REDIS')}@127.0.0.1:{self.profile.port('redis')}/0"

    @property
    def redis_test_admin_url(self) -> str | None:
        """The test profile's clean-up user (``credentials.for_tests``); None elsewhere."""
        if "REDIS_TEST_ADMIN_USERNAME" not in self.profile.environment:
            return None
        return (
            f"redis://{self._userinfo('REDIS_TEST_ADMIN')}@127.0.0.1:{self.profile.port('redis')}/0"
        )

    def _userinfo(self, store: str) -> str:
        env = self.profile.environment
        user, password = env[f"{store}_USERNAME"], env[f"{store}_PASSWORD"]
        return f"{quote(user, safe='')}:{quote(password, safe='')}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.profile.port(service)}"

    def service_environment(self) -> dict[str, str]:
        """The profile's settings plus every address, as the services read them."""
        env = dict(self.profile.environment)
        env.update(self.kafka_environment())
        env.update(
            {
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
        # FerretDB creates its user from these on its first start (the variable keeps the
        # password off its command line).
        env["FERRETDB_SETUP_PASSWORD"] = env["MONGODB_PASSWORD"]
        # A service's Kafka password is given to that service's process alone (the supervisor).
        for variable in credentials.KAFKA_SERVICE_PASSWORDS:
            env.pop(variable, None)
        # The schema owner's password is the migration step's alone (``components``): no
        # service, orders included, gets it.
        env.pop(postgres.OWNER_PASSWORD_VARIABLE, None)
        for name in SERVICES:
            env[component(name).port_variable] = str(self.profile.port(name))
        return env
