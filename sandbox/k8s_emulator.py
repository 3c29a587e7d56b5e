"""A small Kubernetes API server for the sandbox: the endpoints opsbot calls, over real HTTP, bearer-token auth.

Run as `python -m sandbox.k8s_emulator --port P --token T`. The official `kubernetes` client works against
it through an ordinary kubeconfig. `POST /_sandbox/load` (same token) resets the cluster to a scenario:
{"t0": <epoch seconds>, "scenario": Scenario.model_dump(mode="json", by_alias=True)}. `POST /_sandbox/rbac`
{"rules": [...]} makes it refuse (403, the API server's words) what those RBAC rules do not allow; null: all.
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

from sandbox import k8s_rbac, k8s_state_metrics
from sandbox.k8s_cluster import Cluster
from sandbox.k8s_objects import RESOURCES, ApiError, status
from sandbox.scenario import Scenario

VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.0-opsbot-sandbox", "platform": "linux/amd64"}


def _list(kind: str, api_version: str, items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
    return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": str(rv)}, "items": items}


def _resource(group_version: str, plural: str, ns: str | None) -> tuple[str, str]:
    """(group/version, kind) of a resource served at this path; 404 like the API server for anything else."""
    gv, kind, namespaced = RESOURCES.get(plural, ("", "", False))
    if gv != group_version or (ns is not None and not namespaced):
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return gv, kind


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


def _manager(request: Request) -> str:
    """The field manager of a write, as the API server names it: ?fieldManager=, else the User-Agent's product
    (the part before the first '/')."""
    agent = request.headers.get("user-agent", "")
    return request.query_params.get("fieldManager") or agent.split("/", 1)[0] or "unknown"


def create_app(token: str, cluster: Cluster | None = None) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.cluster = cluster = cluster or Cluster()
    expected = f"Bearer {token}".encode()

    rbac: list[list[dict[str, Any]] | None] = [None]  # the rules enforced; None: everything is allowed

    @app.middleware("http")
    async def authenticate(request: Request, call_next):  # noqa: ANN001, ANN202
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return JSONResponse(status(401, "Unauthorized", "Unauthorized"), status_code=401)
        if not request.url.path.startswith("/_sandbox/") and rbac[0] is not None:
            g = k8s_rbac.grant(request.method, request.url.path)
            if g is not None and not k8s_rbac.allows(rbac[0], g):
                return _status_response(ApiError(403, "Forbidden", k8s_rbac.forbidden(g),
                                                 {"kind": g.resource.split("/")[0]}))
        return await call_next(request)

    @app.post("/_sandbox/rbac")
    async def enforce(request: Request) -> dict[str, Any]:
        body = await _body(request)
        rules = (body or {}).get("rules")
        if rules is not None and not (isinstance(rules, list) and all(
                isinstance(r, dict) and {"apiGroups", "resources", "verbs"} <= set(r) for r in rules)):
            raise ApiError(400, "BadRequest", "expected {rules: [{apiGroups, resources, verbs, namespaces?}] or null}")
        rbac[0] = rules
        return {"rules": len(rules) if rules is not None else None}

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

    @app.get("/metrics")
    async def state_metrics() -> Response:
        return PlainTextResponse(k8s_state_metrics.render(cluster, cluster.clock()),
                                 media_type="text/plain; version=0.0.4")

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return VERSION

    @app.get("/api")
    async def api_versions() -> dict[str, Any]:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}

    # -- the specific operations -------------------------------------------------------------------

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

    @app.patch("/apis/apps/v1/namespaces/{ns}/deployments/{name}")
    async def patch_deployment(ns: str, name: str, request: Request) -> dict[str, Any]:
        body = await _body(request)
        return cluster.patch_deployment(ns, name, body, request.headers.get("content-type", ""), _manager(request))

    @app.get("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale")
    async def read_scale(ns: str, name: str) -> dict[str, Any]:
        return cluster.scale(ns, name)

    @app.patch("/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale")
    async def patch_scale(ns: str, name: str, request: Request) -> dict[str, Any]:
        body = await _body(request)
        return cluster.patch_scale(ns, name, body, request.headers.get("content-type", ""), _manager(request))

    # -- every kind: list (one namespace, all, or cluster-scoped) and read, on the client's paths ----

    def listed(group_version: str, plural: str, ns: str | None, request: Request) -> dict[str, Any]:
        gv, kind = _resource(group_version, plural, ns)
        q = request.query_params
        items = cluster.list(plural, ns, q.get("labelSelector"), q.get("fieldSelector"))
        return _list(f"{kind}List", gv, items, cluster.seq)

    def read(group_version: str, plural: str, ns: str, name: str) -> dict[str, Any]:
        _resource(group_version, plural, ns or None)
        return cluster.get(plural, ns, name)

    @app.get("/api/v1/{plural}")
    async def core_list(plural: str, request: Request) -> dict[str, Any]:
        return listed("v1", plural, None, request)

    @app.get("/api/v1/{plural}/{name}")
    async def core_read(plural: str, name: str) -> dict[str, Any]:
        return read("v1", plural, "", name)

    @app.get("/api/v1/namespaces/{ns}/{plural}")
    async def core_list_namespaced(ns: str, plural: str, request: Request) -> dict[str, Any]:
        return listed("v1", plural, ns, request)

    @app.get("/api/v1/namespaces/{ns}/{plural}/{name}")
    async def core_read_namespaced(ns: str, plural: str, name: str) -> dict[str, Any]:
        return read("v1", plural, ns, name)

    @app.get("/apis/{group}/{version}/{plural}")
    async def group_list(group: str, version: str, plural: str, request: Request) -> dict[str, Any]:
        return listed(f"{group}/{version}", plural, None, request)

    @app.get("/apis/{group}/{version}/{plural}/{name}")
    async def group_read(group: str, version: str, plural: str, name: str) -> dict[str, Any]:
        return read(f"{group}/{version}", plural, "", name)

    @app.get("/apis/{group}/{version}/namespaces/{ns}/{plural}")
    async def group_list_namespaced(group: str, version: str, ns: str, plural: str,
                                    request: Request) -> dict[str, Any]:
        return listed(f"{group}/{version}", plural, ns, request)

    @app.get("/apis/{group}/{version}/namespaces/{ns}/{plural}/{name}")
    async def group_read_namespaced(group: str, version: str, ns: str, plural: str, name: str) -> dict[str, Any]:
        return read(f"{group}/{version}", plural, ns, name)

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
