"""oauth-service: the only holder of OpenRouter credentials (subjects ``oauth.v1.*``, ``ai.v1.*``).

The connect flow, key store and AI endpoints are declared here as they are built.
"""

from __future__ import annotations

from imagetools_common import __version__
from imagetools_common.contracts.base import ServiceSpec

SERVICE = ServiceSpec(
    name="oauth-service",
    version=__version__,
    subject_prefix="oauth.v1",
    description="OpenRouter OAuth PKCE, encrypted keys and every call made with a key",
)
