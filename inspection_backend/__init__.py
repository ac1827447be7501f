"""Plant backend of the inspection system: ingests what the cells report over MQTT, turns
units that need action into durable workflows (review, line hold, root cause, NCR, maintenance),
and serves the quality engineer's page. The cell never imports this package."""

# Pinned as DBOS's application_version: recovery resumes only workflows of the same version, so
# a release that changes a workflow's steps must bump it (and drain the old version first).
WORKFLOW_VERSION = "backend-1"
