"""WSGI entry point for gunicorn: settings from the environment (KG_*)."""

from kg_service import create_app

app = create_app()
