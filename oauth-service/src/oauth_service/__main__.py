"""Run one oauth-service instance: ``python -m oauth_service``."""

from pathlib import Path

from imagetools_common.contracts import oauth
from imagetools_common.lifecycle import Storage, run_service
from oauth_service.handlers import register
from oauth_service.settings import OAuthSettings

STORAGE = Storage(schema="oauth", migrations=Path(__file__).parent / "migrations", requires=("sessions",))


def main() -> None:
    run_service(oauth.SERVICE, OAuthSettings, register, storage=STORAGE)


if __name__ == "__main__":
    main()
