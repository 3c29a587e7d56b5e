"""Backend clients built from the settings, lazily, once per process. Tools receive them; they never build them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx
from elastic_transport import HttpHeaders, Urllib3HttpNode
from elastic_transport._node._base import NodeApiResponse
from elastic_transport.client_utils import DEFAULT
from elasticsearch import Elasticsearch
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from prometheus_api_client import PrometheusConnect
from urllib3.util.retry import Retry

from bot.settings import Settings
from tools.base import BackendError
from tools.catalog import tool_map

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from knowledge.store import KnowledgeStore
    from tools.settings import ClusterReach


class Backends:
    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def prometheus(self) -> PrometheusConnect:
        s = self.settings.prometheus
        headers = {"Authorization": f"Bearer {s.bearer_token.get_secret_value()}"} if s.bearer_token else None
        # retry=None would mean the library's default: 3 retries with 0+2+4 s back-off on a dead server
        no_retry = Retry(total=0, redirect=0)
        prom = PrometheusConnect(url=s.url, headers=headers, disable_ssl=False, retry=no_retry, timeout=s.timeout_s)
        return prom

    @cached_property
    def alertmanager(self) -> httpx.Client:
        s = self.settings.alertmanager
        return httpx.Client(base_url=s.url, timeout=s.timeout_s)

    @cached_property
    def elasticsearch(self) -> Elasticsearch:
        """The client for the server's major version: an 8.x server refuses the 9.x client's
        `compatible-with=9` media types (400 media_type_header_exception), so its requests say 8. OpenSearch
        fails the client's product check on every call: it is refused here, once, saying what to set instead."""
        s = self.settings.elasticsearch
        auth: dict[str, Any] = {}
        if s.api_key:
            auth["api_key"] = s.api_key.get_secret_value()
        elif s.username and s.password:
            auth["basic_auth"] = (s.username, s.password.get_secret_value())
        major = s.server_major or _server_major(s.url, auth, s.timeout_s)
        node = {"node_class": Compat8Node} if major == 8 else {}
        return Elasticsearch(s.url, request_timeout=s.timeout_s, max_retries=0, retry_on_timeout=False, **node, **auth)

    @cached_property
    def opensearch(self) -> OpenSearch:
        """OpenSearch's own client (imported here: only an install that reads OpenSearch loads it)."""
        from opensearchpy import OpenSearch

        s = self.settings.opensearch
        auth = {"http_auth": (s.username, s.password.get_secret_value())} if s.username and s.password else {}
        return OpenSearch(hosts=[s.url], timeout=s.timeout_s, max_retries=0, retry_on_timeout=False, **auth)

    @cached_property
    def loki(self) -> httpx.Client:
        """Loki's HTTP API; a tenant's requests carry X-Scope-OrgID."""
        s = self.settings.loki
        headers = {"X-Scope-OrgID": s.tenant} if s.tenant else {}
        return httpx.Client(base_url=s.url, timeout=s.timeout_s, headers=headers)

    @cached_property
    def kubernetes(self) -> k8s_client.ApiClient:
        """The default cluster's client (the one cluster, when kubernetes.clusters names none)."""
        return kubernetes_client(self.settings.kubernetes.reach(None))

    @cached_property
    def core_v1(self) -> k8s_client.CoreV1Api:
        return k8s_client.CoreV1Api(self.kubernetes)

    @cached_property
    def apps_v1(self) -> k8s_client.AppsV1Api:
        return k8s_client.AppsV1Api(self.kubernetes)

    @property
    def kubernetes_url(self) -> str:
        return self.kubernetes.configuration.host

    def on_cluster(self, name: str) -> Backends:
        """These clients with the named cluster's Kubernetes client (built once, at first use); the default
        cluster's name gives these very clients."""
        if name == self.settings.kubernetes.default:
            return self
        views = self.__dict__.setdefault("_clusters", {})
        if name not in views:
            views[name] = ClusterBackends(self, name)
        return views[name]

    @cached_property
    def knowledge(self) -> KnowledgeStore:
        """The Chroma knowledge store (imported late: Chroma and the model load only when used); an unreachable
        knowledge.chroma_url raises KnowledgeUnavailable, in words."""
        from knowledge.store import KnowledgeStore

        k = self.settings.knowledge
        return KnowledgeStore.open(k.path, tool_map(), k.playbooks_dir, url=k.chroma_url)


def kubernetes_client(reach: ClusterReach) -> k8s_client.ApiClient:
    """A client for one cluster: its kubeconfig and context, or the in-cluster config when it names no file."""
    if reach.kubeconfig is None:
        configuration = k8s_client.Configuration()
        k8s_config.load_incluster_config(client_configuration=configuration)
        return k8s_client.ApiClient(configuration)
    return k8s_config.new_client_from_config(config_file=str(reach.kubeconfig), context=reach.context)


class ClusterBackends(Backends):
    """Another cluster's clients: its Kubernetes clients, and its own Prometheus, Alertmanager and log store
    where its settings name them; the backends it names none for are the default clients' (shared, not rebuilt)."""

    def __init__(self, default: Backends, name: str):
        own = default.settings.kubernetes.clusters[name].own_servers()
        super().__init__(default.settings.model_copy(update=own))
        self._default, self.cluster = default, name
        self._shared = _SHARED - own.keys()

    @cached_property
    def kubernetes(self) -> k8s_client.ApiClient:
        return kubernetes_client(self.settings.kubernetes.reach(self.cluster))

    def on_cluster(self, name: str) -> Backends:
        return self._default.on_cluster(name)

    def __getattribute__(self, attr: str) -> Any:
        if attr in _SHARED and attr in object.__getattribute__(self, "_shared"):
            return getattr(object.__getattribute__(self, "_default"), attr)
        return object.__getattribute__(self, attr)


_SHARED = frozenset({"prometheus", "alertmanager", "elasticsearch", "opensearch", "loki", "knowledge"})


class Compat8Node(Urllib3HttpNode):
    """Sends the 9.x client's requests as an 8.x server accepts them (compatible-with=8)."""

    def perform_request(self, method: str, target: str, body: bytes | None = None,
                        headers: HttpHeaders | None = None, request_timeout: Any = DEFAULT) -> NodeApiResponse:
        if headers:
            headers = headers.copy()
            for key in ("accept", "content-type"):
                if headers.get(key):
                    headers[key] = headers[key].replace("compatible-with=9", "compatible-with=8")
        return super().perform_request(method, target, body=body, headers=headers, request_timeout=request_timeout)


def _server_major(url: str, auth: dict[str, Any], timeout_s: float) -> int | None:
    """The server's major version from GET / (plain JSON, which every version answers); None when it cannot
    be asked now (the searches then report the outage). OpenSearch raises OpenSearchRefused."""
    headers = {"Accept": "application/json"}
    if "api_key" in auth:
        headers["Authorization"] = f"ApiKey {auth['api_key']}"
    try:
        r = httpx.get(url, headers=headers, auth=auth.get("basic_auth"), timeout=timeout_s)
        version = r.json().get("version") or {}
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if version.get("distribution") == "opensearch":
        raise OpenSearchRefused(url, str(version.get("number")))
    number = str(version.get("number") or "")
    return int(number.split(".")[0]) if number.split(".")[0].isdigit() else None


class OpenSearchRefused(BackendError):
    """elasticsearch.url points at OpenSearch, which the Elasticsearch client cannot talk to: said as what to set."""

    def __init__(self, url: str, number: str):
        self.backend, self.url, self.asked = "elasticsearch", url, "the server's version"
        self.reason = (f"elasticsearch.url ({url}) is OpenSearch {number}, which the Elasticsearch client refuses "
                       f"(its product check fails): set logs.backend: opensearch and opensearch.url: {url}")
        Exception.__init__(self, self.reason)
