"""Bearer tokens and roles (reader < editor < admin), stored hashed in the data dir.

Tokens are random (``secrets.token_urlsafe``), shown once, and stored as SHA-256
hashes in ``{data_dir}/tokens.json``; a presented token is hashed and compared with
``hmac.compare_digest`` against every stored hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from kg_service.errors import BadRequest, Forbidden, Unauthorized

ROLES = ("reader", "editor", "admin")


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


ANONYMOUS = User("anonymous", "reader")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Tokens of one data directory."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / "tokens.json"

    def _load(self) -> dict[str, dict[str, str | float]]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text())

    def _save(self, tokens: dict[str, dict[str, str | float]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(tokens, indent=2))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def create(self, name: str, role: str) -> str:
        """A new token for ``name`` (replacing an old one); raises BadRequest on a bad role."""
        if role not in ROLES:
            raise BadRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(32)
        tokens = self._load()
        tokens[name] = {"role": role, "hash": _hash(token), "created": time.time()}
        self._save(tokens)
        return token

    def revoke(self, name: str) -> bool:
        tokens = self._load()
        found = tokens.pop(name, None) is not None
        self._save(tokens)
        return found

    def list(self) -> list[tuple[str, str, float]]:
        return [(n, str(t["role"]), float(t["created"])) for n, t in sorted(self._load().items())]

    def verify(self, token: str) -> User | None:
        """The user a token belongs to, or None. Every hash is compared (constant time)."""
        digest = _hash(token)
        found: User | None = None
        for name, entry in self._load().items():
            if hmac.compare_digest(digest, str(entry["hash"])):
                found = User(name, str(entry["role"]))
        return found


def user_for(tokens: TokenStore, authorization: str | None) -> User:
    """The user of an ``Authorization`` header value; raises Unauthorized on a bad token."""
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'.")
    user = tokens.verify(token.strip())
    if user is None:
        raise Unauthorized("The bearer token is not valid (unknown or revoked).")
    return user


def require(user: User, role: str) -> User:
    """``user`` if it has ``role``; raises Unauthorized (anonymous) or Forbidden."""
    if user.can(role):
        return user
    if user is ANONYMOUS or user.name == "anonymous":
        raise Unauthorized(f"This needs an {role}'s bearer token.")
    raise Forbidden(f"{user.name} is a {user.role}; this needs the {role} role.")
