"""Segment-shaped tracking messages: parse a request body and check every message's shape.

Pure functions, no warehouse: the collect endpoints call :func:`parse_body` and
:func:`validate` before anything is stored, so a bad request is answered with a clear 400
and stores nothing. The rules follow the Segment HTTP Tracking API
(https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/):

- ``type`` is one of track, identify, page, screen, group, alias;
- ``messageId`` is a string of at most 100 characters; a missing one is derived from a hash
  of the message's content (without ``sentAt``), so a retried request deduplicates;
- ``timestamp`` / ``originalTimestamp`` / ``sentAt`` are ISO-8601 date-times; the stored
  timestamp is corrected for the sender's clock skew by ``receivedAt - sentAt`` and must lie
  between 2000-01-01 and 24 hours after the time the message was received;
- ``userId`` or ``anonymousId`` is present; ``event`` (at most 200 characters) for track,
  ``groupId`` for group, ``previousId`` and ``userId`` for alias;
- ``properties``, ``traits``, ``context`` and ``integrations`` are JSON objects;
- a message is at most 32 KB, a request at most 500 KB and 2,500 messages;
- objects and lists nest at most :data:`MAX_DEPTH` levels inside a message;
- text is Unicode that can be stored: a lone UTF-16 surrogate (``"\\ud800"`` without its
  pair, which JSON allows but UTF-8 cannot hold) is refused, naming the field, rather than
  replaced, so that what is stored is what the sender sent (the messageId is derived from
  it) and a sender's encoding bug is seen.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cxlens.errors import UserError

TYPES: tuple[str, ...] = ("track", "identify", "page", "screen", "group", "alias")
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2500
MAX_MESSAGE_ID = 100
MAX_EVENT_NAME = 200
MAX_ID = 255  # userId, anonymousId, groupId, previousId
MAX_DEPTH = 32  # objects and lists inside one message (properties.a.b … counts each level)
MAX_FUTURE = timedelta(hours=24)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
OBJECT_FIELDS: tuple[str, ...] = ("properties", "traits", "context", "integrations")
TIME_FIELDS: tuple[str, ...] = ("timestamp", "originalTimestamp", "sentAt")
# Top-level fields of the Segment spec and what the Segment and RudderStack SDKs add. Any
# other top-level field is refused: custom data belongs under properties or traits, and a
# misspelt field (``userID``) would otherwise be dropped without a word.
KNOWN_FIELDS: frozenset[str] = frozenset({
    "type", "messageId", "userId", "anonymousId", "groupId", "previousId", "event", "name",
    "category", "receivedAt", "writeKey", "version", "channel", "_metadata", "options",
    "library", "rudderId", "request_ip", "integrations", *OBJECT_FIELDS, *TIME_FIELDS,
})# Fields whose value may differ between two sends of the same message (set by the sender
# at send time, or by us at receive time): left out of the derived messageId.
VOLATILE: frozenset[str] = frozenset({"sentAt", "receivedAt", "messageId", "writeKey"})


@dataclass(frozen=True)
class MessageError:
    """One reason one message of a request was refused."""

    index: int | None  # position in the request's batch; None for the request as a whole
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = "request" if self.index is None else f"message {self.index}"
        return f"{where}, {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


class InvalidMessages(UserError):
    """A request with at least one bad message: the whole request is refused (HTTP 400)."""

    status_code = 400

    def __init__(self, errors: list[MessageError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(
            f"{first}{more}; nothing was stored",
            hint="fix the messages and send the whole request again",
            column=first.field,
        )
        self.errors = errors

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "success": False,
                "errors": [e.as_dict() for e in self.errors]}


class RequestTooLarge(InvalidMessages):
    """The body or the batch is over a limit (HTTP 413)."""

    status_code = 413


@dataclass(frozen=True)
class Message:
    """A message that passed the checks, ready to be stored in the inbox."""

    message_id: str
    type: str
    timestamp: datetime  # UTC, corrected for clock skew
    raw: str  # the message as JSON text, with messageId, timestamp and receivedAt filled in


# ------------------------------------------------------------------------ request bodies


def parse_body(body: bytes | str, endpoint: str) -> list[Any]:
    """The messages of one request to ``/v1/<endpoint>``.

    ``endpoint`` is ``batch`` or one of :data:`TYPES`. For a single-message endpoint the
    type comes from the path (as in Segment). For ``/v1/batch`` the top-level ``context``
    and ``integrations`` are merged under each message's own. Raises
    :class:`RequestTooLarge` or :class:`InvalidMessages` (for JSON that is not a request).
    """
    if endpoint != "batch" and endpoint not in TYPES:
        raise ValueError(f"unknown endpoint {endpoint!r}")
    limit = MAX_BATCH_BYTES if endpoint == "batch" else MAX_MESSAGE_BYTES
    if len(body) > limit:
        raise RequestTooLarge([MessageError(
            None, None, f"the request body is {len(body):,} bytes; the limit for "
            f"/v1/{endpoint} is {limit // 1024} KB (split it into smaller batches)")])
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessages([MessageError(None, None, f"the body is not valid JSON ({exc})")]
                              ) from None
    except RecursionError:
        raise InvalidMessages([MessageError(
            None, None, f"the body nests objects or lists too deeply (at most {MAX_DEPTH} "
            "levels inside a message)")]) from None
    if not isinstance(data, dict):
        raise InvalidMessages([MessageError(None, None, "the body must be a JSON object")])
    if endpoint != "batch":
        return [{**data, "type": endpoint}]
    batch = data.get("batch")
    if not isinstance(batch, list):
        raise InvalidMessages([MessageError(None, "batch", "must be a list of messages")])
    if not batch:
        raise InvalidMessages([MessageError(None, "batch", "is empty")])
    if len(batch) > MAX_BATCH_MESSAGES:
        raise RequestTooLarge([MessageError(
            None, "batch", f"{len(batch):,} messages; the limit is {MAX_BATCH_MESSAGES:,} "
            "per request")])
    shared = {k: data[k] for k in ("context", "integrations") if isinstance(data.get(k), dict)}
    # SDKs stamp the request, not each message, with sentAt: the clock correction needs it.
    sent_at = data.get("sentAt") if isinstance(data.get("sentAt"), str) else None
    if not shared and sent_at is None:
        return batch
    out: list[Any] = []
    for m in batch:
        if isinstance(m, dict):
            m = dict(m)
            for key, value in shared.items():
                own = m.get(key)
                if own is None or isinstance(own, dict):
                    m[key] = {**value, **(own or {})}
            if sent_at is not None and "sentAt" not in m:
                m["sentAt"] = sent_at
        out.append(m)
    return out


# ------------------------------------------------------------------------ messages


def validate(messages: list[Any], received_at: datetime
             ) -> tuple[list[Message], list[MessageError]]:
    """Check every message; return the good ones and every error (index, field, reason).

    ``received_at`` is the moment the request arrived, from the server's clock (the edge):
    timestamps are corrected against it, so it is never read here."""
    now = received_at
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    good: list[Message] = []
    errors: list[MessageError] = []
    if len(messages) > MAX_BATCH_MESSAGES:
        errors.append(MessageError(None, "batch", f"{len(messages):,} messages; the limit is "
                                   f"{MAX_BATCH_MESSAGES:,} per request"))
    for i, m in enumerate(messages):
        ok, errs = validate_message(m, i, now)
        if errs:
            errors += errs
        elif ok is not None:
            good.append(ok)
    return good, errors


def validate_message(m: Any, index: int, received_at: datetime
                     ) -> tuple[Message | None, list[MessageError]]:
    errs: list[MessageError] = []

    def bad(field: str | None, reason: str) -> None:
        errs.append(MessageError(index, field, reason))

    if not isinstance(m, dict):
        bad(None, f"a message must be a JSON object, not {_json_type(m)}")
        return None, errs
    problem = text_problem(m)
    if problem is not None:
        bad(*problem)
        return None, errs
    for f in sorted(set(m) - KNOWN_FIELDS):
        bad(f, "is not a field of the Segment spec; put custom data under properties "
               "(track, page, screen) or traits (identify, group)")
    kind = m.get("type")
    if kind not in TYPES:
        bad("type", f"{kind!r} is not a message type (use {', '.join(TYPES)})"
            if kind is not None else f"missing (use {', '.join(TYPES)})")
    message_id = m.get("messageId")
    if message_id is not None:
        if not isinstance(message_id, str) or not message_id.strip():
            bad("messageId", "must be a non-empty string")
        elif len(message_id) > MAX_MESSAGE_ID:
            bad("messageId", f"is {len(message_id)} characters; at most {MAX_MESSAGE_ID}")
    ids = {}
    for f in ("userId", "anonymousId", "groupId", "previousId"):
        value = m.get(f)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            bad(f, f"must be a string, not {_json_type(value)}")
        elif not str(value).strip():
            bad(f, "is empty")
        elif len(str(value)) > MAX_ID:
            bad(f, f"is {len(str(value))} characters; at most {MAX_ID}")
        else:
            ids[f] = str(value)
    if not ids.get("userId") and not ids.get("anonymousId") and not any(
            e.field in ("userId", "anonymousId") for e in errs):
        bad("userId", "userId or anonymousId is required")
    if kind == "track":
        event = m.get("event")
        if event is None or (isinstance(event, str) and not event.strip()):
            bad("event", "the event name is required for track")
        elif not isinstance(event, str):
            bad("event", f"must be a string, not {_json_type(event)}")
        elif len(event) > MAX_EVENT_NAME:
            bad("event", f"is {len(event)} characters; at most {MAX_EVENT_NAME}")
    elif kind == "group" and "groupId" not in ids and not any(e.field == "groupId"
                                                              for e in errs):
        bad("groupId", "the group id is required for group")
    elif kind == "alias":
        if "previousId" not in ids and not any(e.field == "previousId" for e in errs):
            bad("previousId", "the previous id is required for alias")
        if "userId" not in ids and not any(e.field == "userId" for e in errs):
            bad("userId", "the new user id is required for alias")
    for f in ("name", "category"):
        if m.get(f) is not None and not isinstance(m[f], str):
            bad(f, f"must be a string, not {_json_type(m[f])}")
    for f in OBJECT_FIELDS:
        if m.get(f) is not None and not isinstance(m[f], dict):
            bad(f, f"must be a JSON object, not {_json_type(m[f])}")
    times: dict[str, datetime] = {}
    for f in TIME_FIELDS:
        if m.get(f) is None:
            continue
        parsed, why = parse_time(m[f])
        if parsed is None:
            bad(f, why)
        else:
            times[f] = parsed
    ts = None
    if not any(e.field in TIME_FIELDS for e in errs):
        try:
            ts, origin = corrected_timestamp(times, received_at)
        except OverflowError:
            ts, origin = datetime.max.replace(tzinfo=UTC), "sentAt"
        if ts > received_at + MAX_FUTURE:
            bad(origin, f"{_iso(ts)} is more than 24 hours in the future"
                + (" (after correcting the sender's clock by sentAt)" if "sentAt" in times
                   else "") + "; send the time the event happened, in UTC or with an offset")
        elif ts < EARLIEST:
            bad(origin, f"{_iso(ts)} is before 2000-01-01"
                + (" (after correcting the sender's clock by sentAt)" if "sentAt" in times
                   else "") + "; check the sender's clock")
    if errs:
        return None, errs
    assert ts is not None and isinstance(kind, str)
    out = dict(m)
    for f, value in ids.items():
        out[f] = value
    if message_id is None:
        message_id = derived_message_id(m)
    out["messageId"] = message_id
    if "sentAt" in times and "originalTimestamp" not in out and "timestamp" in times:
        out["originalTimestamp"] = m["timestamp"]
    out["timestamp"] = _iso(ts)
    out["receivedAt"] = _iso(received_at)
    raw = json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=str)
    size = len(raw.encode("utf-8"))
    if size > MAX_MESSAGE_BYTES:
        bad(None, f"the message is {size:,} bytes; the limit is {MAX_MESSAGE_BYTES // 1024} KB")
        return None, errs
    return Message(message_id=message_id, type=kind, timestamp=ts, raw=raw), errs


def text_problem(message: dict[str, Any]) -> tuple[str, str] | None:
    """The first field (a dotted path) nested deeper than :data:`MAX_DEPTH` or holding
    text UTF-8 cannot store (a lone surrogate), with the reason; None when all is well.

    Walks without recursion, so no body can make it fail; keys are checked like values.
    """
    stack: list[tuple[str, Any, int]] = [("", message, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                return path, f"nests objects or lists more than {MAX_DEPTH} levels deep"
            for key, item in value.items():
                sub = f"{path}.{key}" if path else str(key)
                if not _storable(key):
                    return _printable(sub), ("a key holds a lone UTF-16 surrogate, which is "
                                             "not valid Unicode text; send UTF-8 text")
                stack.append((sub, item, depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                return path, f"nests objects or lists more than {MAX_DEPTH} levels deep"
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str) and not _storable(value):
            return _printable(path), ("holds a lone UTF-16 surrogate (an escape such as "
                                      "\\ud800 without its pair), which is not valid Unicode "
                                      "text; send UTF-8 text")
    return None


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(path: str) -> str:
    """A field path that can itself be put in a JSON answer (surrogates escaped)."""
    return path.encode("utf-8", "backslashreplace").decode("utf-8")


def corrected_timestamp(times: dict[str, datetime], received_at: datetime
                        ) -> tuple[datetime, str]:
    """When the event happened, and the field it came from.

    ``timestamp`` (else ``originalTimestamp``, else the receive time) moved by
    ``receivedAt - sentAt`` when ``sentAt`` is given, as Segment corrects device clocks.
    """
    origin = "timestamp" if "timestamp" in times else (
        "originalTimestamp" if "originalTimestamp" in times else "sentAt")
    base = times.get("timestamp") or times.get("originalTimestamp")
    if base is None:
        return received_at, origin if "sentAt" in times else "timestamp"
    if "sentAt" in times:
        base = base + (received_at - times["sentAt"])
    return base, origin


def parse_time(value: Any) -> tuple[datetime | None, str]:
    """An ISO-8601 date-time in UTC; naive values are taken as UTC."""
    if not isinstance(value, str):
        return None, f"must be an ISO-8601 date-time string, not {_json_type(value)}"
    text = value.strip()
    try:
        if len(text) < 10:
            raise ValueError
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None, (f"{value[:40]!r} is not an ISO-8601 date-time "
                      "(e.g. 2026-11-27T09:30:00.000Z)")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), ""


def derived_message_id(m: dict[str, Any]) -> str:
    """A stable id from the message's content, for senders that give none."""
    content = {k: v for k, v in m.items() if k not in VOLATILE}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return "cx-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def check(messages: list[Any], received_at: datetime) -> list[Message]:
    """The messages, all valid, or :class:`InvalidMessages` naming every bad one."""
    good, errors = validate(messages, received_at)
    if errors:
        if any(e.index is None and e.field == "batch" for e in errors):
            raise RequestTooLarge(errors)
        raise InvalidMessages(errors)
    return good


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
