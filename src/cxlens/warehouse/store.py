"""The embedded warehouse: one DuckDB file per workspace, its tables and their migrations.

Fact tables are append-only. A record that arrives again with the same key but new content
is stored as a new version and the old version is marked ``_superseded_by`` that batch, so a
rollback can delete a batch's rows and revive exactly what it replaced. Analytics read the
``v_*`` views, which hide superseded versions and attach the resolved ``customer_id``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from cxlens.errors import UserError
from cxlens.schema import DERIVED, KINDS, LINEAGE, SQL_TYPES, STAGING
from cxlens.warehouse.engine import DuckDBEngine

SCHEMA_VERSION = 9
DB_NAME = "warehouse.duckdb"

# Customer data is for its owner only: files 0600, folders 0700. ``cxlens`` (every command,
# ``serve`` included) starts with this umask, so everything it and the libraries it drives
# create — DuckDB's file and WAL, SQLite's journal files, uploads, proposals, exports — is
# private; ``private`` below also tightens the files of an older install when they open.
PRIVATE_UMASK = 0o077


def private_umask() -> int:
    """Make every file this process creates from now on private; the previous umask."""
    return os.umask(PRIVATE_UMASK)


def private(*paths: Path, mode: int = 0o600) -> None:
    """chmod the paths that exist (and belong to this user) to ``mode``; others untouched."""
    for path in paths:
        try:
            if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o777 != mode:
                path.chmod(mode)
        except (FileNotFoundError, PermissionError):
            continue

_BATCHES = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    file_sha256 VARCHAR,
    mapping VARCHAR,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    rows_in BIGINT NOT NULL DEFAULT 0,
    loaded BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    quarantined BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    status VARCHAR NOT NULL DEFAULT 'loaded',
    extra_columns VARCHAR[],
    skipped BIGINT NOT NULL DEFAULT 0
)"""

_QUARANTINE = """
CREATE TABLE IF NOT EXISTS quarantine (
    batch_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    line BIGINT NOT NULL,
    "column" VARCHAR,
    value VARCHAR,
    reason VARCHAR NOT NULL,
    raw VARCHAR NOT NULL,
    row_hash VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'open'
)"""

_IDENTITIES = """
CREATE TABLE IF NOT EXISTS identities (
    identity_key VARCHAR PRIMARY KEY,
    identity_type VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL
)"""

_CUSTOMERS = """
CREATE TABLE IF NOT EXISTS customers (
    customer_id VARCHAR PRIMARY KEY,
    first_seen TIMESTAMP,
    last_seen TIMESTAMP,
    name VARCHAR,
    email VARCHAR,
    phone VARCHAR,
    language VARCHAR,
    country VARCHAR,
    city VARCHAR,
    segment VARCHAR,
    identifiers INTEGER NOT NULL,
    records BIGINT NOT NULL
)"""


# Version 5: field warnings, one row per optional value of a loaded record that was
# invalid and set empty (a phone, an e-mail, a country …): kept for review with its batch,
# line (the file's physical line), source column, value and reason (docs/ingest.md).
_FIELD_WARNINGS = """
CREATE TABLE IF NOT EXISTS field_warnings (
    batch_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    line BIGINT NOT NULL,
    "column" VARCHAR NOT NULL,
    value VARCHAR,
    reason VARCHAR NOT NULL
)"""

# Version 2: the inbox of collected tracking messages (see cxlens.ingest.inbox). ``seq``
# is the arrival order and becomes the ``_line`` of the message in its ingest batch.
# ``message_id`` has no unique index on purpose: checkpointing one slows appends down as
# the inbox grows; cxlens.ingest.inbox recognises retries itself.
_INBOX_SEQ = "CREATE SEQUENCE IF NOT EXISTS inbox_seq START 1"
_INBOX = """
CREATE TABLE IF NOT EXISTS inbox (
    seq BIGINT NOT NULL DEFAULT nextval('inbox_seq'),
    message_id VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    raw VARCHAR NOT NULL,
    status VARCHAR NOT NULL DEFAULT 'pending',
    batch_id INTEGER,
    processed_at TIMESTAMP
)"""


def derived_ddl(name: str) -> str:
    """CREATE TABLE of a derived table of ``schema.DERIVED`` (its first column the key)."""
    cols = [f'"{c}" {t}' + (" PRIMARY KEY" if i == 0 else "")
            for i, (c, t, _) in enumerate(DERIVED[name])]
    return f"CREATE TABLE IF NOT EXISTS {name} (\n    " + ",\n    ".join(cols) + "\n)"


def table_ddl(kind_name: str) -> str:
    k = KINDS[kind_name]
    cols = [f'"{f.name}" {SQL_TYPES[f.type]}' for f in k.fields]
    cols += [f"{name} {sql_type}" for name, sql_type, _ in LINEAGE]
    cols += [f"{name} {sql_type}" for name, sql_type in STAGING]
    return f"CREATE TABLE IF NOT EXISTS {k.table} (\n    " + ",\n    ".join(cols) + "\n)"


# A row's ``properties``: its own JSON, or its unmapped columns' values under the names
# its batch recorded.
_PROPERTIES = ("CASE WHEN t._extra IS NULL THEN t.properties "
               "ELSE to_json(map(b.extra_columns, t._extra))::VARCHAR END")


def view_ddl(kind_name: str) -> str:
    k = KINDS[kind_name]
    props = (f" REPLACE ({_PROPERTIES} AS properties)"
             if any(f.name == "properties" for f in k.fields) else "")
    cols = f"t.* EXCLUDE (_errors, _raw, _extra, _warnings){props}"
    joins = "LEFT JOIN batches b ON b.batch_id = t._batch" if props else ""
    if k.needs_identity:
        cols += ", i.customer_id"
        joins += " LEFT JOIN identities i ON i.identity_key = t._idkey"
    return (f"CREATE OR REPLACE VIEW v_{k.table} AS SELECT {cols} FROM {k.table} t {joins} "
            "WHERE t._superseded_by IS NULL")


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a warehouse file to the current schema version, idempotently."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    version = int(rows[0][0]) if rows else 0
    if version > SCHEMA_VERSION:
        raise UserError(
            f"this warehouse has schema version {version}, "
            f"newer than this cxlens ({SCHEMA_VERSION})",
            hint="upgrade cxlens",
        )
    if version == SCHEMA_VERSION:
        return
    con.execute("BEGIN")
    if version < 1:  # a new file: the tables of version 1
        for ddl in (_BATCHES, _QUARANTINE, _IDENTITIES, _CUSTOMERS):
            con.execute(ddl)
        for name in KINDS:
            con.execute(table_ddl(name))
            con.execute(view_ddl(name))
    if version < 2:  # 1 -> 2: the collect inbox, added in place
        con.execute(_INBOX_SEQ)
        con.execute(_INBOX)
    if 0 < version < 3:
        _to_v3(con)
    if 0 < version < 4:
        _to_v4(con)
    if version < 5:
        _to_v5(con, fresh=version == 0)
    if 0 < version < 6:
        _to_v6(con)
    if version < 7:
        _to_v7(con)
    if version < 8:
        _to_v8(con)
    if version < 9:
        _to_v9(con)
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
    )
    con.execute("COMMIT")


def _hex_md5_to_number(expr: str) -> str:
    """SQL turning an MD5 in hex into DuckDB's ``md5_number`` (the bytes, little-endian)."""
    pairs = " || ".join(f"substr({expr}, {i}, 2)" for i in range(31, 0, -2))
    return f"('0x' || {pairs})::UHUGEINT"


def _to_v3(con: duckdb.DuckDBPyConnection) -> None:
    """2 -> 3: content hashes as 128-bit numbers, content-keyed rows without a text key,
    and the staging columns that let a batch load straight into its table."""
    for k in KINDS.values():
        cols = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ?", [k.table]).fetchall())
        con.execute(f"DROP VIEW IF EXISTS v_{k.table}")
        if cols.get("_hash") == "VARCHAR":
            con.execute(f"ALTER TABLE {k.table} ALTER _hash TYPE UHUGEINT "
                        f"USING {_hex_md5_to_number('_hash')}")
            con.execute(f"UPDATE {k.table} SET _key = NULL WHERE _key LIKE 'h:%'")
        for name, sql_type in STAGING:
            if name not in cols:
                con.execute(f"ALTER TABLE {k.table} ADD COLUMN {name} {sql_type}")
    # The views are made again by _to_v4, which always follows.
    con.execute(
        "UPDATE quarantine SET row_hash = "
        f"{_hex_md5_to_number('row_hash')}::VARCHAR "
        "WHERE row_hash IS NOT NULL AND NOT starts_with(row_hash, 'raw:')"
    )


def _to_v4(con: duckdb.DuckDBPyConnection) -> None:
    """3 -> 4: unmapped columns as a list of values per row, named once per batch.

    Rows loaded before keep their ``properties`` JSON. Their content hashes were taken
    over that JSON, so a file loaded before the upgrade and again after it is not
    recognised as the same rows: roll back its old batch first (docs/ingest.md).
    """
    con.execute("ALTER TABLE batches ADD COLUMN IF NOT EXISTS extra_columns VARCHAR[]")
    for k in KINDS.values():
        con.execute(f"DROP VIEW IF EXISTS v_{k.table}")
        con.execute(f"ALTER TABLE {k.table} ADD COLUMN IF NOT EXISTS _extra VARCHAR[]")
    # The views are made again by _to_v5, which always follows (they name _warnings).


def _to_v5(con: duckdb.DuckDBPyConnection, *, fresh: bool) -> None:
    """4 -> 5: the field warnings table and each kind table's ``_warnings`` column."""
    con.execute(_FIELD_WARNINGS)
    if fresh:  # table_ddl made the column already
        return
    for k in KINDS.values():
        con.execute(f"DROP VIEW IF EXISTS v_{k.table}")
        con.execute(f"ALTER TABLE {k.table} ADD COLUMN IF NOT EXISTS _warnings "
                    'STRUCT("column" VARCHAR, value VARCHAR, reason VARCHAR)[]')
        con.execute(view_ddl(k.name))


def _to_v6(con: duckdb.DuckDBPyConnection) -> None:
    """5 -> 6: ``batches.skipped``, the rows a batch left out as totals, report notes and
    footers (issue 9); 0 for the batches loaded before."""
    con.execute("ALTER TABLE batches ADD COLUMN IF NOT EXISTS skipped BIGINT DEFAULT 0")
    con.execute("UPDATE batches SET skipped = 0 WHERE skipped IS NULL")


def _to_v7(con: duckdb.DuckDBPyConnection) -> None:
    """6 -> 7: the derived tables of open-comment analysis (issue 13): ``comment_analysis``
    and ``text_models``. Empty until ``cxlens text analyse`` runs; nothing else changes."""
    for name in ("comment_analysis", "text_models"):
        con.execute(derived_ddl(name))


def _to_v9(con: duckdb.DuckDBPyConnection) -> None:
    """8 -> 9: discovered comment themes (``text_themes``) and the user's theme edits
    (``text_theme_edits``), issue 13. Empty until ``cxlens text discover`` or ``cxlens text
    theme`` runs; kept in the warehouse so edits travel with the workspace."""
    for name in ("text_themes", "text_theme_edits"):
        con.execute(derived_ddl(name))


def replace_comment_analysis(con: duckdb.DuckDBPyConnection, rows: pa.Table,
                             stale: list[str]) -> None:
    """Store per-comment results: drop the ``stale`` keys (answers gone, changed or without
    a comment any more) and the keys of ``rows``, then insert ``rows``, in one transaction.
    The text package computes; only the store writes (cxlens.text.analyse)."""
    con.execute("BEGIN")
    try:
        keys = pa.table({"k": pa.array(stale + rows.column("response_id").to_pylist(),
                                       pa.string())})
        con.register("_ca_keys", keys)
        con.execute("DELETE FROM comment_analysis WHERE response_id IN (SELECT k FROM _ca_keys)")
        con.register("_ca_rows", rows)
        spec = DERIVED["comment_analysis"]
        cols = ", ".join(f'"{c}"' for c, _, _ in spec)
        casts = ", ".join(f'CAST("{c}" AS {t})' for c, t, _ in spec)
        con.execute(f"INSERT INTO comment_analysis ({cols}) SELECT {casts} FROM _ca_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_ca_keys")
        con.unregister("_ca_rows")


def save_text_model(con: duckdb.DuckDBPyConnection, model_id: str, params: str,
                    fitted_at: datetime) -> None:
    """Keep a fitted sentiment model (JSON) as the workspace's newest (``fitted_at`` UTC)."""
    con.execute("INSERT OR REPLACE INTO text_models VALUES (?, ?, ?)",
                [model_id, fitted_at, params])


def _to_v8(con: duckdb.DuckDBPyConnection) -> None:
    """7 -> 8: which batch's identity resolution last wrote each identity (``resolved_in``)
    and the customer the identity had just before it (``previous_customer_id``), so that
    the lake mirror knows what a batch changed in ``identities`` and ``customers`` without
    reading the lake (``lake._touched``). NULL on the identities written before (the lake
    is rewritten whole after a schema change anyway)."""
    con.execute("ALTER TABLE identities ADD COLUMN IF NOT EXISTS resolved_in INTEGER")
    con.execute("ALTER TABLE identities ADD COLUMN IF NOT EXISTS previous_customer_id VARCHAR")


def db_path(workspace: Path) -> Path:
    return Path(workspace) / DB_NAME


@contextmanager
def open_warehouse(workspace: Path, *,
                   read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (and create or migrate) the workspace's warehouse file."""
    workspace = Path(workspace)
    path = db_path(workspace)
    if read_only and not path.exists():
        raise UserError(
            f"no warehouse in workspace {workspace}",
            hint="ingest a file first (cxlens ingest FILE --kind …) or pass --workspace",
        )
    workspace.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(
                f"the warehouse {path} is in use by another cxlens process",
                hint="wait for the other command (or server) to finish, then try again",
            ) from None
        raise
    try:
        if not read_only:
            private(path, path.with_name(path.name + ".wal"))
            migrate(con)
        yield con
    finally:
        con.close()


@contextmanager
def open_engine(workspace: Path) -> Iterator[DuckDBEngine]:
    """The workspace's warehouse, read-only, as the :class:`Engine` that analytics read
    through (the CLI's way in; the server's is ``Warehouse.engine()``)."""
    with open_warehouse(workspace, read_only=True) as con:
        yield DuckDBEngine(con)


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts a person checks first: current records per kind, customers, quarantine."""
    parts = [f"SELECT '{k.table}', count(*) FROM v_{k.table}" for k in KINDS.values()]
    parts += [
        "SELECT 'customers', count(*) FROM customers",
        "SELECT 'identifiers', count(*) FROM identities",
        "SELECT 'batches', count(*) FROM batches WHERE status = 'loaded'",
        "SELECT 'quarantined (open)', count(*) FROM quarantine WHERE status = 'open'",
    ]
    return {name: int(n) for name, n in con.execute(" UNION ALL ".join(parts)).fetchall()}
