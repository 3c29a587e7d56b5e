"""Running an ASGI app with uvicorn in a background thread (tests, benches, smoke): up, ready, down."""

from __future__ import annotations

import threading
import time

import httpx
import uvicorn


class ThreadedServer:
    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"):  # type: ignore[no-untyped-def]
        from sandbox.procs import free_port

        self.host, self.port = host, port or free_port()
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level=log_level, access_log=False,
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ThreadedServer:
        """Start and poll /healthz until the server answers at all (bounded)."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/healthz", timeout=0.5)
                return self
            except httpx.HTTPError:
                pass
            if not self.thread.is_alive():
                break
            time.sleep(0.02)
        raise RuntimeError(f"the webhook server on {self.url} did not become ready within {timeout:.0f}s")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
