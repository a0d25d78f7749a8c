"""Wiring the API and the webhooks into the app (``create_app`` calls ``init_app``)."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from helpdesk.config import ConfigError, whole_number
from helpdesk.extensions import csrf


def init_app(app: Flask) -> None:
    from helpdesk.api import docs_views, resources, tickets  # noqa: F401 - routes on bp
    from helpdesk.api.blueprint import bp
    from helpdesk.api.problems import take_over_errors
    from helpdesk.api.ratelimit import RateLimiter
    from helpdesk.api.token_views import bp as tokens_bp
    from helpdesk.webhooks.admin_views import bp as webhooks_bp
    from helpdesk.webhooks.events import register_webhooks

    app.config.setdefault("HELPDESK_API_RATE_PER_MINUTE",
                          whole_number("HELPDESK_API_RATE_PER_MINUTE", 600))
    if int(app.config["HELPDESK_API_RATE_PER_MINUTE"]) < 1:
        raise ConfigError("HELPDESK_API_RATE_PER_MINUTE must be at least 1, got "
                          f"{app.config['HELPDESK_API_RATE_PER_MINUTE']!r}")
    app.config.setdefault("HELPDESK_API_RATE_FILE", os.environ.get(
        "HELPDESK_API_RATE_FILE", str(Path(app.instance_path) / "api-rate.sqlite3")))
    app.extensions["helpdesk_api_rate"] = RateLimiter(Path(app.config["HELPDESK_API_RATE_FILE"]))
    # Token-authenticated: cookies authenticate nothing here, so there is no form to forge.
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(webhooks_bp)
    take_over_errors(app)
    register_webhooks()
