"""Backend clients built from the settings, lazily, once per process. Tools receive them; they never build them.
Each client's library is imported where the client is built: a command loads only the clients it uses."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from bot.settings import Settings
from tools.catalog import tool_map

if TYPE_CHECKING:
    import httpx
    from elasticsearch import Elasticsearch
    from kubernetes import client as k8s_client
    from opensearchpy import OpenSearch
    from prometheus_api_client import PrometheusConnect

    from knowledge.store import KnowledgeStore
    from tools.settings import ClusterReach


class Backends:
    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def prometheus(self) -> PrometheusConnect:
        from prometheus_api_client import PrometheusConnect
        from urllib3.util.retry import Retry

        s = self.settings.prometheus
        headers = {"Authorization": f"Bearer {s.bearer_token.get_secret_value()}"} if s.bearer_token else None
        # retry=None would mean the library's default: 3 retries with 0+2+4 s back-off on a dead server
        no_retry = Retry(total=0, redirect=0)
        prom = PrometheusConnect(url=s.url, headers=headers, disable_ssl=False, retry=no_retry, timeout=s.timeout_s)
        return prom

    @cached_property
    def alertmanager(self) -> httpx.Client:
        import httpx

        s = self.settings.alertmanager
        return httpx.Client(base_url=s.url, timeout=s.timeout_s)

    @cached_property
    def elasticsearch(self) -> Elasticsearch:
        """The client for the server's major version: an 8.x server refuses the 9.x client's
        `compatible-with=9` media types (400 media_type_header_exception), so its requests say 8. OpenSearch
        fails the client's product check on every call: it is refused here, once, saying what to set instead.
        (Imported here: a command that reads no logs never loads the client.)"""
        from bot.elasticsearch_client import Compat8Node, server_major
        from elasticsearch import Elasticsearch

        s = self.settings.elasticsearch
        auth: dict[str, Any] = {}
        if s.api_key:
            auth["api_key"] = s.api_key.get_secret_value()
        elif s.username and s.password:
            auth["basic_auth"] = (s.username, s.password.get_secret_value())
        major = s.server_major or server_major(s.url, auth, s.timeout_s)
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
        import httpx

        s = self.settings.loki
        headers = {"X-Scope-OrgID": s.tenant} if s.tenant else {}
        return httpx.Client(base_url=s.url, timeout=s.timeout_s, headers=headers)

    @cached_property
    def kubernetes(self) -> k8s_client.ApiClient:
        """The default cluster's client (the one cluster, when kubernetes.clusters names none)."""
        return kubernetes_client(self.settings.kubernetes.reach(None))

    @cached_property
    def core_v1(self) -> k8s_client.CoreV1Api:
        from kubernetes import client as k8s_client

        return k8s_client.CoreV1Api(self.kubernetes)

    @cached_property
    def apps_v1(self) -> k8s_client.AppsV1Api:
        from kubernetes import client as k8s_client

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
    """A client for one cluster: its kubeconfig and context, or the in-cluster config when it names no file.
    (The official client is imported here: a command that reads no cluster never loads its models.)"""
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config

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
