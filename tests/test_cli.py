"""The ``cxlens`` command through real subprocesses: help, JSON, errors, exit codes, env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ORDERS = ("order_id;ts;amount;email;phone\n"
          "A1;2026-01-05 10:00:00;10.50;anna@example.fi;040 123 4567\n"
          "A2;2026-01-06 11:00:00;20.00;bo@example.se;\n"
          "A3;2026-01-07 12:00:00;abc;cecilia@example.fi;\n")
COMMANDS = [[], ["ingest"], ["presets"], ["batches"], ["rollback"], ["quarantine"],
            ["quarantine", "list"], ["quarantine", "show"], ["quarantine", "retry"],
            ["customer"], ["customer", "show"], ["sql"], ["status"], ["demo"],
            ["demo", "generate"], ["demo", "run"]]


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if k != "CXLENS_WORKSPACE"}
    e.update(COLUMNS="400", NO_COLOR="1", TERM="dumb", **extra)
    return e


def cx(*args: object, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess:
    """Run ``cxlens ARGS`` without a TTY (stdin is /dev/null)."""
    return subprocess.run([sys.executable, "-m", "cxlens.cli", *map(str, args)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          cwd=cwd, env=env(**extra), timeout=120)


def cx_par(*commands: list[object], **extra: str) -> list[subprocess.CompletedProcess]:
    """Run several independent ``cxlens`` commands at once (each start-up costs ~0.5 s)."""
    procs = [(c, subprocess.Popen([sys.executable, "-m", "cxlens.cli", *map(str, c)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  stdin=subprocess.DEVNULL, env=env(**extra)))
             for c in commands]
    out = []
    for c, p in procs:
        stdout, stderr = p.communicate(timeout=120)
        out.append(subprocess.CompletedProcess(c, p.returncode, stdout, stderr))
    return out


def ok(p: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    return p


def user_error(p: subprocess.CompletedProcess, code: int) -> str:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr + p.stdout
    assert "error:" in p.stderr and "how to fix:" in p.stderr, p.stderr
    return p.stderr


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, Path]:
    """A workspace with one orders batch (2 loaded, 1 quarantined at line 4)."""
    d = tmp_path_factory.mktemp("cli")
    f = d / "orders.csv"
    f.write_text(ORDERS, encoding="utf-8")
    ws = d / "ws"
    ok(cx("ingest", f, "--kind", "orders", "--workspace", ws, "--yes"))
    return ws, f


def test_help_of_every_command():
    for p in cx_par(*[[*c, "--help"] for c in COMMANDS]):
        assert p.returncode == 0, (p.args, p.stderr)
        assert "Usage:" in p.stdout and "Traceback" not in p.stderr, p.args


def test_ingest_json_counts(tmp_path):
    f = tmp_path / "o.csv"
    f.write_text(ORDERS, encoding="utf-8")
    p = ok(cx("ingest", f, "--kind", "orders", "--workspace", tmp_path / "ws", "--json"))
    data = json.loads(p.stdout)
    assert data["balanced"] is True
    counts = (data["rows_in"], data["loaded"], data["quarantined"], data["duplicates"])
    assert counts == (3, 2, 1, 0)
    assert data["batch_id"] == 1 and data["customers"] == 2
    assert data["quarantine_sample"][0]["line"] == 4
    again = json.loads(ok(cx("ingest", f, "--kind", "orders", "-w", tmp_path / "ws",
                             "--json")).stdout)
    assert (again["loaded"], again["duplicates"], again["balanced"]) == (0, 3, True)


def test_user_errors_are_messages_not_tracebacks(tmp_path):
    ws = tmp_path / "ws"
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    missing, bad_kind, is_empty, no_ws = cx_par(
        ["ingest", tmp_path / "missing.csv", "--kind", "orders", "-w", ws],
        ["ingest", empty, "--kind", "nope", "-w", ws],
        ["ingest", empty, "--kind", "orders", "-w", tmp_path / "ws2"],
        ["batches", "-w", tmp_path / "nowhere"])
    err = user_error(missing, 3)
    assert "missing.csv" in err and "file not found" in err
    assert "unknown kind" in user_error(bad_kind, 2)
    assert "empty" in user_error(is_empty, 3)
    assert "no warehouse" in user_error(no_ws, 2)


def test_json_errors_are_json(tmp_path):
    p = cx("ingest", tmp_path / "missing.csv", "--kind", "orders", "-w", tmp_path / "ws",
           "--json")
    assert p.returncode == 3 and "Traceback" not in p.stderr
    data = json.loads(p.stdout)
    assert data["ok"] is False and data["error"] == "file not found"
    assert data["file"].endswith("missing.csv") and data["hint"]


def test_workspace_env_var_is_honoured(tmp_path):
    f = tmp_path / "o.csv"
    f.write_text(ORDERS, encoding="utf-8")
    ws = tmp_path / "from-env"
    ok(cx("ingest", f, "--kind", "orders", "--yes", cwd=tmp_path, CXLENS_WORKSPACE=str(ws)))
    assert (ws / "warehouse.duckdb").exists()
    assert not (tmp_path / "cxlens-data").exists()
    s = json.loads(ok(cx("status", "--json", cwd=tmp_path, CXLENS_WORKSPACE=str(ws))).stdout)
    assert s["orders"] == 2 and s["quarantined (open)"] == 1


def test_sql_refuses_writes_and_several_statements(small):
    ws, _ = small
    queries = ["DROP TABLE orders", "INSERT INTO orders (order_id) VALUES ('x')",
               "SELECT 1; DROP TABLE orders", "SELECT 1; SELECT 2"]
    *refused, count = cx_par(*[["sql", q, "-w", ws] for q in queries],
                             ["sql", "SELECT count(*) AS n FROM orders", "-w", ws, "--json"])
    for p in refused:
        assert "only one read-only SELECT" in user_error(p, 2), p.args
    assert json.loads(ok(count).stdout) == [{"n": 2}]


def test_read_commands_on_a_small_workspace(small):
    ws, _ = small
    (bj, bt, qj, qt, qshow, qmissing, cj, ct, cmissing, sj, st) = cx_par(
        ["batches", "-w", ws, "--json"], ["batches", "-w", ws],
        ["quarantine", "list", "-w", ws, "--json"], ["quarantine", "list", "-w", ws],
        ["quarantine", "show", 1, 4, "-w", ws], ["quarantine", "show", 1, 2, "-w", ws],
        ["customer", "show", "+358 40 1234567", "-w", ws, "--json"],
        ["customer", "show", "anna@example.fi", "-w", ws],
        ["customer", "show", "nobody@x.fi", "-w", ws],
        ["status", "-w", ws, "--json"], ["status", "-w", ws])
    b = json.loads(ok(bj).stdout)
    assert [(x["batch"], x["rows_in"], x["loaded"], x["quarantined"], x["duplicates"],
             x["status"]) for x in b] == [(1, 3, 2, 1, 0, "loaded")]
    assert "orders.csv" in ok(bt).stdout
    q = json.loads(ok(qj).stdout)
    assert [(x["line"], x["column"], x["value"]) for x in q] == [(4, "amount", "abc")]
    assert "not a number" in ok(qt).stdout
    shown = ok(qshow).stdout
    assert "line 4" in shown and "cecilia@example.fi" in shown
    user_error(qmissing, 2)
    c = json.loads(ok(cj).stdout)
    assert c["summary"]["orders"] == 1 and "email:anna@example.fi" in c["identifiers"]
    assert "order A1" in ok(ct).stdout
    assert "no customer found" in user_error(cmissing, 2)
    s = json.loads(ok(sj).stdout)
    assert (s["orders"], s["customers"], s["batches"]) == (2, 2, 1)
    assert "customers" in ok(st).stdout


def test_rollback(tmp_path):
    f = tmp_path / "o.csv"
    f.write_text(ORDERS, encoding="utf-8")
    ws = tmp_path / "ws"
    ok(cx("ingest", f, "--kind", "orders", "-w", ws, "--yes"))
    info = json.loads(ok(cx("rollback", 1, "-w", ws, "--json")).stdout)
    assert info == {"batch": 1, "removed": 2, "restored": 0}
    s = json.loads(ok(cx("status", "-w", ws, "--json")).stdout)
    assert (s["orders"], s["customers"], s["batches"], s["quarantined (open)"]) == (0, 0, 0, 0)
    again, missing = cx("rollback", 1, "-w", ws), cx("rollback", 9, "-w", ws)  # both write
    assert "already rolled_back" in user_error(again, 2)
    assert "no batch 9" in user_error(missing, 2)


def test_script_applies_a_confident_proposal_and_reports_it(tmp_path):
    f = tmp_path / "tilaukset.csv"
    f.write_text("Tilausnumero;Päivämäärä;Summa;Sähköposti\n"
                 "T1;05.01.2026;10,50;anna@example.fi\n"
                 "T2;06.01.2026;20,00;bo@example.se\n", encoding="utf-8")
    p = ok(cx("ingest", f, "--kind", "orders", "-w", tmp_path / "ws"))
    assert "proposed" in p.stderr and "Tilausnumero" in p.stderr
    assert "batch 1" in p.stdout and "loaded" in p.stdout
    data = json.loads(ok(cx("sql", "SELECT sum(amount)::DOUBLE AS s FROM v_orders",
                            "-w", tmp_path / "ws", "--json")).stdout)
    assert data == [{"s": 30.5}]


def test_script_with_unsure_mapping_exits_4_and_names_the_proposal(tmp_path):
    f = tmp_path / "odd.csv"
    f.write_text("Nro;Milloin;Paljonko\nT1;2026-01-05;10\n", encoding="utf-8")
    p, pj = cx_par(["ingest", f, "--kind", "orders", "-w", tmp_path / "ws"],
                   ["ingest", f, "--kind", "orders", "-w", tmp_path / "ws2", "--json"])
    err = user_error(p, 4)
    proposal = tmp_path / "odd.mapping.yml"
    assert proposal.exists() and str(proposal) in err
    assert pj.returncode == 4
    assert json.loads(pj.stdout)["proposal"] == str(proposal)
    s = json.loads(ok(cx("status", "-w", tmp_path / "ws", "--json")).stdout)
    assert s["batches"] == 0 and s["orders"] == 0


REPORT = ("Sales report\nOctober 2024\norder_id;ts;amount;email\n"
          "A1;1.10.2024;1.234,50;a@b.fi\nA2;2.10.24;99,00;c@d.fi\nYhteensä;;1.333,50;\n")


def test_ingest_shows_formats_and_skipped_rows(tmp_path):
    f = tmp_path / "report.csv"
    f.write_text(REPORT, encoding="utf-8")
    ws = tmp_path / "ws"
    p = ok(cx("ingest", f, "--kind", "orders", "-w", ws, "--yes"))
    assert "format: amount ('amount'): thousands '.' decimal ','" in p.stderr
    assert "format: ts ('ts'): dates read as day-first" in p.stderr
    assert "skipped" in p.stdout and "line 6: left out, total row" in p.stdout
    data = json.loads(ok(cx("batches", "-w", ws, "--json")).stdout)
    assert (data[0]["rows_in"], data[0]["loaded"], data[0]["skipped"]) == (3, 2, 1)


def test_an_ambiguous_column_exits_4_with_a_draft(tmp_path):
    f = tmp_path / "amb.csv"
    f.write_text('order_id,ts,amount\nA1,2024-10-01,"1,234"\nA2,2024-10-02,"5,678"\n',
                 encoding="utf-8")
    err = user_error(cx("ingest", f, "--kind", "orders", "-w", tmp_path / "ws", "--yes"), 4)
    assert "amount ('amount')" in err and "thousands" in err
    assert (tmp_path / "amb.mapping.yml").exists()
