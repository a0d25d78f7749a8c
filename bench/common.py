"""What every benchmark starts from: the application on a database holding the demo organisation."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-org.yaml"


def demo_app(url: str, instance: Path) -> Flask:
    """The app on ``url``, migrated, with the demo organisation loaded and committed."""
    os.environ["HELPDESK_INSTANCE_DIR"] = str(instance)
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.org.loader import load_file

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        load_file(DEMO)
        db.session.commit()
    return app
