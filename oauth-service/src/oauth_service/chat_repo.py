"""The only SQL for AI chat: the messages of each image's conversation."""

from __future__ import annotations

import uuid
from uuid import UUID

import asyncpg

from imagetools_common.contracts import ai
from imagetools_common.errors import NotFound

_COLUMNS = "id, role, content, model, cost, created_at"


def _message(row: asyncpg.Record) -> ai.Message:
    return ai.Message(
        id=row["id"], role=row["role"], content=row["content"], model=row["model"], cost=row["cost"],
        created_at=row["created_at"],
    )  # fmt: skip


class ChatRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def conversation(self, session_id: UUID, image_id: UUID) -> ai.Conversation:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM oauth.chat_messages WHERE session_id = $1 AND image_id = $2 "
            "ORDER BY position",
            session_id,
            image_id,
        )
        return _conversation([_message(r) for r in rows])

    async def save_turn(
        self, session_id: UUID, image_id: UUID, question: str, answer: str, model: str, cost: float | None
    ) -> tuple[ai.Message, ai.Message, float | None]:
        """Both messages of a finished turn in one transaction; the conversation's new total."""
        async with self._pool.acquire() as conn, conn.transaction():
            saved = []
            for role, content, turn_cost in (("user", question, None), ("assistant", answer, cost)):
                try:
                    row = await conn.fetchrow(
                        "INSERT INTO oauth.chat_messages"
                        " (id, session_id, image_id, role, content, model, cost)"
                        f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
                        uuid.uuid4(), session_id, image_id, role, content, model, turn_cost,
                    )  # fmt: skip
                except asyncpg.ForeignKeyViolationError:
                    raise NotFound("the session has ended") from None
                assert row is not None
                saved.append(_message(row))
            total = await conn.fetchval(
                "SELECT sum(cost) FROM oauth.chat_messages WHERE session_id = $1 AND image_id = $2",
                session_id,
                image_id,
            )
        return saved[0], saved[1], total

    async def forget(self, session_id: UUID, image_ids: list[UUID] | None) -> int:
        """Delete the conversations of some images of a session (all of them when None)."""
        if image_ids is None:
            status = await self._pool.execute(
                "DELETE FROM oauth.chat_messages WHERE session_id = $1", session_id
            )
        else:
            status = await self._pool.execute(
                "DELETE FROM oauth.chat_messages WHERE session_id = $1 AND image_id = ANY($2::uuid[])",
                session_id,
                image_ids,
            )
        return int(status.split()[-1])


def _conversation(messages: list[ai.Message]) -> ai.Conversation:
    costs = [m.cost for m in messages if m.cost is not None]
    return ai.Conversation(messages=messages, total_cost=sum(costs) if costs else None)
