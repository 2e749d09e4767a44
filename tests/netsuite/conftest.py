"""The fake NetSuite account the client tests talk to over HTTP, and the NetSuite sandbox (files that run its
SuiteScript define their own ``_sandbox``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.serving import BackgroundServer
from tests.netsuite.fake_netsuite import FakeState, create_fake_app
from tests.netsuite.keys import public_pem, rsa_key
from tests.netsuite.sandbox_support import Sandbox, running_sandbox


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[FakeState, str]]:
    state = FakeState()
    with BackgroundServer(create_fake_app(state)) as server:
        yield state, server.url


@pytest.fixture
def fake(_server: tuple[FakeState, str]) -> tuple[FakeState, str]:
    state, url = _server
    state.reset(public_key=public_pem(rsa_key()))
    return state, url


@pytest.fixture(scope="module")
def _sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("netsuite-keys")) as sandbox:
        yield sandbox


@pytest.fixture
def ns(_sandbox: Sandbox) -> Sandbox:
    _sandbox.reset()
    return _sandbox
