"""Outgoing webhooks: ticket events posted, signed, to other systems, retried until taken."""
