"""Apache Spark engine: runs cxlens's DuckDB-dialect SQL on Spark SQL via SQLGlot.

Analytics SQL is written once in DuckDB's dialect (the embedded default). For teams that
outgrow one machine the same text is transpiled with ``sqlglot`` to Spark SQL and run on a
``SparkSession``. Transpiled SQL, unlike a dataframe DSL, stays reviewable: the golden files
under ``tests/warehouse/sql`` show exactly what Spark runs. docs/engine.md lists the
constructs whose translation is wrong or whose semantics differ; the parity tests hold each
one down.

PySpark is an optional dependency (``pip install cxlens[spark]``), imported lazily.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import socket
import tempfile
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from cxlens.errors import EngineUnavailable, UserError
from cxlens.warehouse._spark_run import split, timeout_seconds, with_time_limit
from cxlens.warehouse.engine import ReadOnlyError, normalize_arrow

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _is_date(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DATE)


def _regexp_replace_first_only(node: exp.Expression) -> bool:
    if not isinstance(node, exp.RegexpReplace):
        return False
    flags = node.args.get("modifiers")
    return not (isinstance(flags, exp.Literal) and "g" in flags.name)


def _boundary_date_diff(node: exp.Expression) -> bool:
    if not isinstance(node, exp.DateDiff):
        return False
    unit = node.text("unit").upper()
    return not (unit == "DAY" and _is_date(node.this) and _is_date(node.expression))


def _day_of_week(node: exp.Expression) -> bool:
    if isinstance(node, exp.DayOfWeek | exp.DayOfWeekIso | exp.Dayname):
        return True
    if isinstance(node, exp.Extract):
        return node.this.name.upper() in ("DOW", "ISODOW", "DAYOFWEEK")
    if isinstance(node, exp.Anonymous) and node.name.lower() == "date_part":
        part = node.expressions[0] if node.expressions else None
        return isinstance(part, exp.Literal) and part.name.lower() in ("dow", "isodow")
    return False


# Constructs that SQLGlot translates to Spark SQL *without error* but with a different
# meaning. Each was measured on DuckDB 2.0 / Spark 4 (see docs/engine.md and the parity
# tests); refusing them is the only way to keep "same SQL, same answer".
_SILENTLY_WRONG: tuple[tuple[Any, str], ...] = (
    (
        lambda n: isinstance(n, exp.ArrayAgg) and isinstance(n.this, exp.Order),
        "list()/array_agg() with ORDER BY becomes COLLECT_LIST, which drops the order (and "
        "NULLs); use string_agg(x, sep ORDER BY ...) or a window with row_number()",
    ),
    (
        _regexp_replace_first_only,
        "regexp_replace() without the 'g' flag replaces the first match on DuckDB but every "
        "match on Spark; pass 'g'",
    ),
    (
        _boundary_date_diff,
        "date_diff()/datediff() counts unit boundaries on DuckDB but whole elapsed units on "
        "Spark; use date_diff('day', a::DATE, b::DATE), month arithmetic with year()/month(), "
        "or epoch(b) - epoch(a) for seconds",
    ),
    (
        lambda n: (
            isinstance(n, exp.WithinGroup)
            and isinstance(n.this, exp.PercentileCont | exp.PercentileDisc)
        ),
        "percentile_cont/percentile_disc WITHIN GROUP becomes PERCENTILE_APPROX on Spark; "
        "use median(), or aggregate in SQL and compute quantiles in NumPy",
    ),
    (
        _day_of_week,
        "day-of-week functions number days differently (DuckDB dow 0=Sunday, Spark "
        "1=Sunday; isodow and dayname are translated wrongly); use "
        "date_diff('day', DATE '2024-01-01', x::DATE) % 7 (0 = Monday)",
    ),
    (
        lambda n: isinstance(n, exp.AtTimeZone),
        "AT TIME ZONE becomes FROM_UTC_TIMESTAMP, which converts in the opposite direction; "
        "convert time zones in Python at the edge, the warehouse is UTC",
    ),
)


# DuckDB's JSON functions raise on malformed JSON, so portable SQL wraps them in try();
# Spark's return NULL on malformed JSON already and SQLGlot has no Spark form of try().
_NULL_ON_BAD_JSON = (exp.JSONKeys, exp.JSONExtract, exp.JSONExtractScalar)


def _unwrap_json_try(node: exp.Expression) -> exp.Expression:
    """``try(json_fn(x))`` becomes ``json_fn(x)`` on Spark (same meaning, see above)."""
    if isinstance(node, exp.Try) and isinstance(node.this, _NULL_ON_BAD_JSON):
        return node.this
    return node


def check_portable(tree: exp.Expression) -> None:
    """Raise ``UnsupportedError`` for constructs whose Spark translation changes meaning."""
    for node in tree.walk():
        for is_bad, why in _SILENTLY_WRONG:
            if is_bad(node):
                raise UnsupportedError(f"not portable to Spark: {why}: {node.sql('duckdb')}")


def _json_valid(node: exp.Expression) -> exp.Expression:
    """DuckDB's ``json_valid(s)`` (Spark has none) as ``try_parse_json(s) IS NOT NULL``:
    Spark ≥ 4.0 parses valid JSON text to a VARIANT and gives NULL for anything else."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "json_valid" \
            and len(node.expressions) == 1:
        return exp.Is(this=exp.func("try_parse_json", node.expressions[0].copy()),
                      expression=exp.Not(this=exp.Null()))
    return node


def _spark_json_path(node: exp.Expression) -> exp.Expression:
    """A JSON path whose keys Spark's bracket form cannot hold, in its dot form.

    SQLGlot writes ``$."k"`` as ``$['k']``; Spark's path parser reads no ``'`` or ``?``
    inside brackets and silently returns NULL. The dot form ``$.k`` reads any key without
    ``.`` or ``[``; a key with both kinds of character cannot be addressed on Spark at all.
    """
    if not isinstance(node, exp.JSONPath):
        return node
    keys = node.expressions[1:]
    if not keys or not all(isinstance(k, exp.JSONPathKey) and isinstance(k.this, str)
                           for k in keys):
        return node
    names = [k.this for k in keys]
    if not any("'" in n or "?" in n for n in names):
        return node
    if any(c in n for n in names for c in ".[]"):
        raise UnsupportedError(f"not portable to Spark: the JSON key {names!r} has both a "
                               "quote or '?' and a '.' or bracket, which Spark's JSON paths "
                               "cannot address")
    return exp.Literal.string("$." + ".".join(names))


@functools.lru_cache(maxsize=512)
def to_spark_sql(sql: str) -> str:
    """Translate one read-only DuckDB-dialect statement to Spark SQL.

    Cached because analytics functions send the same few module-level SQL constants again
    and again, and parsing is the expensive part. ``unsupported_level=RAISE`` turns SQLGlot's
    "not supported in Spark" warnings into errors, and ``check_portable`` refuses the
    constructs that SQLGlot translates without complaint into something that means another
    thing: a query that cannot be translated must fail loudly, never run as something else.
    Named parameters ``$name`` become ``:name``, which ``SparkSession.sql(args=...)`` binds.
    """
    statements = sqlglot.parse(sql, read="duckdb")
    if len(statements) != 1 or statements[0] is None:
        raise ReadOnlyError(f"expected one statement, got {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise ReadOnlyError(
            f"Engine.query runs read-only queries, not {type(tree).__name__.upper()}"
        )
    check_portable(tree)
    tree = tree.transform(_unwrap_json_try).transform(_json_valid).transform(_spark_json_path)
    return tree.sql(dialect="spark", pretty=True, unsupported_level=ErrorLevel.RAISE)


def _utc(value: Any) -> Any:
    """A parameter with its naive datetimes marked UTC, as the warehouse means them (and as
    DuckDB binds them): PySpark reads a naive datetime in the Python process's local time
    zone, which would shift it by that zone's offset (e.g. 10:00 becomes 07:00 under
    ``TZ=Europe/Helsinki``)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, list | tuple):
        return [_utc(v) for v in value]
    return value


# What a failed job's text says when memory ran out: the JVM's own error, Spark's (a task's
# memory manager), a lost executor (a cluster's worker killed for its memory) and YARN's or
# Kubernetes' kill of a container over its limit.
_OOM_MARKS = ("OutOfMemoryError", "Java heap space", "GC overhead limit exceeded",
              "SparkOutOfMemoryError", "ExecutorLostFailure", "exceeding memory limits",
              "OOMKilled")


def _out_of_memory(text: str) -> bool:
    return any(mark in text for mark in _OOM_MARKS)


def _session_gone(exc: Exception) -> bool:
    """Py4J lost its JVM (it died), or the session was stopped."""
    text = str(exc)
    return (type(exc).__name__ in ("Py4JNetworkError",)
            or "Answer from Java side is empty" in text
            or "Cannot call methods on a stopped SparkContext" in text)


def _release(df: Any) -> None:
    """Free a local checkpoint's blocks now rather than at the JVM's next garbage
    collection (a classic session; Spark Connect's server cleans up by itself)."""
    jdf = getattr(df, "_jdf", None)
    if jdf is not None:
        rdd = getattr(jdf.queryExecution().logical(), "rdd", None)
        if rdd is not None:
            rdd().unpersist(False)


class SparkEngine:
    """Runs cxlens SQL on a SparkSession, transpiled from DuckDB's dialect.

    The session is created elsewhere (``local_session`` for tests and single machines, or
    the cluster's own); it must use ``spark.sql.session.timeZone=UTC`` because the warehouse
    stores naive timestamps that mean UTC.
    """

    name = "spark"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        tz = spark.conf.get("spark.sql.session.timeZone")
        if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
            raise ValueError(
                f"SparkEngine needs spark.sql.session.timeZone=UTC, the session has {tz!r}: "
                "timestamps would shift by the session's offset"
            )

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Translate, run and return the rows as a normalised Arrow table.

        CTEs referenced more than once are computed once, cached, and read by the rest
        (``_spark_run.split``: Spark would compute them at every reference); the whole runs
        under ``$CXLENS_SPARK_TIMEOUT``. A JVM out of memory, a lost executor or a query
        past its time is the engine's trouble, not the query's: :class:`EngineUnavailable`
        with what to change, never Py4J's stack."""
        args = {k: _utc(v) for k, v in params.items()} if params else None
        seconds = timeout_seconds()
        steps, rest = split(sql, f"cxlens_cte_{uuid.uuid4().hex[:12]}")
        # translate first: an untranslatable query fails before any job runs
        steps = [(view, to_spark_sql(text)) for view, text in steps]
        rest = to_spark_sql(rest)
        try:
            return with_time_limit(self.spark, lambda: self._run(steps, rest, args), seconds)
        except UserError:
            raise
        except Exception as exc:
            if _out_of_memory(str(exc)):
                raise EngineUnavailable(
                    "Spark ran out of memory (or lost an executor) running an analysis",
                    hint=f"give it more: ${MEMORY_ENV}=4g for a local session (the "
                         "default is Spark's 1g), the cluster's executor memory, or "
                         "use the DuckDB engine") from None
            if _session_gone(exc):
                raise EngineUnavailable(
                    "the Spark session is gone (its JVM stopped, often out of memory)",
                    hint=f"run the command again; give Spark more memory (${MEMORY_ENV}=4g) "
                         "or use the DuckDB engine") from None
            raise

    def _run(self, steps: list[tuple[str, str]], rest: str,
             args: dict[str, Any] | None) -> pa.Table:
        """The shared CTEs' queries, each computed once into a local checkpoint (its rows
        kept by Spark, in memory or on disk, and its plan cut there: a view of a merely
        cached query would still be planned whole where it is read), then ``rest``."""
        done: list[tuple[str, Any]] = []
        try:
            for view, text in steps:
                df = self.spark.sql(text, args=args).localCheckpoint(eager=True)
                done.append((view, df))
                df.createOrReplaceTempView(view)
            return normalize_arrow(self.spark.sql(rest, args=args).toArrow())
        finally:
            for view, df in done:
                try:
                    self.spark.catalog.dropTempView(view)
                    _release(df)
                except Exception:  # a failed clean-up must not hide the answer
                    logging.getLogger(__name__).debug("could not drop %s", view)

    def register(self, name: str, table: pa.Table) -> None:
        """Load ``table`` into Spark and expose it as temporary view ``name``."""
        if table.num_rows == 0:  # PySpark refuses columns of no chunks (DuckDB's empty tables)
            table = pa.table([pa.array([], type=f.type) for f in table.schema],
                             schema=table.schema)
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        """Drop a temporary view made by :meth:`register` (a per-query input)."""
        self.spark.catalog.dropTempView(name)

    def tables(self) -> list[str]:
        """Tables and temporary views of the current database, sorted by name."""
        return sorted(t.name for t in self.spark.catalog.listTables())


# Keeps Spark's JVM to errors only. Written to a file because log4j2 reads its config before
# any Python code could call setLogLevel; the INFO/WARN start-up lines otherwise flood every
# test run and CLI command.
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def local_session(
    app_name: str = "cxlens",
    *,
    master: str = "local[2]",
    shuffle_partitions: int = 4,
    extra_conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """Start (or reuse) a local SparkSession configured the way cxlens expects.

    * UTC session time zone: naive warehouse timestamps are UTC.
    * few shuffle partitions: the default 200 makes every small group-by take seconds.
    * no UI and bound to loopback: nothing listens on or talks to other addresses.
    * quiet logs (see ``_LOG4J2``).

    Starting a session takes several seconds; share one per process (tests use a
    session-scoped fixture) and call ``stop()`` at the end.
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    log_conf = os.path.join(tempfile.gettempdir(), "cxlens-spark-log4j2.properties")
    with open(log_conf, "w", encoding="utf-8") as fh:
        fh.write(_LOG4J2)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_conf}")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    memory = os.environ.get(MEMORY_ENV)
    if memory and master.startswith("local"):
        if not re.fullmatch(r"\d+[kmgt]?", memory.strip().lower()):
            raise UserError(f"${MEMORY_ENV}={memory!r} is not an amount of memory",
                            hint="write it as Spark does: 4g, 2048m")
        builder = builder.config("spark.driver.memory", memory.strip().lower())
    for key, value in (extra_conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # PySpark 4 logs every SQL error, with the whole JVM stack, as JSON on stderr *and*
    # raises it. The raised exception carries the message; the log line is noise.
    from pyspark.logger import PySparkLogger

    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    PySparkLogger.getLogger("DataFrameQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


# ---------------------------------------------------------------------------------------
# Spark for real: a session for CXLENS_SPARK, and an engine over the workspace's lake
# ---------------------------------------------------------------------------------------

SPARK_ENV = "CXLENS_SPARK"
DRIVER_HOST_ENV = "CXLENS_SPARK_DRIVER_HOST"
MEMORY_ENV = "CXLENS_SPARK_MEMORY"  # a local session's driver memory, e.g. 4g
PROBE_SECONDS = 3.0
INSTALL_HINT = "install the Spark extra: pip install 'cxlens[spark]' (and Java 17 for Spark)"


def require_pyspark() -> None:
    """Raise a ``UserError`` saying how to install PySpark when it is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UserError("the Spark engine needs PySpark, which is not installed",
                        hint=INSTALL_HINT) from None


def _probe(url: str, default_port: int) -> None:
    """Connect to every host:port of a master or Connect URL within ``PROBE_SECONDS``.

    Spark itself retries an unreachable master for minutes (and a Connect client its gRPC
    channel); a plain TCP connect first turns "nobody answers" into an error within seconds
    that names the URL."""
    rest = url.split("://", 1)[1].split("/", 1)[0].split(";", 1)[0]
    for hostport in rest.split(","):
        host, _, port = hostport.rpartition(":")
        if not host:
            host, port = hostport, str(default_port)
        try:
            with socket.create_connection((host.strip("[]"), int(port)),
                                          timeout=PROBE_SECONDS):
                pass
        except (OSError, ValueError) as exc:
            raise UserError(
                f"the Spark {'Connect server' if url.startswith('sc:') else 'master'} "
                f"at {url} does not answer ({exc.__class__.__name__}: {exc})",
                hint=f"check that it runs and that this machine reaches {host}:{port}, or "
                     f"unset ${SPARK_ENV} / use --engine duckdb") from None


def session_for(spec: str, app_name: str = "cxlens", *,
                conf: Mapping[str, str] | None = None) -> SparkSession:
    """The SparkSession that ``spec`` names: ``local[N]``, a standalone master
    ``spark://host:port`` or a Spark Connect server ``sc://host:port``.

    Masters and Connect servers are probed first (see ``_probe``). A cluster's executors
    must reach the driver (this process): it binds to 127.0.0.1 unless
    ``$CXLENS_SPARK_DRIVER_HOST`` names the address they reach it at.
    """
    require_pyspark()
    spec = spec.strip()
    if spec.startswith("sc://"):
        _probe(spec, 15002)
        from pyspark.sql import SparkSession

        session = SparkSession.builder.remote(spec).getOrCreate()
        session.conf.set("spark.sql.session.timeZone", "UTC")
        for key, value in (conf or {}).items():
            # Cluster settings (executor memory, cores) belong to the Connect server,
            # which refuses them from a client; SQL settings apply to this session.
            if session.conf.isModifiable(key):
                session.conf.set(key, value)
        return session
    if not (spec.startswith("local") or spec.startswith("spark://")):
        raise UserError(f"unknown Spark master {spec!r}",
                        hint="use local[N], spark://host:port or sc://host:port")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise UserError("Spark needs Java 17, and 'java' is not on PATH",
                        hint="install a Java 17 runtime (e.g. apt-get install openjdk-17-jre)")
    extra = dict(conf or {})
    if spec.startswith("spark://"):
        _probe(spec, 7077)
        host = os.environ.get(DRIVER_HOST_ENV)
        if host:
            extra.setdefault("spark.driver.host", host)
            extra.setdefault("spark.driver.bindAddress", "0.0.0.0")
    return local_session(app_name, master=spec, extra_conf=extra)


# The view's ``properties`` on Spark: the mirrored row's own JSON, or its unmapped columns'
# values (``_extra``, mirrored as JSON array text) under the names its batch recorded, as
# the DuckDB view builds it with ``to_json(map(b.extra_columns, t._extra))``. Spark's
# ``to_json`` of a map gives the same text byte for byte (key order, escapes of quotes,
# backslashes and control characters, non-ASCII text as it is, NULL values as ``null``):
# tests/warehouse/test_spark_properties.py compares it on nasty values. Built here, not in
# the mirror, because the mirror's cost is writing the values (docs/engine.md, "The lake").
_PROPERTIES = ("CASE WHEN r._extra IS NULL THEN r.properties ELSE to_json(map_from_arrays("
               "b.extra_columns, from_json(r._extra, 'array<string>'))) END AS properties")


def _view_sql(rows: str, columns: list[str], identity: bool) -> str:
    """``v_<kind>`` on Spark over the mirrored ``rows``: the DuckDB view's columns in its
    order (``properties`` built from ``_extra``, which the view does not show) and, for
    kinds that resolve identities, ``customer_id`` from ``identities``."""
    def q(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    props = "_extra" in columns and "properties" in columns
    cols = [_PROPERTIES if props and c == "properties" else f"r.{q(c)}"
            for c in columns if c != "_extra"]
    joins = " LEFT JOIN batches b ON b.batch_id = r._batch" if props else ""
    if identity:
        cols.append("i.customer_id")
        joins += " LEFT JOIN identities i ON i.identity_key = r._idkey"
    return f"SELECT {', '.join(cols)} FROM {rows} r{joins}"


def lake_engine(spark: SparkSession, lake: Path) -> SparkEngine:
    """A ``SparkEngine`` whose tables are the lake's current version: ``identities``,
    ``customers``, ``batches``, the derived tables (``comment_analysis`` …) and each
    ``v_<kind>`` view (the mirrored rows joined with
    ``identities`` for ``customer_id``, as the warehouse's view does, and ``properties``
    built from the mirrored ``_extra`` and ``batches``).

    The version is resolved once, here: the engine keeps reading it even if batches move
    the lake on (the version before stays on disk). Make an engine per request or command.
    """
    from cxlens.warehouse import lake as lk

    pointer = lk.current(lake)
    missing = lk.missing_tables(lake, pointer)
    if pointer is None or missing:
        raise UserError(f"the lake at {lake} lacks the tables {', '.join(missing)}",
                        hint="run `cxlens lake sync` to write them")
    # The plain tables first: the views join identities and batches.
    def read(name: str) -> Any:
        return spark.read.option("recursiveFileLookup", "true").parquet(
            str(lk.table_dir(lake, pointer, name)))

    for m in sorted(lk.mirrored(), key=lambda m: m.base is not None):
        if m.derived and (pointer.get("derived") or {}).get(m.name) is None:
            continue  # the warehouse has no such table (an old schema): neither has Spark
        df = read(m.name)
        if m.key is not None:
            # identities, customers: the rows whose key no later segment touched
            # (lake._keyed_batch)
            df.createOrReplaceTempView(f"lake_{m.name}")
            read(m.name + lk.DELETED).createOrReplaceTempView(f"lake_{m.name}{lk.DELETED}")
            cols = ", ".join(f"r.`{c}`" for c in df.columns if c != lk.SEGMENT)
            spark.sql(f"CREATE OR REPLACE TEMP VIEW {m.name} AS SELECT {cols} "
                      f"FROM lake_{m.name} r LEFT ANTI JOIN lake_{m.name}{lk.DELETED} d "
                      f"ON d.{m.key} = r.{m.key} AND d.{lk.SEGMENT} > r.{lk.SEGMENT}")
            continue
        if m.base is None:
            df.createOrReplaceTempView(m.name)
            continue
        rows = f"lake_{m.name}"
        df.createOrReplaceTempView(rows)
        spark.sql(f"CREATE OR REPLACE TEMP VIEW v_{m.name} AS "
                  + _view_sql(rows, df.columns, m.identity))
    return SparkEngine(spark)


def engine_for(workspace: Path, spec: str | None = None, *,
               session: SparkSession | None = None,
               conf: Mapping[str, str] | None = None) -> SparkEngine:
    """The workspace on Spark: the lake brought up to date (written when it is missing,
    behind the warehouse or lacks a table), then read by ``session`` or a new session for
    ``spec`` (default ``$CXLENS_SPARK``, else ``local[2]``) with the settings ``conf``."""
    require_pyspark()
    from cxlens.warehouse import lake as lk

    lake = lk.lake_path(workspace)
    ensure_lake(workspace, lake)
    spark = session or session_for(spec or os.environ.get(SPARK_ENV) or "local[2]", conf=conf)
    return lake_engine(spark, lake)


def lake_behind(con: Any, lake: Path) -> bool:
    """Whether the lake must be written before Spark reads it: missing, lacking a table,
    behind the warehouse ``con`` (batches, rollbacks or a derived table such as
    ``comment_analysis``) or of another schema version."""
    from cxlens.warehouse import lake as lk

    pointer = lk.current(lake)
    return bool(pointer is None or lk.missing_tables(lake, pointer)
                or pointer.get("state") != lk.warehouse_state(con)
                or pointer.get("schema") != lk.schema_version(con)
                or lk.derived_changed(pointer, lk.derived_state(con)))


def ensure_lake(workspace: Path, lake: Path) -> None:
    """Sync the lake when it is missing, behind the warehouse or lacks a table. When the
    warehouse is busy (another writer holds it) a complete lake is read as it is."""
    from cxlens.warehouse import lake as lk
    from cxlens.warehouse.store import open_warehouse

    pointer = lk.current(lake)
    try:
        with open_warehouse(workspace, read_only=True) as con:
            if lake_behind(con, lake):
                lk.sync(con, lake)
    except UserError as exc:
        if "in use" not in exc.message or pointer is None or lk.missing_tables(lake, pointer):
            raise
        logging.getLogger(__name__).warning("the warehouse is busy; reading the lake as it is")
