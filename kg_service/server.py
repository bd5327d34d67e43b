"""Production serving with gunicorn (several workers share the on-disk store)."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from kg_service.settings import SETTINGS, Settings


class _App(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from kg_service import create_app

        return create_app()


def run(settings: Settings, host: str, port: int, workers: int = 1, threads: int = 8) -> None:
    """Serve until stopped; the settings reach the workers through KG_* variables."""
    for s in SETTINGS:
        value = getattr(settings, s.name)
        os.environ[s.env] = ",".join(value) if isinstance(value, list) else str(value)
    _App({"bind": f"{host}:{port}", "workers": workers, "threads": threads,
          "worker_class": "gthread", "timeout": 0, "graceful_timeout": 30,
          "accesslog": "-"}).run()
