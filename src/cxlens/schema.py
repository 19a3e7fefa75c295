"""The canonical data model: the one place where tables and their columns are defined.

Every source, whatever its export format, is mapped onto one of the *kinds* below. A kind
lists the canonical fields a mapping may fill; the warehouse stores each kind in its own
table with a few lineage columns added (see ``LINEAGE``). Identity columns (email, phone,
crm_id, anonymous_id, loyalty_id) are kept on every record so that identity resolution can
be recomputed from the facts at any time; the resolved ``customer_id`` is attached through
the ``identities`` table, never written into the fact rows, so re-resolving never rewrites
millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal["text", "timestamp", "date", "decimal", "integer", "json"]

# Identity types in the order used to choose a row's primary identity key. The order only
# has to be fixed: all identifiers of a row end up in the same customer anyway.
IDENTITY_TYPES: tuple[str, ...] = ("crm_id", "email", "loyalty_id", "phone", "anonymous_id")

SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "decimal": "DECIMAL(18,4)",
    "integer": "BIGINT",
    "json": "VARCHAR",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType = "text"
    required: bool = False
    doc: str = ""

    @property
    def is_identity(self) -> bool:
        return self.name in IDENTITY_TYPES


def _ids(doc_suffix: str = "") -> tuple[Field, ...]:
    return (
        Field("crm_id", doc="Id of the person or company in the CRM" + doc_suffix),
        Field("email", doc="E-mail address; normalised to lower case"),
        Field("loyalty_id", doc="Loyalty card or membership number"),
        Field("phone", doc="Phone number; normalised to E.164 (+358…, +46…)"),
        Field("anonymous_id", doc="Cookie or device id from web and app tracking"),
    )


@dataclass(frozen=True)
class Kind:
    """One kind of record that can be ingested.

    ``key`` names the fields that identify a record across exports. When none of them is
    mapped, the record's content hash is its key, so re-ingesting the same file still
    loads nothing new.
    """

    name: str
    table: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    ts_field: str | None
    doc: str
    needs_identity: bool = True
    defaults: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            name="customers",
            table="customer_records",
            doc="A person or company as a CRM, shop or loyalty system knows them.",
            key=("crm_id", "email", "loyalty_id", "phone"),
            ts_field="created_at",
            fields=(
                *_ids(),
                Field("created_at", "timestamp", doc="When the source first knew the customer"),
                Field("first_name"),
                Field("last_name"),
                Field("name", doc="Full name or company name"),
                Field("language", doc="ISO 639-1 code: fi, sv, en …"),
                Field("country", doc="ISO 3166 alpha-2 code: FI, SE …"),
                Field("city"),
                Field("segment", doc="Customer segment or lifecycle stage"),
                Field("source", doc="System the record came from"),
                Field("properties", "json", doc="Other columns of the export, kept as JSON"),
            ),
        ),
        Kind(
            name="events",
            table="events",
            doc="One touchpoint: a page view, an e-mail click, a store visit, a ticket …",
            key=("event_id",),
            ts_field="ts",
            fields=(
                Field("event_id", doc="Id of the event in the source; a content hash if absent"),
                Field("ts", "timestamp", required=True, doc="When it happened"),
                Field("event_type", required=True, doc="What happened: page_view, ticket …"),
                Field("channel", doc="web, app, store, email, social_ads, search_ads, support"),
                Field("source", doc="System the event came from"),
                Field("campaign"),
                Field("store_id"),
                *_ids(),
                Field("properties", "json", doc="Other columns of the export, kept as JSON"),
            ),
        ),
        Kind(
            name="orders",
            table="orders",
            doc="One purchase.",
            key=("order_id",),
            ts_field="ts",
            fields=(
                Field("order_id", required=True, doc="Order number in the source"),
                Field("ts", "timestamp", required=True, doc="When the order was placed"),
                Field("amount", "decimal", required=True, doc="Order total"),
                Field("currency", doc="ISO 4217 code; EUR when absent"),
                Field("channel", doc="web, app, store, sales …"),
                Field("store_id"),
                Field("status", doc="paid, refunded, won …"),
                Field("source", doc="System the order came from"),
                *_ids(),
                Field("properties", "json", doc="Other columns of the export, kept as JSON"),
            ),
            defaults={"currency": "EUR"},
        ),
        Kind(
            name="feedback",
            table="feedback",
            doc="One survey answer or review: NPS, CSAT, CES, eNPS or a star rating.",
            key=("response_id",),
            ts_field="ts",
            fields=(
                Field("response_id", doc="Id of the answer; a content hash if absent"),
                Field("ts", "timestamp", required=True, doc="When it was answered"),
                Field("metric", required=True, doc="nps, csat, ces, enps or rating"),
                Field("score", "decimal", required=True, doc="The score on the metric's scale"),
                Field("scale_max", "integer", doc="Top of the scale; from the metric when absent"),
                Field("survey_id"),
                Field("comment", doc="Open comment, any language"),
                Field("language", doc="Language of the answer, ISO 639-1"),
                Field("touchpoint", doc="What the answer is about: purchase, delivery, support …"),
                Field("channel"),
                Field("store_id"),
                Field("team_id"),
                Field("employee_id", doc="For employee surveys: who answered (may be blank)"),
                Field("source", doc="System the answer came from"),
                *_ids(),
                Field("properties", "json", doc="Other columns, e.g. attribute ratings"),
            ),
        ),
        Kind(
            name="spend",
            table="spend",
            doc="Marketing cost per day, channel and campaign.",
            key=("date", "channel", "campaign"),
            ts_field="date",
            needs_identity=False,
            fields=(
                Field("date", "date", required=True),
                Field("channel", required=True, doc="social_ads, search_ads, email, display …"),
                Field("campaign"),
                Field("amount", "decimal", required=True, doc="Cost"),
                Field("currency", doc="ISO 4217 code; EUR when absent"),
                Field("impressions", "integer"),
                Field("clicks", "integer"),
                Field("source", doc="Ad platform the figures came from"),
                Field("properties", "json"),
            ),
            defaults={"currency": "EUR"},
        ),
        Kind(
            name="employees",
            table="employees",
            doc="A member of staff and the team and store they work in.",
            key=("employee_id",),
            ts_field="start_date",
            needs_identity=False,
            fields=(
                Field("employee_id", required=True),
                Field("team_id", required=True),
                Field("team_name"),
                Field("store_id"),
                Field("store_name"),
                Field("name"),
                Field("role"),
                Field("start_date", "date"),
                Field("source"),
                Field("properties", "json"),
            ),
        ),
    )
}

# Columns the warehouse adds to every kind's table.
LINEAGE: tuple[tuple[str, str, str], ...] = (
    ("_key", "VARCHAR", "The record's key fields joined; NULL when its content identifies it"),
    ("_hash", "UHUGEINT", "MD5 of the record's content, to tell a changed record from a copy"),
    ("_idkey", "VARCHAR", "The row's primary identity key, e.g. 'email:anna@example.fi'"),
    ("_batch", "INTEGER", "The batch that loaded the row"),
    ("_line", "BIGINT", "Line of the row in its source file (1 = header)"),
    ("_extra", "VARCHAR[]",
     "Values of the source's unmapped columns, named once per batch in "
     "batches.extra_columns; the views show them as the JSON `properties`"),
    ("_superseded_by", "INTEGER",
     "Batch that loaded a newer version of this record (0: a row that failed validation, "
     "hidden until it is deleted right after its batch commits)"),
)

# Columns used only by a loading batch: a row that fails validation is written with its
# errors and original values, hidden, copied to the quarantine and deleted right after the
# batch commits, so they are NULL on every row a view shows. Loading straight into the table
# this way reads and writes each row once. The views leave them out.
STAGING: tuple[tuple[str, str], ...] = (
    ("_errors", 'STRUCT("column" VARCHAR, value VARCHAR, reason VARCHAR)[]'),
    ("_raw", "VARCHAR"),
    # Optional values of a loaded row that were invalid and set empty; copied to
    # ``field_warnings`` with the batch (kept here for the rows that stay, NULL for most).
    ("_warnings", 'STRUCT("column" VARCHAR, value VARCHAR, reason VARCHAR)[]'),
)

# Derived tables: results cxlens computes from the facts and keeps in the warehouse so that
# SQL can aggregate them (written only by the store; recomputed, never ingested). Each is
# (column, SQL type, doc); the first column is the key.
DERIVED: dict[str, tuple[tuple[str, str, str], ...]] = {
    # One row per analysed open comment (cxlens.text, docs/text.md).
    "comment_analysis": (
        ("response_id", "VARCHAR",
         "The answer's response_id, or 'line:<batch>:<line>' when it has none"),
        ("_hash", "UHUGEINT", "Content hash of the feedback row analysed (a changed answer "
                              "is analysed again)"),
        ("version", "VARCHAR", "Analysis version: code, taxonomy and sentiment model"),
        ("language", "VARCHAR", "fi, sv, en, other or unknown"),
        ("sentiment", "VARCHAR", "negative, neutral or positive; NULL for a language "
                                 "outside fi/sv/en"),
        ("p_negative", "DOUBLE", "Probability of negative"),
        ("p_neutral", "DOUBLE", "Probability of neutral"),
        ("p_positive", "DOUBLE", "Probability of positive"),
        ("sentiment_source", "VARCHAR", "model, lexicon or none"),
        ("themes", "VARCHAR[]", "Themes the comment mentions: taxonomy, discovered, the user's"),
        ("analysed_at", "TIMESTAMP", "When it was analysed (UTC)"),
    ),
    # The sentiment models learned from a workspace's labelled comments, newest last.
    "text_models": (
        ("model_id", "VARCHAR", "lr-<fingerprint> or lexicon-<fingerprint>"),
        ("fitted_at", "TIMESTAMP", "When it was fitted (UTC)"),
        ("params", "VARCHAR", "The model as JSON: vocabulary, weights, temperature, "
                              "held-out accuracy per language"),
    ),
    # Themes found in the comments the taxonomy leaves without a theme (cxlens.text.discover),
    # aligned across languages; replaced by each discovery run except the pinned ones.
    "text_themes": (
        ("theme", "VARCHAR", "Theme name, lower-case letters, digits and _ (d_...)"),
        ("label", "VARCHAR", "Its top term in each language, joined by ' / '"),
        ("terms", "VARCHAR", "JSON: language -> top terms (lemmas), most weight first"),
        ("keys", "VARCHAR", "JSON: language -> the lemmas that assign a comment to it"),
        ("comments", "BIGINT", "Comments of its clusters when it was discovered"),
        ("purity", "DOUBLE", "Share of those comments that its keys assign to it"),
        ("alignment", "VARCHAR", "JSON: how its languages were joined (scores)"),
        ("pinned", "BOOLEAN", "Kept with its name and terms by later discovery runs"),
        ("discovered_at", "TIMESTAMP", "When it was discovered (UTC)"),
    ),
    # The user's theme edits, applied in order on every analysis run (cxlens.text.edits).
    "text_theme_edits": (
        ("edit_id", "BIGINT", "Order of the edit (1, 2, ...)"),
        ("op", "VARCHAR", "rename, merge, split, pin, unpin or rule"),
        ("theme", "VARCHAR", "The theme the edit is about"),
        ("args", "VARCHAR", "JSON: the edit's arguments (label, into, keywords, language)"),
        ("made_at", "TIMESTAMP", "When it was made (UTC)"),
        ("active", "BOOLEAN", "False once undone"),
    ),
}

# Default top of the scale per feedback metric.
METRIC_SCALES: dict[str, tuple[int, int]] = {
    "nps": (0, 10),
    "enps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "rating": (1, 5),
}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        from cxlens.errors import UserError

        raise UserError(
            f"unknown kind {name!r}", hint=f"use one of: {', '.join(KINDS)}"
        ) from None
