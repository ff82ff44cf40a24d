"""The AI flow across real processes (`make run` with OPENROUTER_FAKE=1): no key material anywhere.

Connect, list models, chat, edit, undo, disconnect, while a subscriber on `>` records every NATS
message; then every HTTP body, every message and every line the processes logged (at DEBUG, on
``ai_stack``, which test_browser_openrouter shares) is searched.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from nats.aio.msg import Msg

from imagetools_common.rpc import connect
from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e
CSRF = {"X-Requested-With": "ImageTools"}


async def test_no_key_in_any_response_message_or_log_line(ai_stack: Stack) -> None:
    """The whole AI flow through real processes leaves no `sk-or-` in HTTP, on NATS or in any log."""
    assert ai_stack.nats is not None and ai_stack.log_dir is not None
    seen: list[bytes] = []

    async def record(msg: Msg) -> None:
        seen.append(msg.subject.encode() + msg.data + json.dumps(dict(msg.headers or {})).encode())

    bus = await connect(ai_stack.nats.url, "leak-watch")
    await bus.subscribe(">", cb=record)
    bodies: list[bytes] = []
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=ai_stack.gateway_url, cookie_jar=jar) as http:

        async def call(method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
            async with http.request(method, path, headers=CSRF, allow_redirects=False, **kwargs) as response:
                body = await response.read()
                bodies.append(body + json.dumps(dict(response.headers)).encode())
                assert response.status == status, body
                return body

        authorize = json.loads(await call("POST", "/api/v1/openrouter/connect"))["authorize_url"]
        async with http.get(authorize.replace("/auth?", "/auth/approve?"), allow_redirects=False) as approved:
            callback = approved.headers["Location"]
        # The callback names the app's localhost URL; this client's cookie is for 127.0.0.1, the same gateway.
        back = urlsplit(callback)
        await call("GET", f"{back.path}?{back.query}", 303)
        assert json.loads(await call("GET", "/api/v1/openrouter/status"))["state"] == "connected"
        assert json.loads(await call("GET", "/api/v1/ai/models"))["edit"]
        form = aiohttp.FormData()
        form.add_field("file", media.jpeg(media.photo(640, 480)), filename="p.jpg")
        image_id = json.loads(await call("POST", "/api/v1/images", 201, data=form))["images"][0]["id"]
        answer = await call("POST", f"/api/v1/images/{image_id}/chat", json={"message": "What is this?"})
        assert b"event: done" in answer
        edited = json.loads(
            await call("POST", f"/api/v1/images/{image_id}/ai-edit", json={"instruction": "invert"})
        )
        assert edited["image"]["current"]["operation"] == "ai_edit"
        await call("POST", f"/api/v1/images/{image_id}/undo")
        assert json.loads(await call("GET", f"/api/v1/images/{image_id}/chat"))["total_cost"] > 0
        await call("DELETE", "/api/v1/openrouter")
    await bus.flush()
    await bus.close()
    assert len(seen) > 20 and len(bodies) > 8
    leaks = [data[:200] for data in [*seen, *bodies] if b"sk-or-" in data]
    assert leaks == []
    # The fake stands for OpenRouter, which does see keys; every ImageTools process log is checked.
    logs = [p for p in ai_stack.log_dir.glob("*.log") if p.name != "fake-openrouter.log"]
    assert {p.stem for p in logs} >= {"gateway", "oauth-service", "image-service", "session-service"}
    for path in logs:
        text = path.read_text(errors="replace")
        assert "sk-or-" not in text, path.name
    assert '"ai.v1.chat"' in (ai_stack.log_dir / "oauth-service.log").read_text()  # the logs were really read
