"""A real server in a subprocess, ``cxlens ingest`` from another while pages are requested.

Both succeed, the batch counts come back through the CLI, and every row is in the warehouse
the server holds: nothing is lost and nobody waits for a file lock.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx2 as httpx
import pytest

from served import cli, free_port, make_home, serve

PASSWORD = "serve test password"


def orders_csv(path: Path, start: int, n: int) -> Path:
    lines = ["order_id,ts,amount,email"]
    lines += [f"O{i},2026-03-{1 + i % 28:02d} 12:00:00,{10 + i % 90}.50,c{i % 50}@x.fi"
              for i in range(start, start + n)]
    lines.append(f"BAD{start},not a date,12.00,bad@x.fi")  # one row for the quarantine
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path):
    home = tmp_path / "home"
    make_home(home, PASSWORD)
    with serve(home, tmp_path / "server.log") as (url, proc):
        yield home, url, proc
    assert not (home / "server.json").exists()  # cleaned up on a normal stop


def test_cli_ingest_while_serving(server, tmp_path: Path) -> None:
    home, url, _ = server
    info = json.loads((home / "server.json").read_text())
    assert oct((home / "server.json").stat().st_mode & 0o777) == "0o600"
    assert info["url"] == url and info["local_token"].startswith("cxlocal_")
    workspace = home / "workspaces" / "acme"

    web = httpx.Client(base_url=url, timeout=30)
    page = web.get("/signin").text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert web.post("/signin", data={"email": "ops@acme.fi", "password": PASSWORD,
                                     "csrf_token": csrf}).status_code == 303

    stop, seen, failures = threading.Event(), [], []

    def browse() -> None:
        while not stop.is_set():
            for path in ("/w/acme/", "/api/w/acme/summary", "/api/w/acme/batches"):
                r = web.get(path)
                (seen if r.status_code == 200 else failures).append((path, r.status_code))

    thread = threading.Thread(target=browse)
    thread.start()
    try:
        results = []
        for i in range(3):
            f = orders_csv(tmp_path / f"orders{i}.csv", i * 2000, 2000)
            r = cli("ingest", str(f), "--kind", "orders", "--workspace", str(workspace),
                    "--json", home=home)
            assert r.returncode == 0, r.stdout + r.stderr
            results.append(json.loads(r.stdout))
        human = cli("ingest", str(tmp_path / "orders0.csv"), "--kind", "orders",
                    "--workspace", str(workspace), home=home)
        assert human.returncode == 0 and "handing the file to" in human.stderr
        assert "duplicates" in human.stdout
    finally:
        stop.set()
        thread.join()
    web.close()

    assert not failures, failures[:5]
    assert len(seen) >= 3
    for res in results:
        assert res["balanced"] and res["rows_in"] == 2001
        assert res["loaded"] == 2000 and res["quarantined"] == 1 and res["duplicates"] == 0
    counts = httpx.get(f"{url}/api/w/acme/summary", cookies=None, timeout=10)
    assert counts.status_code == 401  # no credentials, no data
    token = info["local_token"]
    summary = httpx.get(f"{url}/api/w/acme/summary", timeout=10,
                        headers={"Authorization": f"Bearer {token}"}).json()["counts"]
    assert summary["orders"] == 6000  # every row of every batch, nothing lost
    batches = httpx.get(f"{url}/api/w/acme/batches", timeout=10,
                        headers={"Authorization": f"Bearer {token}"}).json()["batches"]
    assert len(batches) == 4 and batches[-1]["duplicates"] == 2001  # the bad row is already held
    assert all(b["rows_in"] == b["loaded"] + b["quarantined"] + b["duplicates"]
               for b in batches)

    # The reading and rollback commands are handed to the server too.
    ws = ["--workspace", str(workspace), "--json"]
    listed = cli("batches", *ws, home=home)
    assert listed.returncode == 0, listed.stderr
    assert [b["batch"] for b in json.loads(listed.stdout)] == [b["batch_id"] for b in batches]
    status = cli("status", *ws, home=home)
    assert status.returncode == 0 and json.loads(status.stdout)["orders"] == 6000
    undone = cli("rollback", str(batches[0]["batch_id"]), *ws, home=home)
    assert undone.returncode == 0, undone.stderr
    assert json.loads(undone.stdout)["removed"] == 2000
    assert json.loads(cli("status", *ws, home=home).stdout)["orders"] == 4000
    again = cli("rollback", str(batches[0]["batch_id"]), *ws, home=home)
    assert again.returncode == 2 and "already rolled_back" in again.stdout  # --json: on stdout


def test_a_second_server_on_the_same_home_is_refused(server) -> None:
    home, _, _ = server
    r = cli("serve", "--home", str(home), "--port", str(free_port()), home=home)
    assert r.returncode == 2 and "already serving" in r.stderr
