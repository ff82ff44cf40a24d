"""Run one oauth-service instance: ``python -m oauth_service``.

For now it declares the service (health and discovery); the OpenRouter connect flow, the
encrypted key store and the AI endpoints register their handlers here as they are built.
"""

from imagetools_common.contracts import oauth
from imagetools_common.lifecycle import Runtime, run_service
from imagetools_common.settings import Settings


async def register(_runtime: Runtime[Settings]) -> None:
    """No endpoints yet: the service answers $SRV.PING, INFO and STATS."""


def main() -> None:
    run_service(oauth.SERVICE, Settings, register)


if __name__ == "__main__":
    main()
