"""Known answers for every shape rule of a collected (Segment-shaped) message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cxlens.ingest import messages as M
from cxlens.ingest.messages import (
    InvalidMessages,
    RequestTooLarge,
    check,
    parse_body,
    validate,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def ok(**over) -> dict:
    m = {"type": "track", "event": "Order Completed", "anonymousId": "a-1",
         "messageId": "m-1", "timestamp": "2026-11-27T11:59:00Z", "properties": {"x": 1}}
    m.update(over)
    return {k: v for k, v in m.items() if v is not None}


def drop(*keys: str, **over) -> dict:
    m = ok(**over)
    for k in keys:
        m.pop(k)
    return m


# (message, field, words the reason must contain)
BAD = [
    pytest.param("not an object", None, "must be a JSON object", id="not-object"),
    pytest.param(drop("type"), "type", "missing", id="type-missing"),
    pytest.param(ok(type="pageview"), "type", "'pageview' is not a message type", id="type-bad"),
    pytest.param(ok(messageId=""), "messageId", "non-empty string", id="id-empty"),
    pytest.param(ok(messageId=123), "messageId", "non-empty string", id="id-number"),
    pytest.param(ok(messageId="x" * 101), "messageId", "101 characters; at most 100",
                 id="id-long"),
    pytest.param(drop("anonymousId"), "userId", "userId or anonymousId is required",
                 id="no-user"),
    pytest.param(ok(userId=""), "userId", "is empty", id="user-empty"),
    pytest.param(ok(anonymousId={"a": 1}), "anonymousId", "must be a string, not an object",
                 id="anon-object"),
    pytest.param(ok(userId=True), "userId", "not a boolean", id="user-bool"),
    pytest.param(drop("event"), "event", "required for track", id="event-missing"),
    pytest.param(ok(event="  "), "event", "required for track", id="event-blank"),
    pytest.param(ok(event=5), "event", "must be a string, not a number", id="event-number"),
    pytest.param(ok(event="e" * 201), "event", "201 characters; at most 200", id="event-long"),
    pytest.param(ok(type="group", event=None), "groupId", "required for group",
                 id="group-no-id"),
    pytest.param(ok(type="alias", event=None, userId="u"), "previousId", "required for alias",
                 id="alias-no-previous"),
    pytest.param(ok(type="alias", event=None, previousId="p"), "userId",
                 "new user id is required", id="alias-no-user"),
    pytest.param(ok(properties=[1, 2]), "properties", "must be a JSON object, not a list",
                 id="properties-list"),
    pytest.param(ok(type="identify", traits="vip"), "traits", "not a string", id="traits-str"),
    pytest.param(ok(context=7), "context", "must be a JSON object, not a number",
                 id="context-number"),
    pytest.param(ok(integrations=[]), "integrations", "must be a JSON object",
                 id="integrations-list"),
    pytest.param(ok(type="page", event=None, name=3), "name", "must be a string",
                 id="page-name-number"),
    pytest.param(ok(timestamp="yesterday"), "timestamp", "'yesterday' is not an ISO-8601",
                 id="ts-words"),
    pytest.param(ok(timestamp="27.11.2026 12:00"), "timestamp", "not an ISO-8601",
                 id="ts-finnish"),
    pytest.param(ok(timestamp=1764244800), "timestamp", "ISO-8601 date-time string, not a number",
                 id="ts-epoch"),
    pytest.param(ok(sentAt="soon"), "sentAt", "not an ISO-8601", id="sentat-bad"),
    pytest.param(ok(timestamp=None, originalTimestamp="2026-13-01T00:00:00Z"),
                 "originalTimestamp", "not an ISO-8601", id="original-bad"),
    pytest.param(ok(timestamp="2026-11-29T12:00:00Z"), "timestamp",
                 "more than 24 hours in the future", id="ts-future"),
    pytest.param(ok(timestamp="1999-12-31T23:59:59Z"), "timestamp", "before 2000-01-01",
                 id="ts-1999"),
    pytest.param(ok(timestamp=None, originalTimestamp="2030-01-01T00:00:00Z"),
                 "originalTimestamp", "in the future", id="original-future"),
    pytest.param(ok(properties={"blob": "x" * (32 * 1024)}), None,
                 "bytes; the limit is 32 KB", id="message-too-big"),
]


@pytest.mark.parametrize(("message", "field", "reason"), BAD)
def test_bad_message_names_index_field_and_reason(message, field, reason) -> None:
    batch = [ok(messageId="first"), message]
    good, errors = validate(batch, NOW)
    assert len(good) == 1
    assert len(errors) >= 1
    e = errors[0]
    assert (e.index, e.field) == (1, field), errors
    assert reason in e.reason, e.reason
    with pytest.raises(InvalidMessages) as info:
        check(batch, NOW)
    assert "message 1" in str(info.value) and "nothing was stored" in str(info.value)
    assert info.value.as_dict()["errors"][0] == {"index": 1, "field": field, "reason": e.reason}


def test_every_bad_message_is_reported() -> None:
    _, errors = validate([ok(), ok(type="nope"), ok(), drop("event"), ok(timestamp="x")], NOW)
    assert [(e.index, e.field) for e in errors] == [(1, "type"), (3, "event"), (4, "timestamp")]


def test_a_good_message_is_normalised() -> None:
    (m,) = check([ok(userId=42, timestamp="2026-11-27T13:30:00+02:00")], NOW)
    data = json.loads(m.raw)
    assert (m.message_id, m.type) == ("m-1", "track")
    assert m.timestamp == datetime(2026, 11, 27, 11, 30, tzinfo=UTC)
    assert data["timestamp"] == "2026-11-27T11:30:00.000Z"
    assert data["receivedAt"] == "2026-11-27T12:00:00.000Z"
    assert data["userId"] == "42"  # numbers are ids too, stored as text
    assert data["properties"] == {"x": 1}


def test_naive_timestamps_are_utc_and_missing_ones_are_the_receive_time() -> None:
    a, b = check([ok(timestamp="2026-11-27T10:00:00"), ok(messageId="m-2", timestamp=None)], NOW)
    assert a.timestamp == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert b.timestamp == NOW


def test_clock_skew_is_corrected_by_sent_at() -> None:
    # The device clock runs 2 h 5 min fast: it says the event happened at 14:00 and the
    # batch was sent at 14:05; we received it at 12:00, so it happened at 11:55.
    (m,) = check([ok(timestamp="2026-11-27T14:00:00Z", sentAt="2026-11-27T14:05:00Z")], NOW)
    assert m.timestamp == datetime(2026, 11, 27, 11, 55, tzinfo=UTC)
    data = json.loads(m.raw)
    assert data["originalTimestamp"] == "2026-11-27T14:00:00Z"
    assert data["timestamp"] == "2026-11-27T11:55:00.000Z"
    # originalTimestamp is used when timestamp is absent (analytics.js).
    (m,) = check([ok(timestamp=None, originalTimestamp="2020-01-01T00:00:00Z",
                     sentAt="2020-01-01T00:01:00Z")], NOW)
    assert m.timestamp == NOW - timedelta(minutes=1)


def test_a_batch_level_sent_at_applies_to_its_messages() -> None:
    body = json.dumps({"sentAt": "2026-11-27T14:05:00Z", "batch": [
        {**ok(timestamp="2026-11-27T14:00:00Z"), "type": "track"},
        {**ok(messageId="m-2", timestamp="2026-11-27T14:00:00Z",
              sentAt="2026-11-27T14:00:00Z"), "type": "track"}]})
    a, b = check(M.parse_body(body, "batch"), NOW)
    assert a.timestamp == datetime(2026, 11, 27, 11, 55, tzinfo=UTC)  # the batch's sentAt
    assert b.timestamp == NOW  # its own sentAt wins


def test_a_skewed_clock_is_not_a_future_timestamp_once_corrected() -> None:
    # Three days fast, but sentAt shows it: corrected to one minute ago, accepted.
    (m,) = check([ok(timestamp="2026-11-30T11:59:00Z", sentAt="2026-11-30T12:00:00Z")], NOW)
    assert m.timestamp == NOW - timedelta(minutes=1)
    # Without sentAt nothing can be corrected: refused.
    _, errors = validate([ok(timestamp="2026-11-30T11:59:00Z")], NOW)
    assert errors[0].field == "timestamp" and "future" in errors[0].reason


def test_just_inside_the_future_limit_is_accepted() -> None:
    (m,) = check([ok(timestamp="2026-11-28T11:59:00Z")], NOW)
    assert m.timestamp.day == 28


def test_missing_message_id_is_derived_from_content_and_ignores_sent_at() -> None:
    a = check([drop("messageId", sentAt="2026-11-27T11:59:30Z")], NOW)[0]
    b = check([drop("messageId", sentAt="2026-11-27T11:59:40Z")], NOW + timedelta(seconds=10))[0]
    c = check([drop("messageId", event="Other")], NOW)[0]
    assert a.message_id == b.message_id != c.message_id
    assert a.message_id.startswith("cx-") and len(a.message_id) <= M.MAX_MESSAGE_ID


def test_types_and_limits_are_constants() -> None:
    assert M.TYPES == ("track", "identify", "page", "screen", "group", "alias")
    assert (M.MAX_MESSAGE_BYTES, M.MAX_BATCH_BYTES, M.MAX_BATCH_MESSAGES) == (
        32 * 1024, 500 * 1024, 2500)


# ------------------------------------------------------------------------ request bodies


def test_single_endpoint_takes_type_from_path() -> None:
    (m,) = parse_body(json.dumps({"userId": "u", "traits": {}}).encode(), "identify")
    assert m["type"] == "identify"


def test_batch_merges_shared_context() -> None:
    body = {"batch": [ok(context={"ip": "1.2.3.4"}), ok(messageId="m-2")],
            "context": {"library": {"name": "x"}, "ip": "9.9.9.9"}}
    a, b = parse_body(json.dumps(body), "batch")
    assert a["context"] == {"library": {"name": "x"}, "ip": "1.2.3.4"}
    assert b["context"] == {"library": {"name": "x"}, "ip": "9.9.9.9"}


@pytest.mark.parametrize(("body", "endpoint", "exc", "words"), [
    (b"{not json", "batch", InvalidMessages, "not valid JSON"),
    (b"[1, 2]", "batch", InvalidMessages, "must be a JSON object"),
    (b'{"batch": {}}', "batch", InvalidMessages, "must be a list"),
    (b'{"batch": []}', "batch", InvalidMessages, "is empty"),
    (b"\xff\xfe", "track", InvalidMessages, "not valid JSON"),
    (b"{" + b" " * (32 * 1024) + b"}", "track", RequestTooLarge, "limit for /v1/track is 32 KB"),
    (b"{" + b" " * (500 * 1024) + b"}", "batch", RequestTooLarge, "limit for /v1/batch is 500 KB"),
])
def test_bad_bodies(body, endpoint, exc, words) -> None:
    with pytest.raises(exc) as info:
        parse_body(body, endpoint)
    assert words in str(info.value)
    assert info.value.errors[0].index is None


def test_too_many_messages_in_a_batch() -> None:
    body = json.dumps({"batch": [ok(messageId=str(i)) for i in range(2501)]})
    assert len(body) < M.MAX_BATCH_BYTES
    with pytest.raises(RequestTooLarge) as info:
        parse_body(body, "batch")
    assert "2,501 messages; the limit is 2,500" in str(info.value)
    assert info.value.status_code == 413
    with pytest.raises(RequestTooLarge):
        check([ok(messageId=str(i)) for i in range(2501)], NOW)


def test_unknown_top_level_fields_are_refused_with_a_hint() -> None:
    with pytest.raises(M.InvalidMessages) as exc:
        check([ok(userID="typo"), ok(messageId="m-2", plan="pro")], NOW)
    errors = {(e.index, e.field): e.reason for e in exc.value.errors}
    assert set(errors) == {(0, "userID"), (1, "plan")}
    assert "properties" in errors[(0, "userID")]
