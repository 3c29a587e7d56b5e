"""Which Chroma a knowledge store talks to: the persistent directory `knowledge.path`, which only one process
may open, or the Chroma server at `knowledge.chroma_url`, which every opsbot process can share."""

from __future__ import annotations

from pathlib import Path

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from knowledge.settings import chroma_address


class KnowledgeUnavailable(Exception):
    """The Chroma server of `knowledge.chroma_url` did not answer; the message names it and the setting."""


def chroma_client(path: Path, url: str | None) -> ClientAPI:
    settings = ChromaSettings(anonymized_telemetry=False)
    if url is None:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    host, port, ssl = chroma_address(url)
    try:  # the client asks the server for its tenant at once: an absent server fails here
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
    except (ValueError, ChromaError, httpx.HTTPError) as e:
        cause = e.__context__ if isinstance(e.__context__, httpx.HTTPError) else e  # Chroma's ValueError hides it
        raise KnowledgeUnavailable(f"could not reach the Chroma server at {url} (knowledge.chroma_url): "
                                   f"{type(cause).__name__}: {cause}") from None
