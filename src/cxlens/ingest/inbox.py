"""Live event collection in two stages: accept into the inbox, then flush through ingest.

**Accept** (:func:`append`): the messages of one request are checked for shape
(:mod:`cxlens.ingest.messages`); if any is bad, nothing is stored and
:class:`~cxlens.ingest.messages.InvalidMessages` names every bad message by index and field.
Otherwise all of them are inserted into the ``inbox`` table in one transaction, and the call
returns after COMMIT: that is the point where the sender may be told ``{"success": true}``.
A ``messageId`` already in the inbox is accepted again (a retry) but not stored twice.

**Process** (:func:`flush`): pending inbox rows go through the same pipeline as a file
(:func:`cxlens.ingest.load.load_staged`): typing, validation, quarantine, deduplication,
identity resolution, one transaction per batch, ``rows_in = loaded + quarantined +
duplicates``. Every message becomes one ``events`` row (track → its event name, page →
``page_view``, screen → ``screen_view``, identify / group / alias under their own names), so
the links an identify makes (anonymousId ↔ userId ↔ e-mail) are facts that a later identify
cannot supersede. identify messages also give one ``customer_records`` row per person:
the traits of every identify so far merged (later values win), as Segment merges traits.
The inbox rows are marked processed in the same transaction as the events batch, so a
crash leaves them pending and the next flush does the work again, loading nothing twice.

**Bounded chunks.** A flush works in chunks of at most :data:`FLUSH_CHUNK` messages and
about :data:`CHUNK_SECONDS` of work: the first chunk takes :data:`FIRST_CHUNK` messages,
each next one is sized from the rate the previous one reached (never below
:data:`MIN_CHUNK`). Each chunk is one call of ``turn`` — in the server, one background
turn of the workspace's writer (:meth:`cxlens.web.warehouses.Warehouse.write`), so an
ingest, a rollback or a survey answer waits for at most one chunk, not for the whole
flush. A flush takes only the messages that were in the inbox when it began (up to the
inbox sequence's value then): it ends even while messages keep arriving; those are the
next flush's.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from cxlens.ingest.load import BatchResult, Plan, Progress, load_staged
from cxlens.ingest.mapping import Mapping, Rule
from cxlens.ingest.messages import Message, check
from cxlens.ingest.transform import email_expr, phone_expr
from cxlens.sources.readers import SAMPLE_ROWS, Staged

SOURCE_FILE = "collect:segment"
SOURCE = "collect"
FLUSH_CHUNK = 20_000  # messages per chunk at most: bounds its memory and its time
FIRST_CHUNK = 5_000  # the first chunk of a flush, before its rate is known
# A chunk is never sized below this: each chunk pays a fixed cost (two batches, their
# transactions and identity resolution; 0.2-1 s, more on a large warehouse or a busy
# machine) against ~25 us a message, so smaller chunks only make the flush fall behind the
# traffic (500-message chunks loaded ~500 messages/s on a busy 2-core machine) without
# shortening a chunk much.
MIN_CHUNK = 5_000
CHUNK_SECONDS = 0.5  # the work one chunk aims at: the bound on an interactive write's wait
DEDUPE_IDS = 1_000_000  # newest inbox message ids kept in memory to skip retries
FLUSH_EVERY_SECONDS = 2.0  # what the server should use
FLUSH_WHEN_PENDING = 5_000
COUNTRY = "FI"  # for phone numbers written without a country code
_SEL = "_collect_sel"
# runs one step of a flush as the warehouse's writer: turn(step) -> step(cursor)
Turn = Callable[[Callable[[duckdb.DuckDBPyConnection], Any]], Any]

# Trait keys that have their own customer field; the other traits are kept as properties.
_TRAIT_FIELDS = ("email", "phone", "firstName", "first_name", "lastName", "last_name", "name",
                 "language", "country", "city", "segment", "createdAt", "created_at",
                 "address")

EVENTS_MAPPING = Mapping(
    kind="events", name="collect_events", source=SOURCE, properties="none",
    description="Segment-shaped messages collected over HTTP (built in)",
    columns={f: Rule(column=f) for f in (
        "event_id", "event_type", "channel", "campaign", "crm_id", "email", "anonymous_id",
        "properties")} | {"ts": Rule(column="ts", format="iso")},
)
CUSTOMERS_MAPPING = Mapping(
    kind="customers", name="collect_identify", source=SOURCE, properties="none",
    country=COUNTRY,
    description="Traits of Segment identify messages, merged per person (built in)",
    columns={f: Rule(column=f) for f in (
        "crm_id", "email", "phone", "anonymous_id", "first_name", "last_name", "name",
        "language", "country", "city", "segment", "properties")}
    | {"created_at": Rule(column="created_at", format="iso|epoch")},
)


@dataclass
class AppendResult:
    """What one request stored: ``received = stored + duplicates``."""

    received: int
    stored: int
    duplicates: int
    message_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"received": self.received, "stored": self.stored,
                "duplicates": self.duplicates}


# ------------------------------------------------------------------------ accept


def append(con: duckdb.DuckDBPyConnection, messages: list[Any], *,
           received_at: datetime) -> AppendResult:
    """Check the messages of one request and store them all, or none.

    Raises :class:`~cxlens.ingest.messages.InvalidMessages` (nothing stored) when any
    message is bad. Returns after COMMIT, so the result may be acknowledged to the sender.
    Run appends on one connection at a time (the server's writer), not concurrently with
    another transaction on the same warehouse.
    """
    return store(con, check(messages, received_at))


def store(con: duckdb.DuckDBPyConnection, valid: list[Message]) -> AppendResult:
    """Insert already-checked messages in one transaction; duplicates are skipped."""
    unique: dict[str, Message] = {}
    for m in valid:
        unique.setdefault(m.message_id, m)
    seen = _seen_for(con)
    with seen.lock:
        con.execute("BEGIN TRANSACTION")
        try:
            seen.catch_up(con)
            held = seen.confirm(con, [i for i in unique if i in seen.ids])
            rows = [m for i, m in unique.items() if i not in held]
            added: list[tuple[str, int]] = []
            if rows:
                added = con.execute(
                    "INSERT INTO inbox (message_id, type, received_at, raw) "
                    "SELECT unnest($1), unnest($2), now()::TIMESTAMP, unnest($3) "
                    "RETURNING message_id, seq",
                    [[m.message_id for m in rows], [m.type for m in rows],
                     [m.raw for m in rows]]).fetchall()
            last = max((q for _, q in added), default=seen.last_seq)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            seen.reset()
            raise
        seen.add(added, last)
    return AppendResult(received=len(valid), stored=len(rows),
                        duplicates=len(valid) - len(rows),
                        message_ids=[m.message_id for m in rows])


class _Seen:
    """The message ids of the newest inbox rows, to tell a retry without an index scan.

    A unique index on ``inbox.message_id`` makes every checkpoint rewrite the index (the
    append rate fell from ~10,000 to ~2,500 messages/s by 400,000 rows), and an anti-join
    scans the whole inbox. So each process keeps the ids of the newest :data:`DEDUPE_IDS`
    rows in memory, and before every append reads the inbox sequence (a catalog lookup) and
    loads the ids another connection or process appended since. Retries older than that
    window still load once: events are keyed by ``messageId`` (see :func:`flush`).
    """

    def __init__(self, key: str) -> None:
        self.key = key  # the database: its resolved path
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.ids: dict[str, int] = {}  # message id -> inbox seq, oldest first
        self.last_seq: int | None = None

    def catch_up(self, con: duckdb.DuckDBPyConnection) -> None:
        last = _last_seq(con)
        if last == self.last_seq:
            return
        if self.last_seq is None or last is None or last < self.last_seq:
            self.reset()  # first use, or a different file at the same path
            new = con.execute(
                "SELECT message_id, seq FROM (SELECT message_id, seq FROM inbox ORDER BY seq "
                f"DESC LIMIT {DEDUPE_IDS}) ORDER BY seq").fetchall()
        else:
            new = con.execute("SELECT message_id, seq FROM inbox WHERE seq > ? ORDER BY seq",
                              [self.last_seq]).fetchall()
        self.add(new, last)

    def confirm(self, con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
        """Of ids the memory holds, those really in the inbox (looked up by their seq)."""
        if not ids:
            return set()
        return {i for (i,) in con.execute(
            "SELECT message_id FROM inbox WHERE list_contains($1, seq) "
            "AND list_contains($2, message_id)", [[self.ids[i] for i in ids], ids]).fetchall()}

    def add(self, rows: list[tuple[str, int]], last: int | None) -> None:
        self.ids.update(rows)
        self.last_seq = last
        extra = len(self.ids) - DEDUPE_IDS
        if extra > 0:
            for i in list(itertools.islice(self.ids, extra)):
                del self.ids[i]


_seen: dict[str, _Seen] = {}
_seen_by_con: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, _Seen] = (
    weakref.WeakKeyDictionary())
_seen_lock = threading.Lock()


def _seen_for(con: duckdb.DuckDBPyConnection) -> _Seen:
    known = _seen_by_con.get(con)
    if known is not None:
        return known
    path = con.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchall()[0][0]
    key = str(Path(path).resolve()) if path else f"memory:{id(con)}"
    with _seen_lock:
        seen = _seen_by_con[con] = _seen.setdefault(key, _Seen(key))
    return seen


def _last_seq(con: duckdb.DuckDBPyConnection) -> int | None:
    rows = con.execute("SELECT last_value FROM duckdb_sequences() "
                       "WHERE sequence_name = 'inbox_seq'").fetchall()
    return None if not rows or rows[0][0] is None else int(rows[0][0])


def pending(con: duckdb.DuckDBPyConnection) -> int:
    """How many messages wait for :func:`flush`."""
    return int(con.execute(
        "SELECT count(*) FROM inbox WHERE status = 'pending'").fetchall()[0][0])


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Inbox rows per status: pending, processed, quarantined."""
    return {s: int(n) for s, n in con.execute(
        "SELECT status, count(*) FROM inbox GROUP BY ALL ORDER BY ALL").fetchall()}


# ------------------------------------------------------------------------ process


def flush(con: duckdb.DuckDBPyConnection | None, limit: int | None = None, *,
          progress: Progress | None = None, turn: Turn | None = None,
          chunk_rows: int = FLUSH_CHUNK, chunk_seconds: float = CHUNK_SECONDS,
          ) -> list[BatchResult]:
    """Load pending inbox messages (at most ``limit``) as ingest batches, oldest first.

    Works in bounded chunks (see the module docstring); each chunk gives an events batch
    (every message of the chunk) and, when it holds identify messages, a customers batch
    before it. Only messages already in the inbox when the flush began are taken. Returns
    the batch results in the order they were loaded; an empty list when nothing was pending.

    ``turn`` runs each chunk as the warehouse's writer and lets other writes go between
    chunks (the server passes ``lambda step: warehouse.write(step, background=True)``);
    without it the chunks run on ``con`` one after the other. Chunks of one database in
    one process never overlap; do not flush one warehouse from two processes.
    """
    if turn is None:
        if con is None:
            raise TypeError("flush needs a connection or a turn")
        target = con

        def turn(step: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
            return step(target)

    say = progress or (lambda step, frac: None)
    run = _Flush(size=max(1, min(FIRST_CHUNK, chunk_rows)))
    results: list[BatchResult] = []
    left = limit
    while left is None or left > 0:
        take = run.size if left is None else min(run.size, left)
        n, loaded, seconds = turn(lambda cur, take=take: _chunk(cur, run, take, say))
        if n == 0:
            break
        results += loaded
        if left is not None:
            left -= n
        run.size = next_chunk(n, seconds, chunk_rows, chunk_seconds)
    return results


def next_chunk(n: int, seconds: float, most: int = FLUSH_CHUNK,
               aim: float = CHUNK_SECONDS) -> int:
    """The size of the next chunk after ``n`` messages took ``seconds``: as many as fit in
    ``aim`` at that rate (growing at most twofold, so one odd fast chunk cannot make the next
    one long), within [:data:`MIN_CHUNK`, ``most``].

    >>> next_chunk(8000, 0.25), next_chunk(8000, 2.0), next_chunk(8000, 0.001, most=9000)
    (16000, 5000, 9000)
    """
    fit = n * aim / max(seconds, 1e-6)
    return int(max(min(MIN_CHUNK, most), min(most, 2 * n, fit)))


@dataclass
class _Flush:
    """One flush's state across its chunks."""

    size: int
    upto: int | None = None  # the inbox sequence when the flush began


_chunk_locks: dict[str, threading.Lock] = {}


def _chunk(con: duckdb.DuckDBPyConnection, run: _Flush, take: int,
           say: Progress) -> tuple[int, list[BatchResult], float]:
    """Flush up to ``take`` of the oldest pending messages; (messages, batches, seconds)."""
    start = time.monotonic()
    seen = _seen_for(con)
    with _seen_lock:
        lock = _chunk_locks.setdefault(seen.key, threading.Lock())
    with lock:
        con.execute("SET TimeZone = 'UTC'")
        if run.upto is None:
            run.upto = _last_seq(con) or 0
        n = _select(con, take, run.upto)
        try:
            loaded = _flush_selected(con, say) if n else []
        finally:
            for table in (_SEL, f"{_SEL}_customers", f"{_SEL}_events"):
                con.execute(f"DROP TABLE IF EXISTS {table}")
    return n, loaded, time.monotonic() - start


def _select(con: duckdb.DuckDBPyConnection, take: int, upto: int) -> int:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_SEL} AS SELECT seq, message_id, type, raw FROM inbox "
        f"WHERE status = 'pending' AND seq <= {int(upto)} ORDER BY seq LIMIT {int(take)}")
    return int(con.execute(f"SELECT count(*) FROM {_SEL}").fetchall()[0][0])


def _flush_selected(con: duckdb.DuckDBPyConnection, say: Progress) -> list[BatchResult]:
    out: list[BatchResult] = []
    n_identify = con.execute(
        f"SELECT count(*) FROM {_SEL} WHERE type = 'identify'").fetchall()[0][0]
    if n_identify:
        staged = _staged(con, _customers_sql(), CUSTOMERS_MAPPING)
        out.append(load_staged(con, Plan(CUSTOMERS_MAPPING, staged, how="collect"),
                               SOURCE_FILE, None, say))
    staged = _staged(con, _events_sql(), EVENTS_MAPPING)
    lo, hi = con.execute(f"SELECT min(seq), max(seq) FROM {_SEL}").fetchall()[0]
    out.append(load_staged(con, Plan(EVENTS_MAPPING, staged, how="collect"), SOURCE_FILE,
                           None, say, after_load=_mark_processed(con, int(lo), int(hi))))
    return out


def _mark_processed(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> Callable[[int], None]:
    """Mark the selection's inbox rows; ``lo``..``hi`` (its seqs, as constants) lets DuckDB
    skip the older row groups of a large inbox instead of scanning every row."""
    def mark(batch: int) -> None:
        con.execute(
            "UPDATE inbox SET batch_id = $1, processed_at = now()::TIMESTAMP, status = CASE "
            "WHEN seq IN (SELECT line FROM quarantine WHERE batch_id = $1) THEN 'quarantined' "
            f"ELSE 'processed' END WHERE seq BETWEEN {lo} AND {hi} "
            f"AND seq IN (SELECT seq FROM {_SEL})", [batch])
    return mark


def _staged(con: duckdb.DuckDBPyConnection, select: str, m: Mapping) -> Staged:
    """The chunk's rows for one mapping, computed once into a temporary table.

    The loader reads its source several times (count, sample, format checks, the load);
    as a subquery the JSON of every message was parsed, and the current records looked
    up, each time.
    """
    table = f"{_SEL}_{m.kind}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
    rows = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    return Staged(source=table, sample=f"(FROM {table} LIMIT {SAMPLE_ROWS})",
                  columns=[c for c in m.columns], rows=rows, source_name=SOURCE_FILE)


# Paths read from each message, parsed once per row with json_extract_string(raw, [...]).
_PATHS = {
    "userId": "$.userId", "anonymousId": "$.anonymousId", "previousId": "$.previousId",
    "groupId": "$.groupId", "event": "$.event", "name": "$.name", "category": "$.category",
    "timestamp": "$.timestamp", "campaign": "$.context.campaign.name",
    "app": "$.context.app", "device_type": "$.context.device.type",
    "ctx_email": "$.context.traits.email", "email": "$.traits.email",
    "locale": "$.context.locale",
}
_JSON_PATHS = {"properties": "$.properties", "traits": "$.traits"}


def _extract(select_from: str) -> str:
    """Rows of the selection with the message fields as text columns ``m_<name>``."""
    text = ", ".join(f"'{p}'" for p in _PATHS.values())
    js = ", ".join(f"'{p}'" for p in _JSON_PATHS.values())
    cols = ", ".join(f"nullif(trim(v[{i}]), '') AS m_{n}" for i, n in enumerate(_PATHS, 1))
    jcols = ", ".join(f"j[{i}] AS m_{n}" for i, n in enumerate(_JSON_PATHS, 1))
    return (f"SELECT seq, message_id, type, raw, {cols}, {jcols} FROM (SELECT *, "
            f"json_extract_string(raw, [{text}]) AS v, json_extract(raw, [{js}]) AS j "
            f"FROM {select_from})")


def _events_sql() -> str:
    extras = ("json_merge_patch('{}', json_object('name', m_name, 'category', m_category, "
              "'groupId', m_groupId, 'previousId', m_previousId))")
    props = (f"json_merge_patch(coalesce(CASE WHEN type IN ('identify', 'group') THEN m_traits "
             f"ELSE m_properties END, '{{}}'), {extras})::VARCHAR")
    return f"""
        SELECT message_id AS event_id, m_timestamp AS ts,
               CASE type WHEN 'track' THEN m_event WHEN 'page' THEN 'page_view'
                         WHEN 'screen' THEN 'screen_view' ELSE type END AS event_type,
               CASE WHEN type = 'screen' OR m_app IS NOT NULL
                         OR lower(m_device_type) IN ('ios', 'android') THEN 'app'
                    ELSE 'web' END AS channel,
               m_campaign AS campaign, m_userId AS crm_id,
               CASE WHEN type = 'identify' THEN coalesce(m_email, m_ctx_email)
                    ELSE m_ctx_email END AS email,
               CASE WHEN type = 'alias' THEN m_previousId ELSE m_anonymousId END
                   AS anonymous_id,
               {props} AS properties, seq AS _line
        FROM ({_extract(_SEL + " WHERE true")})
    """


def _customers_sql() -> str:
    """One row per person identified in the selection, merged with their current record."""
    t = "m_traits"

    def trait(*names: str) -> str:
        return ("coalesce(" + ", ".join(
            f"nullif(trim(json_extract_string({t}, '$.{n}')), '')" for n in names) + ")")

    drop = "{" + ", ".join(f'"{k}": null' for k in _TRAIT_FIELDS) + "}"
    per_message = f"""
        SELECT seq, m_timestamp AS ts, m_userId AS crm_id, m_anonymousId AS anonymous_id,
               coalesce({trait('email')}, m_ctx_email) AS email,
               {trait('phone')} AS phone,
               {trait('firstName', 'first_name')} AS first_name,
               {trait('lastName', 'last_name')} AS last_name,
               {trait('name')} AS name,
               coalesce({trait('language')}, lower(split_part(m_locale, '-', 1))) AS language,
               coalesce({trait('country', 'address.country')},
                        nullif(upper(split_part(m_locale, '-', 2)), '')) AS country,
               {trait('city', 'address.city')} AS city,
               {trait('segment')} AS segment,
               {trait('createdAt', 'created_at')} AS created_at,
               json_merge_patch(coalesce({t}, '{{}}'), '{drop}') AS rest
        FROM ({_extract(_SEL + " WHERE type = 'identify'")})
    """
    email, phone = email_expr("email"), phone_expr("phone", COUNTRY)
    keyed = (f"SELECT *, coalesce('crm_id:' || crm_id, 'email:' || {email}, "
             f"'phone:' || {phone}, 'anonymous_id:' || anonymous_id) AS _k FROM ({per_message})")
    fields = ("crm_id", "email", "phone", "anonymous_id", "first_name", "last_name", "name",
              "language", "country", "city", "segment")
    merged = ", ".join(f"arg_max({f}, seq) FILTER (WHERE {f} IS NOT NULL) AS {f}"
                       for f in fields)
    latest = ", ".join(f"coalesce(m.{f}, c.{f}) AS {f}" for f in fields)
    return f"""
        SELECT {latest},
               coalesce(strftime(c.created_at, '%Y-%m-%dT%H:%M:%S.%gZ'), m.created_at)
                   AS created_at,
               json_merge_patch(coalesce(c.properties, '{{}}'), m.properties)::VARCHAR
                   AS properties,
               m._line
        FROM (SELECT _k, {merged},
                     coalesce(arg_min(created_at, seq) FILTER (WHERE created_at IS NOT NULL),
                              min(ts)) AS created_at,
                     list_reduce(list(rest ORDER BY seq),
                                 lambda a, b: json_merge_patch(a, b)) AS properties,
                     max(seq) AS _line
              FROM ({keyed}) GROUP BY _k) m
        LEFT JOIN ({_current_records(f"SELECT DISTINCT _k FROM ({keyed})")}) c
            ON c._key = m._k
    """


def _current_records(keys: str) -> str:
    """The current ``customer_records`` rows of the given record keys, as ``v_customer_records``
    shows them (its ``properties`` rule, see :func:`cxlens.warehouse.store.view_ddl`).

    Not the view itself: it joins every record of the warehouse to ``identities`` for
    ``customer_id``, which the merge does not need, in every chunk; here only the records
    of the chunk's keys are read (a cost that no longer grows with the whole table).
    """
    return f"""
        SELECT t._key, t.crm_id, t.email, t.phone, t.anonymous_id, t.first_name, t.last_name,
               t.name, t.language, t.country, t.city, t.segment, t.created_at,
               CASE WHEN t._extra IS NULL THEN t.properties
                    ELSE to_json(map(b.extra_columns, t._extra))::VARCHAR END AS properties
        FROM customer_records t LEFT JOIN batches b ON b.batch_id = t._batch
        WHERE t._superseded_by IS NULL AND t._key IN ({keys})
    """
