-- AI chat: one conversation per image, as its messages in order. The image lives in
-- image-service's schema, so image_id is not a foreign key: the rows go when image-service
-- announces the deletion (image.v1.events.deleted), or, if that event was missed, the next time
-- the conversation is asked for and the image is gone. Everything goes with the session.
CREATE TABLE oauth.chat_messages (
    position bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    image_id uuid NOT NULL,
    role text NOT NULL CHECK (role IN ('user', 'assistant')),
    content text NOT NULL,
    model text,
    -- USD OpenRouter charged for the turn (usage.cost), on the assistant's message.
    cost double precision,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX chat_messages_by_image ON oauth.chat_messages (session_id, image_id, position);
