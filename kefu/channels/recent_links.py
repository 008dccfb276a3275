"""The customer each channel user was linked to when this process last looked: a guess that spares a channel's
acknowledgement the Redis round trip of reading the link first. The inbox checks the guess in the script that
stores the message (kefu/core/inbox.py ``Arrival``), so it never has to be right, only usually."""
from __future__ import annotations

SIZE = 10_000


class RecentLinks:
    """A bounded map of user id -> customer id (None: not linked); the oldest entry goes first when full."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._customers: dict[str, str | None] = {}

    def get(self, user_id: str) -> str | None:
        """The last customer seen for this user; None (not linked) for one never seen, as most users are."""
        return self._customers.get(user_id)

    def remember(self, user_id: str, customer_id: str | None) -> None:
        self._customers.pop(user_id, None)
        if len(self._customers) >= self.size:
            del self._customers[next(iter(self._customers))]
        self._customers[user_id] = customer_id
