"""A small Kubernetes API server for the sandbox: the endpoints opsbot calls, over real HTTP, bearer-token auth.

Run as `python -m sandbox.k8s_emulator --port P --token T`. The official `kubernetes` client works against
it through an ordinary kubeconfig. `POST /_sandbox/load` (same token) resets the cluster to a scenario:
{"t0": <epoch seconds>, "scenario": Scenario.model_dump(mode="json", by_alias=True)}.
State and controller effects live in sandbox/k8s_cluster.py; object shapes in sandbox/k8s_objects.py.
"""

from __future__ import annotations

import argparse
import hmac
import json
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response

from sandbox.k8s_cluster import Cluster
from sandbox.k8s_objects import ApiError, status
from sandbox.scenario import Scenario

VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.0-opsbot-sandbox", "platform": "linux/amd64"}


def _list(kind: str, api_version: str, items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": str(rv)}, "items": items}


def _status_response(e: ApiError) -> JSONResponse:
    return JSONResponse(status(e.code, e.reason, e.message, e.details), status_code=e.code)


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except json.JSONDecodeError as e:
        raise ApiError(400, "BadRequest", f"the request body is not valid JSON: {e}") from None


def _int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, "BadRequest", f"{name}: invalid integer {value!r}") from None


def create_app(token: str, cluster: Cluster | None = None) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.cluster = cluster = cluster or Cluster()
    expected = f"Bearer {token}".encode()

    @app.middleware("http")
    async def authenticate(request: Request, call_next):  # noqa: ANN001, ANN202
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse(status(401, "Unauthorized", "Unauthorized"), status_code=401)
        return await call_next(request)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, e: ApiError) -> JSONResponse:
        return _status_response(e)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, e: HTTPException) -> JSONResponse:
        if e.status_code == 405:
            return JSONResponse(status(405, "MethodNotAllowed", "the server does not allow this method on the "
                                       "requested resource"), status_code=405)
        return JSONResponse(status(404, "NotFound", "the server could not find the requested resource"),
                            status_code=404)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, e: RequestValidationError) -> JSONResponse:
        return JSONResponse(status(400, "BadRequest", str(e)), status_code=400)

    @app.post("/_sandbox/load")
    async def load(request: Request) -> dict[str, Any]:
        body = await _body(request)
        try:
            scenario = Scenario.model_validate((body or {}).get("scenario"))
            t0 = float(body["t0"])
        except (ValidationError, KeyError, TypeError, ValueError) as e:
            raise ApiError(400, "BadRequest", f"expected {{t0, scenario}}: {e}") from None
        cluster.load(scenario, t0)
        return {"loaded": scenario.name, "pods": len(cluster.pods), "events": len(cluster.events)}

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return VERSION

    @app.get("/api")
    async def api_versions() -> dict[str, Any]:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}

    # -- core/v1 -----------------------------------------------------------------------------------

    @app.get("/api/v1/namespaces")
    async def list_namespaces() -> dict[str, Any]:
        return _list("NamespaceList", "v1", list(cluster.namespaces.values()), cluster.seq)

    @app.get("/api/v1/namespaces/{ns}")
    async def read_namespace(ns: str) -> dict[str, Any]:
        return cluster.namespace(ns)

    @app.get("/api/v1/namespaces/{ns}/pods")
    async def list_pods(ns: str, labelSelector: str | None = None, fieldSelector: str | None = None):  # noqa: N803
        return _list("PodList", "v1", cluster.list_pods(ns, labelSelector, fieldSelector), cluster.seq)

    @app.get("/api/v1/namespaces/{ns}/pods/{name}")
    async def read_pod(ns: str, name: str) -> dict[str, Any]:
        return cluster.pod(ns, name)

    @app.delete("/api/v1/namespaces/{ns}/pods/{name}")
    async def delete_pod(ns: str, name: str) -> dict[str, Any]:
        return cluster.delete_pod(ns, name)

    @app.get("/api/v1/namespaces/{ns}/pods/{name}/log")
    async def pod_log(ns: str, name: str, request: Request) -> Response:
        q = request.query_params
        text = cluster.pod_log(
            ns, name, q.get("container"), q.get("previous") == "true", _int(q.get("tailLines"), "tailLines"),
            _int(q.get("sinceSeconds"), "sinceSeconds"), q.get("timestamps") == "true",
        )
        return PlainTextResponse(text)

    @app.get("/api/v1/namespaces/{ns}/events")
    async def list_events(ns: str, fieldSelector: str | None = None) -> dict[str, Any]:  # noqa: N803
        return _list("EventList", "v1", cluster.list_events(ns, fieldSelector), cluster.seq)

    # -- apps/v1 -----------------------------------------------------------------------------------

    @app.get("/apis/apps/v1/namespaces/{ns}/deployments")
    async def list_deployments(ns: str, labelSelector: str | None = None) -> dict[str, Any]:  # noqa: N803
        return _list("DeploymentList", "apps/v1", cluster.list_deployments(ns, labelSelector), cluster.seq)

    @app.get("/apis/apps/v1/namespaces/{ns}/deployments/{name}")
    async def read_deployment(ns: str, name: str) -> dict[str, Any]:
        return cluster.deployment(ns, name)

    @app.patch("/apis/apps/v1/namespaces/{ns}/deployments/{name}")
    async def patch_deployment(ns: str, name: str, request: Request) -> dict[str, Any]:
        body = await _body(request)
        return cluster.patch_deployment(ns, name, body, request.headers.get("content-type", ""))

    @app.get("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale")
    async def read_scale(ns: str, name: str) -> dict[str, Any]:
        return cluster.scale(ns, name)

    @app.patch("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale")
    async def patch_scale(ns: str, name: str, request: Request) -> dict[str, Any]:
        body = await _body(request)
        return cluster.patch_scale(ns, name, body, request.headers.get("content-type", ""))

    @app.get("/apis/apps/v1/namespaces/{ns}/replicasets")
    async def list_replicasets(ns: str, labelSelector: str | None = None) -> dict[str, Any]:  # noqa: N803
        return _list("ReplicaSetList", "apps/v1", cluster.list_replicasets(ns, labelSelector), cluster.seq)

    @app.get("/apis/apps/v1/namespaces/{ns}/replicasets/{name}")
    async def read_replicaset(ns: str, name: str) -> dict[str, Any]:
        return cluster.replicaset(ns, name)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.k8s_emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True, help="the bearer token every request must carry")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.token), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
