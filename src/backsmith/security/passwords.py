"""Passwords hashed with argon2id at OWASP's parameters, checked off the event loop.

m = 19 MiB, t = 2, p = 1 is the OWASP Password Storage Cheat Sheet's minimum for
argon2id. An unknown account is checked against a hash of a random password all the
same, so "no such user" and "wrong password" take the same time (and get one answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MEMORY_KIB, TIME_COST, PARALLELISM = 19_456, 2, 1
MIN_LENGTH, MAX_LENGTH = 8, 1024  # OWASP: at least 8; a cap keeps hashing cheap to refuse


class Passwords:
    def __init__(self) -> None:
        self.hasher = PasswordHasher(
            time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM
        )
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        """(matches, should be hashed again with today's parameters)."""
        return await asyncio.to_thread(self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        if stored is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
            with contextlib.suppress(VerificationError, InvalidHashError):
                self.hasher.verify(self._dummy, password)  # as long as a real check takes
            return False, False
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False, False
        return True, self.hasher.check_needs_rehash(stored)


def weakness(password: object) -> str | None:
    """Why a new password is refused, or None."""
    if not isinstance(password, str):
        return "must be a string"
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    return None
