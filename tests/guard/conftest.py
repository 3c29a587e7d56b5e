"""The chat fakes the guard's tests post cards to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.verifying import chat_fakes


@pytest.fixture
def chats() -> Iterator[dict[str, Any]]:
    with chat_fakes() as fakes:
        yield fakes
