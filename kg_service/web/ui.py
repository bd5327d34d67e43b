"""Blueprint stub: filled in by its own issue."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ui", __name__)
