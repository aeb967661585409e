"""The agent registry: bearer tokens for remote agents, stored hashed in the control database.

A token looks like `cio_<key id>_<secret>`. The key id finds the row; the secret's SHA-256
is compared with the stored hash in constant time. Tokens carry 256 random bits, so a fast
hash is the right one (there is nothing to brute-force).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from store import registry_repo as repo
from store.agent_ids import check_agent_id
from store.database import AgentDatabase
from tools.core.clock import Clock, SystemClock
from tools.core.errors import Conflict, NotFound, StorageError

TOUCH_INTERVAL_S = 60.0  # last_used_at is refreshed at most this often per agent


@dataclass(frozen=True)
class AgentInfo:
    agent_id: str
    created_at: float
    last_used_at: float | None
    revoked: bool


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever ANOTHER connection commits to the database."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _new_token() -> tuple[str, str, str]:
    """(token, key id, hash of the secret)."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return f"cio_{key_id}_{secret}", key_id, _hash(secret)


class AgentRegistry:
    """Agents allowed to connect over HTTP/SSE, and the tokens that identify them."""

    def __init__(self, data_dir: Path, clock: Clock | None = None) -> None:
        self.path = Path(data_dir) / repo.CONTROL_DB_NAME
        self.clock: Clock = clock or SystemClock()
        self._db: AgentDatabase | None = None
        self._opening = asyncio.Lock()  # many first requests at once must open it only once
        self._touched: dict[str, float] = {}
        # key id -> (token hash, agent id) of verified tokens, valid while no other
        # connection has written the control database (PRAGMA data_version says so);
        # this registry's own writes clear it.
        self._verified: dict[str, tuple[str, str]] = {}
        self._verified_version: int | None = None

    async def _database(self) -> AgentDatabase:
        if self._db is None:
            async with self._opening:
                if self._db is None:
                    self._db = await AgentDatabase.open(self.path,
                                                        migrations=repo.CONTROL_MIGRATIONS)
        return self._db

    async def create(self, agent_id: str) -> str:
        """Register `agent_id` and return its new token (shown once; only a hash is kept)."""
        check_agent_id(agent_id)
        token, key_id, digest = _new_token()
        now = self.clock.now()

        def unit(conn: sqlite3.Connection) -> None:
            existing = repo.find_agent_any_case(conn, agent_id)
            if existing is not None and existing.agent_id == agent_id:
                raise Conflict(f"agent {agent_id!r} exists; `agents rotate {agent_id}` gives it "
                               "a new token")
            if existing is not None:
                raise Conflict(f"agent {agent_id!r} differs only in case from the registered "
                               f"agent {existing.agent_id!r}; ids that differ only in case "
                               "would share one file on macOS and Windows: choose another id")
            repo.insert_agent(conn, agent_id, key_id, digest, now)

        await (await self._database()).write(unit, small=True)
        self._verified.clear()
        return token

    async def rotate(self, agent_id: str) -> str:
        """Give `agent_id` a new token; the old one stops working at once."""
        token, key_id, digest = _new_token()
        now = self.clock.now()

        def unit(conn: sqlite3.Connection) -> None:
            self._require(conn, agent_id)
            repo.set_token(conn, agent_id, key_id, digest, now)

        await (await self._database()).write(unit, small=True)
        self._verified.clear()
        return token

    async def revoke(self, agent_id: str) -> None:
        """Stop `agent_id`'s token from working (its data stays; rotate issues a new token)."""
        now = self.clock.now()

        def unit(conn: sqlite3.Connection) -> None:
            self._require(conn, agent_id)
            repo.revoke(conn, agent_id, now)

        await (await self._database()).write(unit, small=True)
        self._verified.clear()

    async def list(self) -> list[AgentInfo]:
        """Every registered agent (never tokens)."""
        rows = await (await self._database()).read(repo.list_agents, small=True)
        return [AgentInfo(r.agent_id, r.created_at, r.last_used_at, r.revoked_at is not None)
                for r in rows]

    async def verify(self, token: str) -> str | None:
        """The agent id a token belongs to, or None if it is unknown or revoked. A registry
        that cannot be read raises StorageError (HTTP answers 503, server.storage_faults)."""
        prefix, _, rest = token.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != "cio" or not key_id or not secret:
            return None
        db = await self._database()
        version = await db.read_statement(_data_version)
        if version != self._verified_version:
            self._verified.clear()
            self._verified_version = version
        known = self._verified.get(key_id)
        if known is None:
            row = await db.read_statement(lambda conn: repo.find_by_key(conn, key_id))
            if row is None or row.revoked_at is not None:
                return None
            known = self._verified[key_id] = (row.token_hash, row.agent_id)
        token_hash, agent_id = known
        if not hmac.compare_digest(_hash(secret), token_hash):
            return None
        now = self.clock.now()
        if now - self._touched.get(agent_id, 0.0) >= TOUCH_INTERVAL_S:
            self._touched[agent_id] = now
            try:
                await db.write(lambda conn: repo.touch(conn, agent_id, now), small=True)
            except StorageError:
                pass  # last use is bookkeeping: a valid token is not refused for it (logged)
        return agent_id

    @staticmethod
    def _require(conn: sqlite3.Connection, agent_id: str) -> None:
        if repo.find_agent(conn, agent_id) is None:
            raise NotFound(f"no agent {agent_id!r}; `agents create {agent_id}` registers it")

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None
