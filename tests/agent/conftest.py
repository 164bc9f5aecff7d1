"""Fixtures of the assistant tests: a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import pytest

from support.llm_fake import FakeLLM


@pytest.fixture
def llm():
    """A running FakeLLM, stopped (and its port freed) afterwards."""
    server = FakeLLM().start()
    yield server
    server.stop()
