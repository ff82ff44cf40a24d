"""A fake OpenRouter: a real aiohttp server on loopback that speaks OpenRouter's API.

Used by the tests (``create_fake`` with a ``FakeState`` they inspect) and by ``make run`` with
OPENROUTER_FAKE=1 (``python -m oauth_service.fake_openrouter``), so the whole AI flow can be
demonstrated and tested without an OpenRouter account or the network.
"""

from oauth_service.fake_openrouter.app import create_fake
from oauth_service.fake_openrouter.catalogue import MODELS
from oauth_service.fake_openrouter.state import (
    CODE_TTL,
    ApiKey,
    FakeState,
    Mode,
    OpenRouterError,
    RecordedRequest,
    s256,
)

__all__ = [
    "CODE_TTL",
    "MODELS",
    "ApiKey",
    "FakeState",
    "Mode",
    "OpenRouterError",
    "RecordedRequest",
    "create_fake",
    "s256",
]
