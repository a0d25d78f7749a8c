"""The REST API (``/api/v1``): the operations of the UI for other systems, with tokens."""
