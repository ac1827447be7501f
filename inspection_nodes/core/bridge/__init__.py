"""The link to the plant backend, the bridge node's logic: durable outbox, MQTT drain, the JSON
payloads the backend receives (schemas in inspection_nodes/schemas/) and the commands it may
send back (validated, authorised, answered)."""
