"""The backend's tables (SQLAlchemy Core). Changes go through an alembic migration in
`db/migrations/versions/`; a test checks that the migrated schema equals this metadata.

Raw layer (as received, keyed by the sender's message id, never updated except the dispatch
marker): verdicts, actuator_events, stability_reports, command_results, evidence, unit_context,
process_samples, inspector_labels, dead_letters. Derived and workflow state: cases, line_holds,
ncrs, ncr_approvals, rca_results, maintenance_alerts, commands, threshold_proposals. People and
the audit trail: users, sessions, audit_log (append-only, enforced by a trigger).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB

metadata = sa.MetaData()

_now = sa.text("now()")


def _received() -> sa.Column:
    return sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=_now)


cells = sa.Table(
    "cells",
    metadata,
    sa.Column("cell_id", sa.Text, primary_key=True),
    sa.Column("line_id", sa.Text, nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("machine", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

verdicts = sa.Table(
    "verdicts",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("unit_id", sa.Text, nullable=False),
    sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("image_threshold", sa.Float),
    sa.Column("reasons", ARRAY(sa.Text), nullable=False),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("config_version", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("decided_at_ms", sa.Float),
    sa.Column("area_px", sa.Integer),
    sa.Column("area_ratio", sa.Float),
    sa.Column("regions", sa.Integer),
    sa.Column("peak_x", sa.Integer),
    sa.Column("peak_y", sa.Integer),
    sa.Column("detections", JSONB),
    sa.Column("image_sha256", sa.Text),
    sa.Column("heatmap_sha256", sa.Text),
    sa.Column("evidence_ref", sa.Text),
    sa.Column("body", JSONB, nullable=False),
    _received(),
    # FAILs wait here until the dispatcher has routed them into a case.
    sa.Column("dispatched", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("verdicts_cell_unit", "cell_id", "unit_id"),
    sa.Index("verdicts_cell_stamp", "cell_id", "stamp"),
    sa.Index(
        "verdicts_undispatched",
        "received_at",
        postgresql_where=sa.text("decision = 'FAIL' AND NOT dispatched"),
    ),
)

actuator_events = sa.Table(
    "actuator_events",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("unit_id", sa.Text, nullable=False),
    sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("body", JSONB, nullable=False),
    _received(),
)

stability_reports = sa.Table(
    "stability_reports",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("stability_index", sa.Float),
    sa.Column("body", JSONB, nullable=False),
    _received(),
    sa.Index("stability_cell_stamp", "cell_id", "stamp"),
)

command_results = sa.Table(
    "command_results",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("command_id", sa.Text, nullable=False, index=True),
    sa.Column("command_type", sa.Text, nullable=False),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    _received(),
)

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("sha256", sa.Text, primary_key=True),
    sa.Column("message_id", sa.Text, nullable=False, unique=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("unit_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("media_type", sa.Text, nullable=False),
    sa.Column("data", BYTEA, nullable=False),
    _received(),
)

unit_context = sa.Table(
    "unit_context",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("line_id", sa.Text, nullable=False),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("unit_id", sa.Text, nullable=False),
    sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sku", sa.Text),
    sa.Column("lot", sa.Text),
    sa.Column("supplier", sa.Text),
    sa.Column("supplier_batch", sa.Text),
    sa.Column("machine", sa.Text),
    sa.Column("shift", sa.Text),
    _received(),
    sa.Index("unit_context_cell_unit", "cell_id", "unit_id"),
)

process_samples = sa.Table(
    "process_samples",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("line_id", sa.Text, nullable=False),
    sa.Column("machine", sa.Text, nullable=False),
    sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    sa.Column("parameter_values", JSONB, nullable=False),
    _received(),
    sa.Index("process_machine_stamp", "machine", "stamp"),
)

inspector_labels = sa.Table(
    "inspector_labels",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("line_id", sa.Text),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("unit_id", sa.Text, nullable=False),
    sa.Column("inspector", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("defect_class", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("source", sa.Text, nullable=False),  # review page or mes import
    sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    _received(),
    sa.Index("labels_cell_unit", "cell_id", "unit_id"),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("message_id", sa.Text),
    sa.Column("payload", BYTEA, nullable=False),
    _received(),
)

routing_policies = sa.Table(
    "routing_policies",
    metadata,
    sa.Column("station", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.Text, primary_key=True),  # unit:<cell>:<unit>, also the workflow id
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("unit_id", sa.Text, nullable=False),
    sa.Column("verdict_id", sa.Text, nullable=False),
    sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    sa.Column("route", sa.Text, nullable=False),
    sa.Column("route_reason", sa.Text, nullable=False),
    sa.Column("defect_class", sa.Text, nullable=False),
    sa.Column("policy_station", sa.Text, nullable=False),
    sa.Column("policy_version", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("deadline", sa.DateTime(timezone=True)),
    sa.Column("escalated_at", sa.DateTime(timezone=True)),
    sa.Column("workflow_started", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("outcome", sa.Text),  # true_positive / false_positive once a person decided
    sa.Column("confirmed_class", sa.Text),
    sa.Column("resolved_by", sa.Text),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Index("cases_state", "state", "created_at"),
    sa.Index("cases_cell_class_stamp", "cell_id", "defect_class", "stamp"),
    sa.Index("cases_not_started", "created_at", postgresql_where=sa.text("NOT workflow_started")),
)

line_holds = sa.Table(
    "line_holds",
    metadata,
    sa.Column("hold_id", sa.Text, primary_key=True),  # hold:<case id>
    sa.Column("case_id", sa.Text, nullable=False, unique=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("line_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # active, released
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("released_by", sa.Text),
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.Column("release_reason", sa.Text),
    sa.Index("holds_active", "line_id", postgresql_where=sa.text("state = 'active'")),
)

ncrs = sa.Table(
    "ncrs",
    metadata,
    sa.Column("ncr_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("case_id", sa.Text, nullable=False, unique=True),
    sa.Column("unit_id", sa.Text, nullable=False),
    sa.Column("lot", sa.Text),
    sa.Column("supplier_batch", sa.Text),
    sa.Column("line_id", sa.Text, nullable=False),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("station", sa.Text, nullable=False),
    sa.Column("defect_class", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("image_sha256", sa.Text),
    sa.Column("heatmap_sha256", sa.Text),
    sa.Column("score", sa.Float),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("hold_id", sa.Text),
    sa.Column("root_cause", sa.Text),
    sa.Column("disposition", sa.Text),
    sa.Column("capa_owner", sa.Text),
    sa.Column("capa_due", sa.Date),
    sa.Column("scrap_cost", sa.Numeric(12, 2)),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("qms_ref", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

ncr_approvals = sa.Table(
    "ncr_approvals",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("ncr_id", sa.BigInteger, sa.ForeignKey("ncrs.ncr_id"), nullable=False),
    sa.Column("meaning", sa.Text, nullable=False),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("content_sha256", sa.Text, nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.UniqueConstraint("ncr_id", "meaning"),
)

rca_results = sa.Table(
    "rca_results",
    metadata,
    sa.Column("case_id", sa.Text, primary_key=True),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("hypotheses", JSONB, nullable=False),
    sa.Column("units_considered", sa.Integer, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

maintenance_alerts = sa.Table(
    "maintenance_alerts",
    metadata,
    sa.Column("case_id", sa.Text, primary_key=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("defect_class", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

commands = sa.Table(
    "commands",
    metadata,
    sa.Column("command_id", sa.Text, primary_key=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("command_type", sa.Text, nullable=False),
    sa.Column("document", JSONB, nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("published_at", sa.DateTime(timezone=True)),
)

threshold_proposals = sa.Table(
    "threshold_proposals",
    metadata,
    sa.Column("proposal_id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("cell_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("current_value", sa.Float, nullable=False),
    sa.Column("proposed_value", sa.Float, nullable=False),
    sa.Column("basis", sa.Text, nullable=False),
    sa.Column("cases_used", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # proposed, approved, rejected
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("command_id", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.Text, primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_sha256", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, sa.ForeignKey("users.username"), nullable=False),
    sa.Column("csrf_token", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("entity_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Index("audit_entity", "entity", "entity_id"),
)

executors = sa.Table(
    "executors",
    metadata,
    sa.Column("executor_id", sa.Text, primary_key=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("host", sa.Text, nullable=False),
)
