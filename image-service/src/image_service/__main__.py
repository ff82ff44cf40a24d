"""Run one image-service instance: ``python -m image_service``."""

from pathlib import Path

from image_service.handlers import register
from imagetools_common.contracts import image
from imagetools_common.lifecycle import Storage, run_service
from imagetools_common.settings import Settings

STORAGE = Storage(schema="images", migrations=Path(__file__).parent / "migrations", requires=("sessions",))


def main() -> None:
    run_service(image.SERVICE, Settings, register, storage=STORAGE)


if __name__ == "__main__":
    main()
