"""The Kubernetes manifests (deploy/kubernetes) are valid and say what operating them relies on.

Validated offline against the Kubernetes JSON schemas that ``kubernetes-validate`` bundles, in
strict mode (an unknown or misspelt field fails); the Prometheus Operator's resources, which
those schemas do not know, are checked for their shape here. The base is plain manifests, read
from the files its kustomization lists; the overlays are rendered with ``kubectl kustomize``
where kubectl is installed, and checked for what deploying them relies on: one namespace, images
CI pushes, no replica count an autoscaler owns, a gateway that believes X-Forwarded-For only from
what can reach it, and Prometheus scraping every service under the `job` the alert rules name.
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
from collections.abc import Iterator
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
import promql_parser
import pytest
import yaml
from ruamel.yaml import YAML

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
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
# Each overlay's namespace: the base's, or the one the overlay renames it to.
NAMESPACES = {"dev": "orderhub-dev", "production": "orderhub"}
# The ingress controller's namespace (ingress-nginx's), the one way in to the gateway; and
# Prometheus', which scrapes /metrics.
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"
# Custom resources: kubernetes-validate bundles the schemas of Kubernetes' own kinds only, and
# would answer these with SchemaNotFoundError. Their shape is checked by the tests below instead
# (test_the_prometheus_operator_resources_have_the_fields_its_crds_define).
CUSTOM_RESOURCE_GROUPS = {"monitoring.coreos.com"}
# The Kafka credentials every Kafka client will read once the broker requires them (issue #11,
# security); until its settings land they are referenced, and read by nobody.
KAFKA_CREDENTIALS = {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"}
# The mock channels are a demo's (components/demo-channels): the dev overlay has them, the base
# and production do not.
DEMO = "mock-channels"
WITH_DEMO_CHANNELS = {"dev"}


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


def demo_channels(manifests: list[Manifest]) -> Manifest:
    """The mock channels' Deployment, where the manifests deploy them (else the test skips)."""
    deployments = of_kind(manifests, "Deployment")
    if DEMO not in deployments:
        pytest.skip("no mock channels here: a demo's (components/demo-channels)")
    return deployments[DEMO]


def channel_secret(variable: str) -> tuple[str, str]:
    """The Secret and key a secret variable comes from: each channel's credentials in its own
    Secret (the Amazon and website simulators' accepted ones from the same keys), Kafka's per
    service."""
    if variable.startswith(("AMAZON_", "MOCK_AMAZON_")):
        return "orderhub-channel-amazon", variable.removeprefix("MOCK_")
    if variable.startswith(("SHOPIFY_", "MOCK_SHOPIFY_")):
        return "orderhub-channel-website", variable.removeprefix("MOCK_")
    return "orderhub-secrets", variable


def of_kind(docs: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container(deployment: Manifest) -> Manifest:
    containers: list[Manifest] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def schema_errors(docs: list[Manifest], version: str, custom_groups: set[str]) -> list[str]:
    """Each object that breaks Kubernetes' strict schema of ``version``, named; custom resources
    (API groups in ``custom_groups``) have no schema here and are checked field by field."""
    errors = []
    for doc in docs:
        if doc["apiVersion"].split("/")[0] in custom_groups:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    return errors


def test_there_are_overlays_for_a_small_cluster_and_for_production() -> None:
    assert OVERLAYS == ["dev", "production"]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_follows_the_kubernetes_schema(
    manifests: list[Manifest], version: str
) -> None:
    assert schema_errors(manifests, version, CUSTOM_RESOURCE_GROUPS) == []


def test_every_service_runs_as_a_deployment_behind_a_service_on_its_port(
    manifests: list[Manifest],
) -> None:
    deployments = of_kind(manifests, "Deployment")
    services = of_kind(manifests, "Service")

    demo = DEMO in deployments
    assert set(deployments) == set(SERVICES) - (set() if demo else {DEMO})
    for name, (settings_class, _) in SERVICES.items():
        if name not in deployments:
            continue
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
    if name == DEMO:
        demo_channels(manifests)
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
    if name == DEMO:
        demo_channels(manifests)
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
    # One Secret, each key named after the variable it fills (DEPLOYMENT.md lists them); the
    # Kafka credentials in one Secret per service, as each signs in as its own user with its
    # own ACLs (orderhub_common.kafka_access).
    assert {(r["name"], r["key"]) for r in refs.values()} == {
        (f"orderhub-kafka-{name}", variable)
        if variable in KAFKA_CREDENTIALS
        else channel_secret(variable)
        for variable in refs
    }
    assert secret_variables(settings_class) <= from_secret
    assert from_secret <= readable(settings_class), "a referenced secret nobody reads"
    assert written.isdisjoint(SECRETS | KAFKA_CREDENTIALS)


def test_the_mock_channels_keep_their_orders_on_a_writable_volume(
    manifests: list[Manifest],
) -> None:
    # The root filesystem is read-only: the SQLite file must sit on a mounted volume.
    pod = demo_channels(manifests)["spec"]["template"]["spec"]
    main = container(demo_channels(manifests))
    env = {e["name"]: e.get("value") for e in main.get("env", [])}
    database = PurePosixPath(env["MOCK_CHANNELS_DATABASE"])
    mounted = {m["name"]: m["mountPath"] for m in main["volumeMounts"]}

    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert str(database.parent) in mounted.values()
    assert {v["name"] for v in pod["volumes"]} >= set(mounted)


def test_the_mock_channels_serve_no_control_api(manifests: list[Manifest]) -> None:
    # Unauthenticated order creation and fault injection: a demo overlay may turn it on (the
    # development environment), production refuses it at start.
    main = container(demo_channels(manifests))
    env = {e["name"]: e.get("value") for e in main.get("env", [])}
    config = of_kind(manifests, "ConfigMap")["orderhub-config"]["data"]

    assert env.get("MOCK_CHANNELS_CONTROL_API", "false") == "false"
    assert "MOCK_CHANNELS_CONTROL_API" not in config


def test_production_talks_to_the_real_channels_and_deploys_no_mock_ones() -> None:
    production = rendered("production")
    config = of_kind(production, "ConfigMap")["orderhub-config"]["data"]

    assert DEMO not in of_kind(production, "Deployment")
    assert config["AMAZON_SP_API_ENDPOINT"].startswith("https://sellingpartnerapi-")
    assert config["AMAZON_LWA_ENDPOINT"] == "https://api.amazon.com/auth/o2/token"
    assert config["INGEST_PAUSED_CHANNELS"] == "blinkit", "Blinkit has no public seller API"
    for name in ("ingest", "orders"):
        env = container(of_kind(production, "Deployment")[name]).get("env", [])
        refs = {
            e["name"]: e["valueFrom"]["secretKeyRef"]
            for e in env
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        assert "orderhub-channel-amazon" in {ref["name"] for ref in refs.values()}
        # The website's real shop: without it ingest would poll the simulator, absent here.
        shop = refs["SHOPIFY_SHOP_URL"]
        assert shop["name"] == "orderhub-channel-website"
        assert not shop.get("optional", False)
        assert refs["SHOPIFY_ADMIN_TOKEN"]["name"] == "orderhub-channel-website"
    assert DEMO in of_kind(rendered("dev"), "Deployment"), "the dev overlay asks for the demo"


def test_every_replicated_service_has_a_disruption_budget(manifests: list[Manifest]) -> None:
    budgets = of_kind(manifests, "PodDisruptionBudget")
    autoscaled = of_kind(manifests, "HorizontalPodAutoscaler")
    replicated = {
        name
        for name, d in of_kind(manifests, "Deployment").items()
        if d["spec"].get("replicas", 1) > 1 or name in autoscaled
    }

    covered = {
        budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for budget in budgets.values()
    }
    assert replicated <= covered
    assert "mock-channels" not in covered, "one replica by design: a budget only blocks drains"


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


def selects(selector: Manifest, labels: dict[str, str]) -> bool:
    """Whether a NetworkPolicy's podSelector selects pods with these labels (matchLabels only:
    the policies use nothing else)."""
    assert set(selector) <= {"matchLabels"}, selector
    return selector.get("matchLabels", {}).items() <= labels.items()


ANYWHERE = "anywhere"


def sources_reaching(manifests: list[Manifest], name: str, port: int) -> list[Any]:
    """What the network policies let reach a service's pods on a port: each rule's `from`
    entries, or ANYWHERE for a rule without one."""
    pod_labels = of_kind(manifests, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
    sources: list[Any] = []
    for policy in of_kind(manifests, "NetworkPolicy").values():
        if not selects(policy["spec"]["podSelector"], pod_labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            if ports and port not in ports and "http" not in ports:
                continue
            sources += rule.get("from", [ANYWHERE])
    return sources


def namespace_named(source: Any) -> str | None:
    if source == ANYWHERE or set(source) != {"namespaceSelector"}:
        return None
    selector = source["namespaceSelector"]
    if set(selector) != {"matchLabels"} or set(selector["matchLabels"]) != {
        "kubernetes.io/metadata.name"
    }:
        return None
    name: str = selector["matchLabels"]["kubernetes.io/metadata.name"]
    return name


def test_only_the_gateway_can_be_reached_from_outside(manifests: list[Manifest]) -> None:
    policies = of_kind(manifests, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    open_to_all = set()
    for policy in policies.values():
        selected = policy["spec"]["podSelector"].get("matchLabels", {})
        for rule in policy["spec"].get("ingress", []):
            sources = rule.get("from", [])
            if not sources or any("ipBlock" in s for s in sources):
                open_to_all.add(selected.get("app.kubernetes.io/name", "every pod"))
            for source in sources:
                # Other namespaces only by name: Prometheus', for metrics; the ingress
                # controller's, for the gateway alone.
                if "namespaceSelector" in source:
                    allowed = {MONITORING_NAMESPACE} | (
                        {INGRESS_NAMESPACE}
                        if selected == {"app.kubernetes.io/name": "gateway"}
                        else set()
                    )
                    assert namespace_named(source) in allowed, (policy["metadata"]["name"], source)

    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert open_to_all == set()
    for name in set(SERVICES) - {"gateway"}:
        if name not in of_kind(manifests, "Deployment"):
            continue  # the mock channels, where no demo asked for them
        port = SERVICES[name][0].model_fields["port"].default
        assert {namespace_named(s) for s in sources_reaching(manifests, name, port)} <= {
            None,  # the pods of this namespace, by label
            MONITORING_NAMESPACE,
        }
    ingresses = of_kind(manifests, "Ingress")
    for ingress in ingresses.values():
        backends = {
            path["backend"]["service"]["name"]
            for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]
        }
        assert backends == {"gateway"}
        assert ingress["spec"]["tls"], "HTTPS only"


Network = IPv4Network | IPv6Network


def networks(setting: str) -> list[Network] | None:
    """A FORWARDED_ALLOW_IPS-style setting's networks; None for "*" (any address)."""
    entries = [e.strip() for e in setting.split(",") if e.strip()]
    if "*" in entries:
        return None
    return [ip_network(e, strict=False) for e in entries]


def test_the_gateway_believes_forwarded_for_only_from_what_may_reach_it(
    manifests: list[Manifest],
) -> None:
    # Whoever connects from an address in GATEWAY_FORWARDED_ALLOW_IPS names the client (rate
    # limits, sign-in throttles, /metrics' allowance and the audit log go by it). A gateway that
    # trusts every pod (the pod network, FORWARDED_ALLOW_IPS) must be reachable from the ingress
    # controller and the cluster's monitoring alone, never from any other namespace.
    config = of_kind(manifests, "ConfigMap")["orderhub-config"]["data"]
    port = SERVICES["gateway"][0].model_fields["port"].default
    sources = sources_reaching(manifests, "gateway", port)
    reached_from = {namespace_named(s) for s in sources}
    trusted = networks(config["GATEWAY_FORWARDED_ALLOW_IPS"])
    assert trusted, "the gateway believes its ingress controller (the pod network at most)"

    assert ANYWHERE not in sources
    assert None not in reached_from, sources
    assert INGRESS_NAMESPACE in reached_from
    assert reached_from <= {INGRESS_NAMESPACE, MONITORING_NAMESPACE}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_an_overlay_is_in_its_namespace(overlay: str) -> None:
    # An object without one lands in `default` (or wherever kubectl's context points), where
    # none of the others is: an Ingress there finds no `gateway` Service.
    docs = rendered(overlay)
    namespaces = of_kind(docs, "Namespace")
    elsewhere = {
        f"{d['kind']}/{d['metadata']['name']}": d["metadata"].get("namespace")
        for d in docs
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != NAMESPACES[overlay]
    }

    assert set(namespaces) == {NAMESPACES[overlay]}
    assert elsewhere == {}


def test_no_deployment_sets_the_replicas_its_autoscaler_owns(manifests: list[Manifest]) -> None:
    # kubectl apply would set the count back to the manifest's at every deploy (scaling an
    # autoscaled service down, until the autoscaler scales it up again).
    deployments = of_kind(manifests, "Deployment")
    targets = [
        hpa["spec"]["scaleTargetRef"]
        for hpa in of_kind(manifests, "HorizontalPodAutoscaler").values()
    ]

    assert targets
    assert {
        t["name"]: deployments[t["name"]]["spec"].get("replicas")
        for t in targets
        if t["kind"] == "Deployment"
    } == {t["name"]: None for t in targets}


def pushed_image_patterns() -> dict[str, re.Pattern[str]]:
    """Per service, the images CI's `images` job pushes (its tags, as regular expressions)."""
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    job = workflow["jobs"]["images"]
    build = next(s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push"))
    placeholders = {
        "github.repository": r"[a-z0-9_.-]+/[a-z0-9_.-]+",  # owner/repository
        "github.sha": r"[0-9a-f]{40}",
    }
    patterns = {}
    for entry in job["strategy"]["matrix"]["include"]:
        alternatives = []
        for tag in filter(None, map(str.strip, build["with"]["tags"].splitlines())):
            parts = re.split(r"\$\{\{\s*([\w.]+)\s*\}\}", tag)
            alternatives.append(
                "".join(
                    re.escape(part)
                    if i % 2 == 0
                    else re.escape(entry["service"])
                    if part == "matrix.service"
                    else placeholders[part]
                    for i, part in enumerate(parts)
                )
            )
        patterns[entry["service"]] = re.compile("|".join(f"(?:{a})" for a in alternatives))
    return patterns


def test_production_runs_images_ci_pushes() -> None:
    # A tag nobody pushed (0.1.0 once) leaves every pod in ImagePullBackOff.
    patterns = pushed_image_patterns()
    images = {
        name: container(deployment)["image"]
        for name, deployment in of_kind(rendered("production"), "Deployment").items()
    }

    assert set(images) == set(patterns) - {DEMO}, "CI pushes every image, the demo's too"
    assert {
        name: image for name, image in images.items() if not patterns[name].fullmatch(image)
    } == {}
    # The committed tag is the one CI moves to each build of main (a deploy pins the sha).
    assert {image.rpartition(":")[2] for image in images.values()} == {"main"}


def scraped_jobs(docs: list[Manifest]) -> dict[str, str]:
    """Service name -> the `job` label the Prometheus Operator gives its targets: the value of
    the Service's label that the ServiceMonitor's jobLabel names, else the Service's name."""
    services = of_kind(docs, "Service")
    jobs = {}
    for monitor in of_kind(docs, "ServiceMonitor").values():
        spec = monitor["spec"]
        assert set(spec["selector"]) == {"matchLabels"}
        for name, service in services.items():
            labels = service["metadata"].get("labels", {})
            if spec["selector"]["matchLabels"].items() <= labels.items():
                job_label = spec.get("jobLabel")
                jobs[name] = labels[job_label] if job_label else name
    return jobs


def test_production_scrapes_every_service_s_metrics_with_its_token() -> None:
    docs = rendered("production")
    monitors = of_kind(docs, "ServiceMonitor")
    deployments = of_kind(docs, "Deployment")

    deployed = set(SERVICES) - {DEMO}
    assert scraped_jobs(docs) == {name: name for name in deployed}
    assert len(monitors) == len(deployed), "one ServiceMonitor per service"
    for monitor in monitors.values():
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] == "http"
            assert endpoint["path"] == "/metrics"
            # /metrics answers 403 to Prometheus' pods otherwise (the gateway's, always).
            assert endpoint["authorization"] == {
                "type": "Bearer",
                "credentials": {"name": "orderhub-secrets", "key": "METRICS_TOKEN"},
            }
    for name, deployment in deployments.items():
        env = {e["name"]: e.get("valueFrom", {}) for e in container(deployment).get("env", [])}
        assert env["METRICS_TOKEN"]["secretKeyRef"]["key"] == "METRICS_TOKEN", name
    # The gateway is the one /metrics the ingress controller reaches: an address allowance
    # would answer anyone the controller forwards whenever the trusted proxies are wrong.
    assert of_kind(docs, "ConfigMap")["orderhub-config"]["data"]["GATEWAY_METRICS_ALLOW_IPS"] == ""


def test_production_loads_the_alert_rules_of_alerts_yml() -> None:
    rules = of_kind(rendered("production"), "PrometheusRule")

    assert list(rules) == ["orderhub-alerts"]
    # Generated from the file (make prometheus-rule): the two must not drift.
    assert rules["orderhub-alerts"]["spec"] == {
        "groups": yaml.safe_load(ALERTS.read_text())["groups"]
    }


def job_matchers(node: Any) -> Iterator[tuple[str, str]]:
    """The (operator, value) of every `job` matcher in a PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        for matcher in node.matchers.matchers:
            if matcher.name == "job":
                yield str(matcher.op).rpartition(".")[2], matcher.value
    for attribute in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attribute, None)
        if isinstance(child, promql_parser.Expr):
            yield from job_matchers(child)
    for arg in getattr(node, "args", None) or []:
        yield from job_matchers(arg)


def test_every_job_the_alert_rules_name_is_one_production_scrapes() -> None:
    # With no job matching, `up{job=...} == 0` never fires: a dead service stays quiet.
    jobs = set(scraped_jobs(rendered("production")).values())
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    named: dict[str, set[str]] = {}
    for rule in rules:
        for op, value in job_matchers(promql_parser.parse(rule["expr"])):
            assert op in {"Equal", "Re"}, (rule["alert"], op)
            # A regular expression here is an alternation of job names.
            assert re.fullmatch(r"[\w-]+(\|[\w-]+)*", value), (rule["alert"], value)
            named.setdefault(rule["alert"], set()).update(value.split("|"))

    assert named, "the rules name the jobs they watch"
    assert {alert: names - jobs for alert, names in named.items()} == {
        alert: set() for alert in named
    }
    assert {"auth", "orders", "ingest", "gateway"} <= jobs, "the jobs the rules group by"


def test_the_prometheus_operator_resources_have_the_fields_its_crds_define() -> None:
    # The schema test skips these (CUSTOM_RESOURCE_GROUPS); a misspelt field would be dropped
    # by the API server's pruning without a word, so the fields used are checked here.
    docs = rendered("production")
    assert of_kind(docs, "ServiceMonitor")
    assert of_kind(docs, "PrometheusRule")
    for monitor in of_kind(docs, "ServiceMonitor").values():
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert set(monitor["spec"]) <= {"jobLabel", "selector", "endpoints", "namespaceSelector"}
        for endpoint in monitor["spec"]["endpoints"]:
            assert set(endpoint) <= {"port", "path", "interval", "scheme", "authorization"}
            assert re.fullmatch(r"\d+[smh]", endpoint.get("interval", "30s"))
            assert set(endpoint["authorization"]) == {"type", "credentials"}
            assert set(endpoint["authorization"]["credentials"]) == {"name", "key"}
    for rule in of_kind(docs, "PrometheusRule").values():
        assert rule["apiVersion"] == "monitoring.coreos.com/v1"
        assert set(rule["spec"]) == {"groups"}
        for group in rule["spec"]["groups"]:
            assert set(group) <= {"name", "interval", "rules"}
            for alert in group["rules"]:
                assert set(alert) <= {"alert", "expr", "for", "labels", "annotations"}
                assert isinstance(alert["expr"], str)
                for field in ("labels", "annotations"):
                    assert all(isinstance(v, str) for v in alert.get(field, {}).values())


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
