"""The text tests: no network at any time, and one analysed S demo for the whole session."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from text_fixtures import NOW

from cxlens.warehouse.store import open_warehouse
from demo_cache import s_demo

_LOCAL = ("127.0.0.1", "::1", "localhost")


def _local(address: object) -> bool:
    """A Unix socket or a loopback address (the local Spark's py4j gateway uses one)."""
    return not isinstance(address, tuple) or str(address[0]) in _LOCAL


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Language models, lemma dictionaries and the taxonomy must all come from the installed
    wheels: a connection to anything but this machine fails the test."""
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    create = socket.create_connection

    def guard(address: object) -> None:
        if not _local(address):
            raise AssertionError(f"network access attempted: {address!r}")

    def guarded_connect(self, address):
        guard(address)
        return connect(self, address)

    def guarded_connect_ex(self, address):
        guard(address)
        return connect_ex(self, address)

    def guarded_create(address, *args, **kwargs):
        guard(address)
        return create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", guarded_create)


@pytest.fixture(scope="session")
def text_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(workspace, truths) of the S demo, seed 11, loaded and with its comments analysed.
    Tests that change the warehouse copy it first (``demo_copy``)."""
    from cxlens.text.analyse import analyse

    root = tmp_path_factory.mktemp("textdemo")
    truths = s_demo(root / "ws", 11)  # loaded through ingest, once per process (demo_cache)
    with open_warehouse(root / "ws") as con:
        analyse(con, now=NOW)
    return root / "ws", truths


@pytest.fixture
def demo_copy(text_demo, tmp_path: Path) -> Path:
    """A private copy of the analysed S demo workspace, free to change."""
    ws, _ = text_demo
    shutil.copytree(ws, tmp_path / "ws")
    return tmp_path / "ws"
