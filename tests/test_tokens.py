"""Tokens and roles: the CLI makes, lists and revokes them; writes check them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kg_service.auth import TokenStore
from kg_service.cli import cli

COMMENT = {"values": {"rdfs:comment": "a role test"}}


def test_token_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"KG_DATA_DIR": str(tmp_path)}
    made = runner.invoke(cli, ["token", "create", "carol", "--role", "editor"], env=env)
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert len(token) >= 32
    stored = (tmp_path / "tokens.json").read_text()
    assert token not in stored  # only the hash is kept
    assert json.loads(stored)["carol"]["role"] == "editor"
    assert TokenStore(tmp_path).verify(token).name == "carol"
    listed = runner.invoke(cli, ["token", "list"], env=env)
    assert listed.output.startswith("carol\teditor\t")
    assert runner.invoke(cli, ["token", "revoke", "carol"], env=env).exit_code == 0
    assert TokenStore(tmp_path).verify(token) is None
    assert runner.invoke(cli, ["token", "revoke", "carol"], env=env).exit_code == 1


def test_roles_on_writes(fresh_client, fresh_tokens, fresh_app) -> None:
    url = "/api/v1/companies/holcim"
    assert fresh_client.put(url, json=COMMENT).status_code == 401
    bad = fresh_client.put(url, json=COMMENT, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.mimetype == "application/problem+json"
    reader = fresh_client.put(url, json=COMMENT,
                              headers={"Authorization": f"Bearer {fresh_tokens['reader']}"})
    assert reader.status_code == 403
    assert fresh_client.get("/api/v1/changes").get_json()["total"] == 0
    for role in ("editor", "admin"):
        ok = fresh_client.put(url, json={"values": {"rdfs:comment": f"by {role}"}},
                              headers={"Authorization": f"Bearer {fresh_tokens[role]}"})
        assert ok.status_code == 200, ok.get_json()
        assert ok.get_json()["change"]["author"] == f"test-{role}"
    fresh_app.extensions["kg_tokens"].revoke("test-editor")
    gone = fresh_client.put(url, json=COMMENT,
                            headers={"Authorization": f"Bearer {fresh_tokens['editor']}"})
    assert gone.status_code == 401
