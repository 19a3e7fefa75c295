"""The lake (warehouse/lake.py): the Parquet mirror Spark reads, and its bad inputs.

No Spark here: the mirror is read back with DuckDB. tests/warehouse/test_spark_lake.py runs
it on Spark (local, a standalone cluster, Spark Connect).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cxlens.demo import generate
from cxlens.errors import UserError
from cxlens.ingest.batches import rollback
from cxlens.ingest.load import ingest
from cxlens.warehouse import lake
from cxlens.warehouse.store import open_warehouse

CLI = [sys.executable, "-m", "cxlens.cli"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """The S demo (seed 3) loaded without its last orders file, and that file, to load later."""
    root = tmp_path_factory.mktemp("lake")
    manifest = generate(root / "files", size="S", seed=3)
    files = list(manifest.files)
    later = [f for f in files if f.kind == "orders"][-1]
    with open_warehouse(root / "ws") as con:
        for f in files:
            if f is not later:
                ingest(con, f.path, f.kind, preset=f.preset)
    return root / "ws", [later]


@pytest.fixture
def ws(built: tuple[Path, list], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the built workspace (tests change it), lake settings unset."""
    monkeypatch.delenv(lake.LAKE_ENV, raising=False)
    monkeypatch.delenv("CXLENS_SPARK", raising=False)
    copy = tmp_path / "ws"
    shutil.copytree(built[0], copy)
    return copy


def mirror_of(con: duckdb.DuckDBPyConnection, lake_dir: Path, table: str) -> str:
    """SQL reading a lake table of the current version back, as Spark's view would (for
    identities and customers: the rows whose key no later segment touched, without their
    segment)."""
    pointer = lake.current(lake_dir)

    def read(name: str) -> str:
        base = lake.table_dir(lake_dir, pointer, name)
        return f"read_parquet('{base}/**/*.parquet', hive_partitioning = false)"

    key = {m.name: m.key for m in lake.mirrored()}[table]
    if key is None:
        return read(table)
    return (f"(SELECT r.* EXCLUDE ({lake.SEGMENT}) FROM {read(table)} r ANTI JOIN "
            f"{read(table + lake.DELETED)} d ON d.{key} = r.{key} "
            f"AND d.{lake.SEGMENT} > r.{lake.SEGMENT})")


def assert_mirror_equals_views(con: duckdb.DuckDBPyConnection, lake_dir: Path) -> None:
    """Every v_<kind> equals its mirrored rows joined with the mirrored identities (and
    ``properties`` built from the mirrored ``_extra`` and batches, as Spark's view does), and
    the small tables equal theirs (hash as text, timestamps as UTC instants)."""
    con.execute("SET TimeZone = 'UTC'")
    ids = mirror_of(con, lake_dir, "identities")
    batches = mirror_of(con, lake_dir, "batches")
    props = ("CASE WHEN r._extra IS NULL THEN r.properties ELSE to_json(map(b.extra_columns, "
             """from_json(r._extra, '["VARCHAR"]')))::VARCHAR END""")
    for m in lake.mirrored():
        src = mirror_of(con, lake_dir, m.name)
        got = f"SELECT * FROM {src}"
        if m.base is not None:
            assert "_extra" in [c for c, *_ in con.execute(f"DESCRIBE {got}").fetchall()]
            got = (f"SELECT r.* EXCLUDE (_extra) REPLACE ({props} AS properties) FROM {src} r "
                   f"LEFT JOIN {batches} b ON b.batch_id = r._batch")
        if m.identity:
            got = (f"SELECT r.*, i.customer_id FROM ({got}) r LEFT JOIN {ids} i "
                   "ON i.identity_key = r._idkey")
        view = f"v_{m.name}" if m.base else m.name
        cols = con.execute(f"DESCRIBE {view}").fetchall()
        want = ", ".join(
            f'{lake.hash_text(c)} AS "{c}"' if t in ("UHUGEINT", "HUGEINT")
            else f'CAST("{c}" AS TIMESTAMPTZ) AS "{c}"' if t == "TIMESTAMP" else f'"{c}"'
            for c, t, *_ in cols)
        names = [c for c, *_ in cols]
        assert [c for c, *_ in con.execute(f"DESCRIBE {got}").fetchall()] == names, m.name
        diff = con.execute(f"SELECT count(*) FROM ((SELECT {want} FROM {view}) "
                           f"EXCEPT ALL ({got})) UNION ALL SELECT count(*) FROM (({got}) "
                           f"EXCEPT ALL (SELECT {want} FROM {view}))").fetchall()
        assert diff == [(0,), (0,)], f"{m.name}: {diff}"


def test_sync_mirrors_what_the_views_show_partitioned_by_month(ws: Path) -> None:
    with open_warehouse(ws) as con:
        result = lake.sync(con, lake.lake_path(ws))
        assert result.full and result.version == 1
        assert_mirror_equals_views(con, ws / "lake")
    base = lake.version_dir(ws / "lake", 1)
    months = sorted(p.name for p in (base / "events").iterdir())
    assert months[0].startswith("_month=20") and len(months) > 3
    assert [p.name for p in (base / "customers").iterdir()] == ["_seg=c"]
    assert [p.name for p in (base / "batches").iterdir()] == ["all.parquet"]
    hash_type = duckdb.sql(f"SELECT typeof(_hash) FROM read_parquet('{base}/orders/**/*.parquet')"
                           " LIMIT 1").fetchall()[0][0]
    assert hash_type == "VARCHAR"


def test_arrival_is_a_unique_tie_breaker_in_the_views_and_the_lake(ws: Path) -> None:
    """The analytics' last tie-breaker (docs/engine.md, house rule 2): ``_batch, _line`` is
    unique per current row of every view, and the lake holds both as the same integers
    (the values themselves: test_sync_mirrors_what_the_views_show…)."""
    with open_warehouse(ws) as con:
        lake.sync(con, lake.lake_path(ws))
        for m in lake.mirrored():
            if m.base is None:
                continue
            n, distinct = con.execute(f"SELECT count(*), count(DISTINCT (_batch, _line)) "
                                      f"FROM v_{m.name}").fetchall()[0]
            assert n == distinct, m.name
            src = mirror_of(con, ws / "lake", m.name)
            types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE "
                                     f"SELECT _batch, _line FROM {src})").fetchall())
            assert types == {"_batch": "INTEGER", "_line": "BIGINT"}, m.name


def test_a_batch_writes_only_its_own_segments(ws: Path, built) -> None:
    (later,) = built[1]
    with open_warehouse(ws) as con:
        lake.sync(con, lake.lake_path(ws))
        result = ingest(con, later.path, later.kind, preset=later.preset)
        assert result.notes == [n for n in result.notes if "lake" not in n]
        pointer = lake.current(ws / "lake")
        assert pointer["version"] == 2 and pointer["state"] == lake.warehouse_state(con)
        assert_mirror_equals_views(con, ws / "lake")
        months = {r[0] for r in con.execute(
            "SELECT DISTINCT strftime(ts, '%Y-%m') FROM orders WHERE _batch = ?",
            [result.batch_id]).fetchall()}
    old, new = lake.version_dir(ws / "lake", 1), lake.version_dir(ws / "lake", 2)
    assert months
    written = {f"_month={m}/_seg={result.batch_id}" for m in months}
    assert written <= {f"{p.parent.parent.name}/{p.parent.name}"
                       for p in (new / "orders").rglob("*.parquet")}
    for path in (new / "orders").rglob("*.parquet"):
        rel = path.relative_to(new)
        folder = f"{rel.parts[1]}/{rel.parts[2]}"
        if folder in written:
            assert not (old / rel).exists(), rel  # the batch's own rows: a new folder
        else:  # every other file is the previous version's, linked
            assert path.stat().st_ino == (old / rel).stat().st_ino, rel
    # the events were not touched at all: read where version 1 wrote them
    assert not (new / "events").exists()
    assert pointer["tables"]["events"] == 1 and pointer["tables"]["orders"] == 2


def test_a_rollback_updates_the_lake_and_old_versions_go(ws: Path) -> None:
    with open_warehouse(ws) as con:
        lake.sync(con, lake.lake_path(ws))
        last = con.execute("SELECT max(batch_id) FROM batches WHERE kind = 'orders'").fetchall()
        rollback(con, last[0][0])
        assert lake.current(ws / "lake")["state"] == lake.warehouse_state(con)
        assert_mirror_equals_views(con, ws / "lake")
        assert lake.sync(con, lake.lake_path(ws)).version == 2  # current: nothing to do
        lake.sync(con, lake.lake_path(ws), full=True)
    # on disk: what version 3 reads (all, written whole) and what version 2 read (the
    # orders it rewrote, the rest where version 1 wrote them); nothing else
    pointer = lake.current(ws / "lake")
    assert set(pointer["tables"].values()) == {3} and pointer["previous"]["orders"] == 2
    kept = {f"{v.name}/{t.name}" for v in (ws / "lake" / "versions").iterdir()
            for t in v.iterdir()}
    assert kept == {f"{v:08d}/{t}" for tables in (pointer["tables"], pointer["previous"])
                    for t, v in tables.items()}
    assert "00000001/orders" not in kept and "00000001/events" in kept


def test_no_lake_no_cost(ws: Path, built) -> None:
    """A workspace that never asked for a lake gets none from its batches."""
    (later,) = built[1]
    with open_warehouse(ws) as con:
        ingest(con, later.path, later.kind, preset=later.preset)
    assert not (ws / "lake").exists()


def test_lake_path_setting_is_a_root_for_many_workspaces(ws: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lake.LAKE_ENV, str(tmp_path / "shared"))
    assert lake.lake_path(ws) == tmp_path / "shared" / "ws"
    assert lake.enabled(ws)


# ------------------------------------------------------------------------- bad input


def test_unwritable_lake_is_a_clear_error_and_the_old_version_stays(ws: Path,
                                                                    tmp_path: Path) -> None:
    """As root chmod does not stop writes, so the lake is put under a regular file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with open_warehouse(ws) as con, pytest.raises(UserError) as caught:
        lake.sync(con, blocker / "lake")
    assert str(blocker / "lake") in caught.value.message
    assert "CXLENS_LAKE" in caught.value.hint


def test_unwritable_lake_does_not_fail_the_committed_batch(ws: Path, built, tmp_path: Path,
                                                           monkeypatch) -> None:
    (later,) = built[1]
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(lake.LAKE_ENV, str(blocker))
    with open_warehouse(ws) as con:
        result = ingest(con, later.path, later.kind, preset=later.preset)
        assert result.batch_id is not None
        assert any("lake was not updated" in n and "cxlens lake sync" in n for n in result.notes)


def test_a_table_missing_from_the_lake_is_mirrored_again(ws: Path) -> None:
    from cxlens.warehouse.spark import ensure_lake

    with open_warehouse(ws) as con:
        lake.sync(con, lake.lake_path(ws))
    shutil.rmtree(lake.version_dir(ws / "lake", 1) / "identities")
    assert lake.missing_tables(ws / "lake") == ["identities"]
    ensure_lake(ws, ws / "lake")
    assert lake.missing_tables(ws / "lake") == []
    assert lake.current(ws / "lake")["version"] == 2


def test_a_stale_lake_is_brought_up_to_date(ws: Path, built) -> None:
    from cxlens.warehouse.spark import ensure_lake

    (later,) = built[1]
    with open_warehouse(ws) as con:
        lake.sync(con, lake.lake_path(ws))
    os.environ["CXLENS_LAKE"] = str(ws / "elsewhere")  # the batch misses the lake
    try:
        with open_warehouse(ws) as con:
            ingest(con, later.path, later.kind, preset=later.preset)
    finally:
        del os.environ["CXLENS_LAKE"]
    ensure_lake(ws, ws / "lake")
    with open_warehouse(ws, read_only=True) as con:
        assert lake.current(ws / "lake")["state"] == lake.warehouse_state(con)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nobody listens


@pytest.mark.parametrize("scheme", ["spark", "sc"])
def test_a_master_that_does_not_answer_is_a_clear_error_within_seconds(scheme: str) -> None:
    from cxlens.warehouse.spark import session_for

    url = f"{scheme}://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        session_for(url)
    assert url in caught.value.message and "does not answer" in caught.value.message
    assert time.monotonic() - started < 30  # generous: the probe gives up after 3 s


def test_unknown_master_and_engine_are_clear_errors(ws: Path) -> None:
    from cxlens.warehouse.spark import session_for

    with pytest.raises(UserError, match="unknown Spark master"):
        session_for("yarn")
    r = subprocess.run([*CLI, "lake", "query", "SELECT 1 AS x", "--engine", "oracle",
                        "-w", str(ws)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unknown engine 'oracle'" in r.stderr
    assert "Traceback" not in r.stderr


def test_engine_spark_without_pyspark_says_how_to_install(ws: Path) -> None:
    """PySpark made unimportable in the child (``sys.modules[name] = None`` makes
    ``import`` raise ImportError, as when the package is absent)."""
    code = ("import sys; sys.modules['pyspark'] = None; sys.argv = ['cxlens'] + sys.argv[1:]; "
            "from cxlens.cli import main; main()")
    r = subprocess.run([sys.executable, "-c", code, "lake", "query", "SELECT 1 AS x",
                        "--engine", "spark", "-w", str(ws)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "pip install 'cxlens[spark]'" in r.stderr and "Traceback" not in r.stderr


def test_lake_sync_command(ws: Path) -> None:
    import json

    r = subprocess.run([*CLI, "lake", "sync", "-w", str(ws), "--json"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["version"] == 1
    assert lake.missing_tables(ws / "lake") == []


@pytest.mark.parametrize("sql", ["SELECT * FROM read_text('/etc/passwd')",
                                 "SELECT * FROM glob('/root/*')",
                                 "SELECT * FROM no_such_table"])
def test_a_typed_query_reads_no_other_files_and_fails_clearly(ws: Path, sql: str) -> None:
    """As `cxlens sql`: a query typed on the DuckDB engine cannot read local files."""
    r = subprocess.run([*CLI, "lake", "query", sql, "--engine", "duckdb", "-w", str(ws)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "the query failed" in r.stderr and "Traceback" not in r.stderr
    assert "root:" not in r.stdout


def _orders(tmp: Path, name: str, rows: list[tuple[str, str, float]]) -> Path:
    path = tmp / name
    path.write_text("order_id;ts;amount;email\n" + "".join(
        f"{o};{ts} 12:00:00;{a:.2f};{o.lower()}@example.fi\n" for o, ts, a in rows),
        encoding="utf-8")
    return path


def _folders(version: Path, table: str) -> set[str]:
    return {f"{p.parent.parent.name}/{p.parent.name}"
            for p in (version / table).rglob("*.parquet")}


def test_a_change_rewrites_only_the_segments_holding_the_rows_it_supersedes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch that changes one January order rewrites January's segment of the batch that
    loaded it (and adds its own); February and March stay linked. When a month gathers more
    than _MAX_SEGMENTS segments it is compacted into one, and later changes to its rows
    rewrite that one."""
    monkeypatch.delenv(lake.LAKE_ENV, raising=False)
    monkeypatch.delenv("CXLENS_SPARK", raising=False)
    monkeypatch.setattr(lake, "_MAX_SEGMENTS", 2)
    ws, lk = tmp_path / "ws", tmp_path / "ws" / "lake"
    with open_warehouse(ws) as con:
        lake.sync(con, lk)
        first = [("A1", "2026-01-05", 10), ("A2", "2026-01-06", 20),
                 ("A3", "2026-02-07", 30), ("A4", "2026-03-08", 40)]
        b1 = ingest(con, _orders(tmp_path, "a.csv", first), "orders").batch_id
        v = lake.version_dir(lk, 2)
        assert _folders(v, "orders") == {f"_month=2026-0{m}/_seg={b1}" for m in (1, 2, 3)}
        b2 = ingest(con, _orders(tmp_path, "b.csv", [("A1", "2026-01-05", 11),
                                                     ("A5", "2026-04-09", 50)]), "orders").batch_id
        old, v = v, lake.version_dir(lk, 3)
        assert _folders(v, "orders") == {
            f"_month=2026-01/_seg={b1}", f"_month=2026-01/_seg={b2}",
            f"_month=2026-02/_seg={b1}", f"_month=2026-03/_seg={b1}", f"_month=2026-04/_seg={b2}"}
        jan = f"_month=2026-01/_seg={b1}"
        assert next((v / "orders" / jan).glob("*.parquet")).stat().st_ino != \
            next((old / "orders" / jan).glob("*.parquet")).stat().st_ino  # rewritten: A2 only
        feb = f"_month=2026-02/_seg={b1}"
        assert next((v / "orders" / feb).glob("*.parquet")).stat().st_ino == \
            next((old / "orders" / feb).glob("*.parquet")).stat().st_ino  # linked
        assert_mirror_equals_views(con, lk)

        # A third January segment: January is compacted into one segment
        b3 = ingest(con, _orders(tmp_path, "c.csv", [("A6", "2026-01-10", 60)]), "orders").batch_id
        v = lake.version_dir(lk, 4)
        assert {f for f in _folders(v, "orders") if "2026-01" in f} == {"_month=2026-01/_seg=c"}
        assert lake.current(lk)["compacted"]["orders"]["2026-01"] == b3
        assert_mirror_equals_views(con, lk)
        # a change to a compacted row rewrites the compacted segment (and adds the batch's)
        b4 = ingest(con, _orders(tmp_path, "d.csv", [("A2", "2026-01-06", 21)]), "orders").batch_id
        v = lake.version_dir(lk, 5)
        assert {f for f in _folders(v, "orders") if "2026-01" in f} == {
            "_month=2026-01/_seg=c", f"_month=2026-01/_seg={b4}"}
        assert_mirror_equals_views(con, lk)
        rollback(con, b4)
        assert_mirror_equals_views(con, lk)


def test_a_lake_of_the_former_layout_is_rewritten_whole(ws: Path) -> None:
    with open_warehouse(ws) as con:
        lake.sync(con, lake.lake_path(ws))
        pointer = lake.current(ws / "lake")
        (ws / "lake" / "CURRENT").write_text(
            json.dumps({**pointer, "format": 1}), encoding="utf-8")
        result = lake.sync(con, lake.lake_path(ws))
        assert result.full and result.version == 1
        assert lake.current(ws / "lake")["format"] == lake.FORMAT
        assert_mirror_equals_views(con, ws / "lake")


def _customers(tmp: Path, name: str, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp / name
    path.write_text("crm_id;email;phone;created_at;name\n" + "".join(
        f"{c};{e};{p};2026-01-0{i + 1} 09:00:00;N {c}\n" for i, (c, e, p) in enumerate(rows)),
        encoding="utf-8")
    return path


def test_identities_and_customers_are_written_per_batch_with_deletions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch that only adds rows writes the identities and customers it touched as its
    own segment, and marks their older copies deleted: a record linking two customers
    merges them (one customer row goes, the other changes), a new one adds a customer,
    and every other row stays in the linked compacted segment. A changed record (identity
    resolution from scratch) writes both tables whole again."""
    monkeypatch.delenv(lake.LAKE_ENV, raising=False)
    monkeypatch.delenv("CXLENS_SPARK", raising=False)
    ws, lk = tmp_path / "ws", tmp_path / "ws" / "lake"
    with open_warehouse(ws) as con:
        ingest(con, _customers(tmp_path, "a.csv", [
            ("1", "a@example.fi", "+358401111111"), ("2", "b@example.fi", "+358402222222"),
            ("3", "c@example.fi", "+358403333333")]), "customers")
        lake.sync(con, lk)
        before = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
        b = ingest(con, _customers(tmp_path, "b.csv", [
            ("4", "a@example.fi", "+358402222222"), ("5", "e@example.fi", "+358405555555")]),
            "customers").batch_id
        assert con.execute("SELECT count(*) FROM customers").fetchall()[0][0] == before
        v = lake.version_dir(lk, 2)
        for name in ("identities", "customers"):
            assert {p.name for p in (v / name).iterdir()} == {"_seg=c", f"_seg={b}"}
            assert next((v / name / "_seg=c").glob("*.parquet")).stat().st_ino == next(
                (lake.version_dir(lk, 1) / name / "_seg=c").glob("*.parquet")).stat().st_ino
        deleted = duckdb.sql(f"SELECT count(*) FROM read_parquet('{v}/customers_deleted/"
                             f"_seg={b}/*.parquet')").fetchall()[0][0]
        # the keys the batch touched: the two customers merged (both old rows go, one comes
        # back) and the new one
        assert deleted == 3
        assert_mirror_equals_views(con, lk)
        # a changed record (new name for crm 3): resolved from scratch, written whole
        ingest(con, _customers(tmp_path, "c.csv", [("3", "c@example.fi", "+358409999999")]),
               "customers")
        v = lake.version_dir(lk, 3)
        assert sorted(p.name for p in (v / "identities").iterdir()) == ["_seg=c"]
        assert_mirror_equals_views(con, lk)
