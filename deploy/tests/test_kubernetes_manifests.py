"""The Kubernetes manifests (deploy/kubernetes) are valid and say what operating them relies on.

Validated offline against the Kubernetes JSON schemas that ``kubernetes-validate`` bundles, in
strict mode (an unknown or misspelt field fails). The base is plain manifests, read from the
files its kustomization lists; the overlays are rendered with ``kubectl kustomize`` where
kubectl is installed.
"""

from __future__ import annotations

import copy
import functools
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

from deploy.config_reference import SERVICES, secret_variables, variables_of
from orderhub_common.settings import KafkaSettings
from orders.settings import OrdersMigrationSettings

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAYS = sorted(p.parent.name for p in (KUBERNETES / "overlays").glob("*/kustomization.yaml"))
# The oldest Kubernetes the manifests claim to run on, and the newest the schemas know.
VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
STATELESS = {"gateway", "auth", "orders"}
# The Kafka credentials every Kafka client will read once the broker requires them (issue #11,
# security); until its settings land they are referenced, and read by nobody.
KAFKA_CREDENTIALS = {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"}


def readable(settings_class: type) -> set[str]:
    kafka = KAFKA_CREDENTIALS if issubclass(settings_class, KafkaSettings) else set()
    return variables_of(settings_class) | kafka


SECRETS = set().union(*(secret_variables(cls) for cls, _ in SERVICES.values()))

Manifest = dict[str, Any]


@pytest.fixture(scope="module", autouse=True)
def _schemas_parsed_once(monkeypatch_module: pytest.MonkeyPatch) -> None:
    # kubernetes-validate parses a schema file (megabytes of JSON) on every call: 0.3 s a
    # manifest. The same schema answers every manifest of its kind.
    for name in ("schema_contents", "all_versions"):
        cached = functools.cache(getattr(kubernetes_validate.utils, name))
        monkeypatch_module.setattr(kubernetes_validate.utils, name, cached)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def base_manifests() -> list[Manifest]:
    kustomization = yaml.safe_load((KUBERNETES / "base" / "kustomization.yaml").read_text())
    docs: list[Manifest] = []
    for resource in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((KUBERNETES / "base" / resource).read_text()) if d]
    return docs


# gcloud's kubectl is a dispatcher that first asks the configured API server (localhost:8080
# when there is none) for its version. A CI run once saw one render hang for the whole 300 s
# test timeout, so each render has its own deadline and one more try, and each overlay is
# rendered once per session rather than once per fixture setup.
KUSTOMIZE_DEADLINE_S = 60
KUSTOMIZE_ATTEMPTS = 2


@functools.cache
def rendered_once(overlay: str, kubectl: str) -> tuple[Manifest, ...]:
    command = [kubectl, "kustomize", str(KUBERNETES / "overlays" / overlay)]
    for _ in range(KUSTOMIZE_ATTEMPTS):
        try:
            out = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=True,
                timeout=KUSTOMIZE_DEADLINE_S,
            ).stdout
        except subprocess.TimeoutExpired:
            continue
        return tuple(d for d in yaml.safe_load_all(out) if d)
    pytest.fail(f"`{' '.join(command)}` gave no output in {KUSTOMIZE_DEADLINE_S} s, twice")


def rendered(overlay: str) -> list[Manifest]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    # Copies: tests index into the documents and must not share one mutable tree.
    return copy.deepcopy(list(rendered_once(overlay, kubectl)))


@pytest.fixture(scope="module", params=["base", *OVERLAYS])
def manifests(request: pytest.FixtureRequest) -> list[Manifest]:
    return base_manifests() if request.param == "base" else rendered(request.param)


def of_kind(docs: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container(deployment: Manifest) -> Manifest:
    containers: list[Manifest] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_there_are_overlays_for_a_small_cluster_and_for_production() -> None:
    assert OVERLAYS == ["dev", "production"]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_follows_the_kubernetes_schema(
    manifests: list[Manifest], version: str
) -> None:
    errors = []
    for doc in manifests:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")

    assert errors == []


def test_every_service_runs_as_a_deployment_behind_a_service_on_its_port(
    manifests: list[Manifest],
) -> None:
    deployments = of_kind(manifests, "Deployment")
    services = of_kind(manifests, "Service")

    assert set(deployments) == set(SERVICES)
    for name, (settings_class, _) in SERVICES.items():
        port = settings_class.model_fields["port"].default
        assert container(deployments[name])["ports"] == [{"name": "http", "containerPort": port}]
        assert services[name]["spec"]["ports"] == [
            {"name": "http", "port": port, "targetPort": "http"}
        ]
        assert container(deployments[name])["image"].split(":")[0].endswith(f"/{name}")


@pytest.mark.parametrize("name", SERVICES)
def test_a_pod_is_probed_on_healthz_and_readyz_and_has_requests_and_limits(
    manifests: list[Manifest], name: str
) -> None:
    spec = of_kind(manifests, "Deployment")[name]["spec"]["template"]["spec"]
    main = container(of_kind(manifests, "Deployment")[name])

    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert set(main["resources"]["requests"]) == {"cpu", "memory"}
    assert set(main["resources"]["limits"]) == {"cpu", "memory"}
    # Service links would set e.g. AUTH_PORT=tcp://10.0.0.1:8001, the very variable auth reads
    # its port from: the pod would not start.
    assert spec["enableServiceLinks"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert main["securityContext"]["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("name", SERVICES)
def test_secrets_are_referenced_from_a_secret_never_written_in_a_manifest(
    manifests: list[Manifest], name: str
) -> None:
    main = container(of_kind(manifests, "Deployment")[name])
    config = of_kind(manifests, "ConfigMap")["orderhub-config"]["data"]
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in main.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    from_secret = set(refs)
    written = {e["name"] for e in main.get("env", []) if "value" in e} | set(config)

    settings_class, _ = SERVICES[name]

    assert of_kind(manifests, "Secret") == {}
    # One Secret, each key named after the variable it fills (DEPLOYMENT.md lists them).
    assert {(r["name"], r["key"]) for r in refs.values()} == {
        ("orderhub-secrets", name) for name in refs
    }
    assert secret_variables(settings_class) <= from_secret
    assert from_secret <= readable(settings_class), "a referenced secret nobody reads"
    assert written.isdisjoint(SECRETS | KAFKA_CREDENTIALS)


def test_the_mock_channels_keep_their_orders_on_a_writable_volume(
    manifests: list[Manifest],
) -> None:
    # The root filesystem is read-only: the SQLite file must sit on a mounted volume.
    pod = of_kind(manifests, "Deployment")["mock-channels"]["spec"]["template"]["spec"]
    main = container(of_kind(manifests, "Deployment")["mock-channels"])
    env = {e["name"]: e.get("value") for e in main.get("env", [])}
    database = PurePosixPath(env["MOCK_CHANNELS_DATABASE"])
    mounted = {m["name"]: m["mountPath"] for m in main["volumeMounts"]}

    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert str(database.parent) in mounted.values()
    assert {v["name"] for v in pod["volumes"]} >= set(mounted)


def test_the_mock_channels_serve_no_control_api(manifests: list[Manifest]) -> None:
    # Unauthenticated order creation and fault injection: a demo overlay may turn it on (the
    # development environment), production refuses it at start.
    main = container(of_kind(manifests, "Deployment")["mock-channels"])
    env = {e["name"]: e.get("value") for e in main.get("env", [])}
    config = of_kind(manifests, "ConfigMap")["orderhub-config"]["data"]

    assert env.get("MOCK_CHANNELS_CONTROL_API", "false") == "false"
    assert "MOCK_CHANNELS_CONTROL_API" not in config


def test_every_replicated_service_has_a_disruption_budget(manifests: list[Manifest]) -> None:
    budgets = of_kind(manifests, "PodDisruptionBudget")
    autoscaled = of_kind(manifests, "HorizontalPodAutoscaler")
    replicated = {
        name
        for name, d in of_kind(manifests, "Deployment").items()
        if d["spec"]["replicas"] > 1 or name in autoscaled
    }

    covered = {
        budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for budget in budgets.values()
    }
    assert replicated <= covered
    assert "mock-channels" not in covered, "one in-memory replica: a budget only blocks drains"


def test_the_stateless_services_scale_on_cpu_within_what_kafka_allows(
    manifests: list[Manifest],
) -> None:
    autoscalers = of_kind(manifests, "HorizontalPodAutoscaler")

    assert set(autoscalers) == STATELESS
    for name, hpa in autoscalers.items():
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    config = of_kind(manifests, "ConfigMap")["orderhub-config"]["data"]
    # A consumer past the partition count of orders.ingested.v1 would only stand by.
    assert autoscalers["orders"]["spec"]["maxReplicas"] <= int(config["KAFKA_PARTITIONS"])


def test_only_the_gateway_can_be_reached_from_outside(manifests: list[Manifest]) -> None:
    policies = of_kind(manifests, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    open_to_all = set()
    for policy in policies.values():
        for rule in policy["spec"].get("ingress", []):
            sources = rule.get("from", [])
            if not sources or any("ipBlock" in s for s in sources):
                open_to_all.add(
                    policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                )
            for source in sources:
                # Other namespaces only by name, and only for scraping metrics.
                if "namespaceSelector" in source:
                    assert source["namespaceSelector"] == {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    }

    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert open_to_all == {"gateway"}
    ingresses = of_kind(manifests, "Ingress")
    for ingress in ingresses.values():
        backends = {
            path["backend"]["service"]["name"]
            for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]
        }
        assert backends == {"gateway"}
        assert ingress["spec"]["tls"], "HTTPS only"


def test_the_query_side_is_migrated_by_a_job_of_its_own_with_the_owners_secret(
    manifests: list[Manifest],
) -> None:
    # Issue 25, item 6: migrating inside orders' start-up, under its startup probe, killed a long
    # backfill on every try (a crash loop), and gave every orders pod the owner's password.
    job = of_kind(manifests, "Job")["orders-migrate"]
    pod = job["spec"]["template"]["spec"]
    main = container(job)
    orders = container(of_kind(manifests, "Deployment")["orders"])
    secrets = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in main["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    values = {e["name"]: e["value"] for e in main["env"] if "value" in e}

    assert main["image"].split(":")[0] == orders["image"].split(":")[0], "the orders image"
    assert main["command"] == ["orders-migrate"]
    assert secrets == {
        "ORDERS_POSTGRES_MIGRATION_URL": {
            "name": "orderhub-secrets",
            "key": "ORDERS_POSTGRES_MIGRATION_URL",
        }
    }
    assert set(secrets) | set(values) <= variables_of(OrdersMigrationSettings)
    assert values["ORDERS_POSTGRES_SERVICE_ROLE"] == "orderhub"
    assert pod["restartPolicy"] == "Never"
    assert "activeDeadlineSeconds" not in job["spec"], "a backfill takes what it takes"
    assert not {"startupProbe", "livenessProbe"} & set(main), "no probe cuts a migration short"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["enableServiceLinks"] is False


def test_orders_pods_hold_no_owners_url_and_do_not_migrate(manifests: list[Manifest]) -> None:
    orders = container(of_kind(manifests, "Deployment")["orders"])
    names = {e["name"] for e in orders.get("env", [])}
    keys = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for e in orders.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }

    assert "ORDERS_POSTGRES_MIGRATION_URL" not in names | keys
    assert not {"command", "args"} & set(orders), "the image's own command: the service"
    assert (
        "initContainers"
        not in of_kind(manifests, "Deployment")["orders"]["spec"]["template"]["spec"]
    )
