"""Backend clients built from the settings, lazily, once per process. Tools receive them; they never build them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import httpx
from elasticsearch import Elasticsearch
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from prometheus_api_client import PrometheusConnect
from urllib3.util.retry import Retry

from bot.settings import Settings
from tools.catalog import tool_map

if TYPE_CHECKING:
    from knowledge.store import KnowledgeStore


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
        s = self.settings.elasticsearch
        auth = {}
        if s.api_key:
            auth["api_key"] = s.api_key.get_secret_value()
        elif s.username and s.password:
            auth["basic_auth"] = (s.username, s.password.get_secret_value())
        return Elasticsearch(s.url, request_timeout=s.timeout_s, max_retries=0, retry_on_timeout=False, **auth)

    @cached_property
    def kubernetes(self) -> k8s_client.ApiClient:
        s = self.settings.kubernetes
        if s.kubeconfig is None:
            k8s_config.load_incluster_config()
            return k8s_client.ApiClient()
        return k8s_config.new_client_from_config(config_file=str(s.kubeconfig), context=s.context)

    @cached_property
    def core_v1(self) -> k8s_client.CoreV1Api:
        return k8s_client.CoreV1Api(self.kubernetes)

    @cached_property
    def apps_v1(self) -> k8s_client.AppsV1Api:
        return k8s_client.AppsV1Api(self.kubernetes)

    @property
    def kubernetes_url(self) -> str:
        return self.kubernetes.configuration.host

    @cached_property
    def knowledge(self) -> KnowledgeStore:
        """The Chroma knowledge store (imported late: Chroma and the model load only when used)."""
        from knowledge.store import KnowledgeStore

        k = self.settings.knowledge
        return KnowledgeStore.open(k.path, tool_map(), k.playbooks_dir)
