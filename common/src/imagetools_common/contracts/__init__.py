"""Wire contracts: every subject and message body, spelled once, imported by both ends."""

from imagetools_common.contracts import image, oauth, session
from imagetools_common.contracts.base import Empty, Endpoint, ServiceSpec, WireModel

# The backend services the gateway expects to find on the bus (health, discovery).
BACKEND_SERVICES: tuple[ServiceSpec, ...] = (session.SERVICE, image.SERVICE, oauth.SERVICE)

__all__ = ["BACKEND_SERVICES", "Empty", "Endpoint", "ServiceSpec", "WireModel", "image", "oauth", "session"]
