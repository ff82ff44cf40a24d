"""Run one session-service instance: ``python -m session_service``."""

from pathlib import Path

from imagetools_common.contracts import session
from imagetools_common.lifecycle import Storage, run_service
from session_service.handlers import register
from session_service.settings import SessionSettings

STORAGE = Storage(schema="sessions", migrations=Path(__file__).parent / "migrations")


def main() -> None:
    run_service(session.SERVICE, SessionSettings, register, storage=STORAGE)


if __name__ == "__main__":
    main()
