"""Fixtures for the end-to-end suite: real `coffer server` processes on free ports.

Run with Debian's interpreter (it has python3-hvac, python3-pytest, python3-requests):
    COFFER_BIN=/abs/path/build/bin/coffer /usr/bin/python3 -m pytest -q tests/integration
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coffer_harness import (LIVE_SERVERS, Server, init_and_unseal,
                            make_self_signed_cert)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "build" / "bin" / "coffer"


@pytest.fixture(scope="session")
def coffer_bin() -> Path:
    path = Path(os.environ.get("COFFER_BIN") or DEFAULT_BIN)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"coffer binary not found at {path}; build it (make build) or set COFFER_BIN")
    return path


@pytest.fixture(scope="session", autouse=True)
def _kill_leftover_servers():
    """Whatever a test leaves running (even on failure) is killed at the end."""
    yield
    for server in list(LIVE_SERVERS):
        server.kill()


@pytest.fixture
def make_server(coffer_bin, tmp_path):
    """Factory: make_server(name=..., dev=..., tls=...) -> a started Server, stopped at teardown."""
    created: list[Server] = []

    def factory(name: str = "srv", start: bool = True, **kwargs) -> Server:
        server = Server(coffer_bin, tmp_path / name, **kwargs)
        created.append(server)
        if start:
            server.start()
        return server

    yield factory
    for server in created:
        server.kill()


@pytest.fixture
def sqlite_server(make_server) -> Server:
    """A fresh non-dev server on SQLite: sealed and uninitialized."""
    return make_server("sqlite")


@pytest.fixture
def unsealed(make_server):
    """A fresh SQLite server, initialized (5 shares, threshold 3), unsealed, KV v1 at secret/."""
    return init_and_unseal(make_server("unsealed"))


@pytest.fixture(scope="module")
def module_unsealed(coffer_bin, tmp_path_factory):
    """Like `unsealed`, shared by the tests of one module."""
    server = Server(coffer_bin, tmp_path_factory.mktemp("module-unsealed"))
    try:
        server.start()
        yield init_and_unseal(server)
    finally:
        server.kill()


@pytest.fixture(scope="module")
def dev_server(coffer_bin, tmp_path_factory) -> Server:
    """`coffer server -dev`: in memory, initialized, unsealed, KV v2 at secret/ (as Vault's dev mode)."""
    server = Server(coffer_bin, tmp_path_factory.mktemp("dev"), dev=True)
    try:
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory):
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))
