"""The one query interface that analytics code talks to, and its DuckDB implementation.

Analytics SQL is written once, in DuckDB's dialect. ``DuckDBEngine`` runs it as it is;
``cxlens.warehouse.spark.SparkEngine`` transpiles it with SQLGlot and runs it on Spark SQL
(see docs/engine.md for why, and for the constructs that do not survive the trip).

Both engines return ``pyarrow.Table`` results passed through ``normalize_arrow`` so that the
same query gives the same column types on either engine: analytics code and tests never have
to know which engine produced a table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pyarrow as pa

if TYPE_CHECKING:
    import duckdb


class ReadOnlyError(ValueError):
    """``Engine.query`` was given something other than a single read-only query.

    ``query`` is the analytics path; writes go through the warehouse store, which owns
    transactions and lineage. Refusing writes here keeps the two paths from mixing.
    """


@runtime_checkable
class Engine(Protocol):
    """What analytics code may ask of a warehouse engine.

    ``query`` takes one read-only statement in DuckDB's SQL dialect, with named parameters
    written ``$name`` and given in ``params``. The result is normalised with
    ``normalize_arrow``. ``register`` makes an Arrow table queryable under ``name`` (used by
    tests and by small in-memory inputs); ``tables`` lists what ``query`` can read.
    """

    name: str

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table: ...

    def register(self, name: str, table: pa.Table) -> None: ...

    def tables(self) -> list[str]: ...


# ---------------------------------------------------------------------------------------
# Result normalisation
# ---------------------------------------------------------------------------------------

_UTC_US = pa.timestamp("us", tz="UTC")


def _normal_type(t: pa.DataType) -> pa.DataType:
    """The engine-neutral Arrow type for ``t`` (see ``normalize_arrow``)."""
    if pa.types.is_timestamp(t):
        return _UTC_US
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t):
        return pa.float64()
    if pa.types.is_decimal(t):
        return pa.decimal128(38, t.scale)
    if pa.types.is_date(t):
        return pa.date32()
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_normal_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_normal_type(f.type)) for f in t])
    if pa.types.is_map(t):
        return pa.map_(_normal_type(t.key_type), _normal_type(t.item_type))
    return t


def normalize_arrow(table: pa.Table) -> pa.Table:
    """Cast a result to the types both engines agree on, so results compare equal.

    Why each rule exists:

    * timestamps -> ``timestamp[us, tz=UTC]``. DuckDB returns the warehouse's naive
      ``TIMESTAMP`` columns as naive Arrow timestamps; Spark returns them zoned in the session
      time zone, which cxlens pins to UTC. Naive values *are* UTC in the warehouse, so the
      cast only labels them.
    * integers -> ``int64``. Spark's ``row_number``/``rank``/``count`` of some kinds and
      ``extract`` give ``int32`` where DuckDB gives ``int64`` (and vice versa).
    * floats -> ``float64``.
    * decimals -> ``decimal128(38, scale)``. Each engine widens the precision of ``sum`` by
      its own rule (DuckDB to 38, Spark by +10); the *scale* is kept, so a query whose
      engines disagree on scale (``avg``, division) still fails the parity test and needs an
      explicit ``CAST`` in the SQL rather than a silent rounding here.
    * ``large_string``/``string_view`` -> ``string``, and the same inside lists, structs
      and maps.
    * every column nullable: Spark marks ``count(*)``, ``coalesce(...)`` and literals
      ``NOT NULL``; DuckDB never does. Nullability is not part of a result's meaning.

    Column names are kept as they are: write an alias for every computed column, because
    the engines name unaliased expressions differently.
    """
    target = pa.schema(
        [f.with_type(_normal_type(f.type)).with_nullable(True) for f in table.schema]
    )
    if target == table.schema.remove_metadata():
        return table.replace_schema_metadata(None)
    return table.replace_schema_metadata(None).cast(target)


# ---------------------------------------------------------------------------------------
# DuckDB
# ---------------------------------------------------------------------------------------

_UNITS = {"": 1, "B": 1, "BYTES": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def _bytes(setting: str) -> int | None:
    """``'18.8 GiB'`` (DuckDB's way of showing a memory setting) in bytes; ``None`` when it
    does not read as one."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", setting)
    if m is None or m.group(2).upper() not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])



class DuckDBEngine:
    """Runs cxlens SQL on a DuckDB connection, as written.

    The connection is opened elsewhere (``cxlens.warehouse.store`` owns warehouse files,
    their locks and their migrations); this class only reads through it.
    """

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run one read-only statement and return its rows as a normalised Arrow table."""
        self._check_read_only(sql)
        # con.sql(...).to_arrow_table() rather than execute(...).fetch_arrow_table(): the
        # DB-API path makes an extra copy of the rows (and DuckDB 2 warns about it).
        rel = self.con.sql(sql, params=dict(params) if params else None)
        if rel is None:  # only happens for statements that return nothing
            raise ReadOnlyError("query returned no result set")
        return normalize_arrow(rel.to_arrow_table())

    def register(self, name: str, table: pa.Table) -> None:
        """Expose ``table`` as a (temporary) view ``name`` without copying it."""
        self.con.register(name, table)

    @contextmanager
    def memory_cap(self, limit: int) -> Iterator[None]:
        """Hold DuckDB's buffer memory to ``limit`` bytes for the queries inside, then put
        the previous limit back. Joins, aggregates and sorts beyond it spill to DuckDB's
        temp directory instead of growing the process (the business moments on the L demo:
        a 7 GB peak otherwise). Only ever lowers the limit: a smaller machine's own (80 % of
        its memory by default) stays. The setting is the database's, so a query running at
        the same time on another cursor of it is held too."""
        old = self._memory_limit()
        current = _bytes(old)
        if current is not None and current <= limit:
            yield
            return
        self.con.execute(f"SET memory_limit = '{int(limit)}B'")
        try:
            yield
        finally:
            # DuckDB shows the limit rounded ('18.8 GiB'): setting that text back would
            # creep down on every call, so the default comes back by RESET when it was it
            self.con.execute("RESET memory_limit")
            if self._memory_limit() != old:
                self.con.execute(f"SET memory_limit = '{old}'")

    def _memory_limit(self) -> str:
        return str(self.con.sql("SELECT current_setting('memory_limit') AS v").fetchall()[0][0])

    def unregister(self, name: str) -> None:
        """Forget a table registered with :meth:`register` (a per-query input)."""
        self.con.unregister(name)

    def tables(self) -> list[str]:
        """Names of the tables and views in the current schema, plus registered tables."""
        rows = self.con.sql(
            "SELECT DISTINCT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() "
            "AND table_catalog IN (current_database(), 'temp') ORDER BY 1"
        ).fetchall()
        return [r[0] for r in rows]

    def _check_read_only(self, sql: str) -> None:
        import duckdb

        statements = self.con.extract_statements(sql)
        if len(statements) != 1:
            raise ReadOnlyError(f"expected one statement, got {len(statements)}")
        if statements[0].type != duckdb.StatementType.SELECT:
            raise ReadOnlyError(
                f"Engine.query runs read-only SELECT statements, not {statements[0].type.name}"
            )
