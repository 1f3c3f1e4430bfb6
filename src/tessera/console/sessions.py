"""Console sessions: who signed in, until when, and the brakes on guessing secrets.

A session is a random token in an ``HttpOnly``, ``SameSite=Strict`` cookie; the server keeps only
its SHA-256, with the access key it speaks for and the session's CSRF token. Sessions end after
``idle`` without a request, or ``absolute`` after sign-in, whichever comes first, and when the
key is deleted. Failed sign-ins are counted per access key ID and per client address; too many
in a window lock that subject out for a while, and a sign-in that succeeds clears both counts
(docs/console.md, Sessions).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from tessera.core.storage import Storage
from tessera.meta import console_sessions as rows
from tessera.meta import keys as key_rows

SESSION_COOKIE = "tessera_console"
SECOND_MS = 1000
# A request refreshes last_seen at most this often: a page load costs no write.
TOUCH_EVERY_MS = 60 * SECOND_MS


@dataclass(frozen=True)
class SessionPolicy:
    idle_ms: int = 30 * 60 * SECOND_MS
    absolute_ms: int = 12 * 3600 * SECOND_MS
    failures_allowed: int = 5  # per access key ID within failure_window_ms; the last locks it out
    address_failures_allowed: int = 20  # per client address (many people may share one)
    failure_window_ms: int = 15 * 60 * SECOND_MS
    lockout_ms: int = 15 * 60 * SECOND_MS
    failure_delay_s: float = 0.5  # every refusal waits this long: no fast guessing


@dataclass(frozen=True)
class Session:
    access_key_id: str
    csrf_token: str
    token_hash: str
    created_ms: int


class SignInRefused(Exception):
    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, storage: Storage, policy: SessionPolicy = SessionPolicy()) -> None:
        self.storage = storage
        self.policy = policy

    async def sign_in(self, access_key_id: str, secret: str, *, client: str) -> tuple[str, Session]:
        """A new session's cookie token, or SignInRefused (after the failure delay)."""
        now = self.storage.clock()
        subjects = [f"key:{access_key_id}", f"address:{client}"]
        async with self.storage.db.read() as conn:
            locked = [r for r in await rows.failures(conn, subjects) if r.locked_until_ms > now]
            known = await key_rows.secret_for(conn, access_key_id) if access_key_id else None
        if locked:
            retry = max(r.locked_until_ms for r in locked) - now
            await asyncio.sleep(self.policy.failure_delay_s)
            raise SignInRefused("Too many failed sign-ins. Try again later.",
                                retry_after_s=max(1, -(-retry // SECOND_MS)))
        if known is None or not hmac.compare_digest(known.encode(), secret.encode()):
            async with self.storage.db.write() as conn:
                for subject, limit in zip(subjects, (self.policy.failures_allowed,
                                                     self.policy.address_failures_allowed)):
                    await rows.record_failure(conn, subject, now_ms=now,
                                              window_ms=self.policy.failure_window_ms, limit=limit,
                                              lockout_ms=self.policy.lockout_ms)
            await asyncio.sleep(self.policy.failure_delay_s)
            raise SignInRefused("The access key ID or secret is wrong.")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        async with self.storage.db.write() as conn:
            for subject in subjects:
                await rows.clear_failures(conn, subject)
            await rows.delete_expired(conn, idle_before_ms=now - self.policy.idle_ms,
                                      created_before_ms=now - self.policy.absolute_ms)
            await rows.add(conn, _hash(token), access_key_id, csrf, now)
        return token, Session(access_key_id, csrf, _hash(token), now)

    async def find(self, token: str | None) -> Session | None:
        """The live session ``token`` opens, if any; refreshes its idle clock."""
        if not token:
            return None
        now = self.storage.clock()
        token_hash = _hash(token)
        async with self.storage.db.read() as conn:
            row = await rows.find(conn, token_hash)
            # A deleted key's sessions end with it.
            alive = row is not None and await key_rows.secret_for(conn, row.access_key_id) is not None
        if row is None:
            return None
        expired = (row.last_seen_ms <= now - self.policy.idle_ms or row.created_ms <= now - self.policy.absolute_ms)
        if expired or not alive:
            async with self.storage.db.write() as conn:
                await rows.delete(conn, token_hash)
            return None
        if now - row.last_seen_ms >= min(TOUCH_EVERY_MS, self.policy.idle_ms // 10):
            async with self.storage.db.write() as conn:
                await rows.touch(conn, token_hash, now)
        return Session(row.access_key_id, row.csrf_token, token_hash, row.created_ms)

    async def sign_out(self, session: Session) -> None:
        async with self.storage.db.write() as conn:
            await rows.delete(conn, session.token_hash)
