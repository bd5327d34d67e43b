"""HTTP surfaces: one blueprint each; ``register(app)`` wires them and the error body."""

from __future__ import annotations

from flask import Flask

from kg_service.web.common import install_error_handlers


def register(app: Flask) -> None:
    """Register every blueprint and the problem+json error handlers."""
    from kg_service.web import api, editing, graph_store, linked_data, ops, sparql, ui

    install_error_handlers(app)
    for module in (ops, sparql, graph_store, api, editing, ui, linked_data):
        app.register_blueprint(module.bp)
