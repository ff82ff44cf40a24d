"""Run one image-service instance: ``python -m image_service``."""

from pathlib import Path

from image_service.handlers import register
from image_service.settings import ImageSettings
from imagetools_common.contracts import image
from imagetools_common.lifecycle import Storage, run_service

STORAGE = Storage(schema="images", migrations=Path(__file__).parent / "migrations", requires=("sessions",))


def main() -> None:
    run_service(image.SERVICE, ImageSettings, register, storage=STORAGE)


if __name__ == "__main__":
    main()
