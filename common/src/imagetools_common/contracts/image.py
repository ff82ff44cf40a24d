"""image-service: images, versions and pixel operations (subjects ``image.v1.*``).

Errors it may return: ``not_found``, ``quota_exceeded``, ``validation_error``.
"""

from __future__ import annotations

from pydantic import Field

from imagetools_common import __version__
from imagetools_common.contracts.base import Endpoint, ServiceSpec, WireModel
from imagetools_common.contracts.session import SessionRef

SERVICE = ServiceSpec(
    name="image-service",
    version=__version__,
    subject_prefix="image.v1",
    description="Uploads, versions with undo and redo, and every pixel operation",
)


class ImageCount(WireModel):
    count: int = Field(ge=0, description="Images the session holds now")


COUNT = Endpoint(SERVICE, "count", SessionRef, ImageCount)
