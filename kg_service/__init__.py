"""CKM knowledge-graph service: ``create_app(settings)`` builds the Flask application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kg_service.settings import Settings

if TYPE_CHECKING:  # Flask is imported by create_app only: query processes start faster
    from flask import Flask

__version__ = "0.1.0"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """The application: one store (``app.extensions["kg"]``), one blueprint per surface.

    With an empty store, the bundled ontology and case data are loaded first.
    """
    from flask import Flask

    from kg_service.auth import TokenStore
    from kg_service.bootstrap import ensure_loaded
    from kg_service.store import open_store
    from kg_service.web import register

    settings = (settings or Settings.from_env()).replace(**overrides)
    app = Flask(__name__)
    app.config["KG_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    store = open_store(settings)
    ensure_loaded(store)
    app.extensions["kg"] = store
    app.extensions["kg_tokens"] = TokenStore(settings.data_dir)
    register(app)
    return app
