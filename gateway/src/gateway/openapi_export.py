"""The committed OpenAPI document (docs/openapi.json): written from the route table, checked against it.

The web app's TypeScript types are generated from that file, so it is the one contract both
sides build on. ``python -m gateway.openapi_export docs/openapi.json`` writes it; with
``--check`` it only compares, and says how to regenerate when the two differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gateway.cookies import cookie_name
from gateway.openapi import build_openapi
from gateway.ratelimit import RateLimits
from gateway.routes import ROUTES
from gateway.settings import GatewaySettings
from imagetools_common import __version__

# The one command that regenerates the document and the web app's types from it.
REGENERATE = "make api"


def default_document() -> dict[str, Any]:
    """The document a gateway with default settings serves (no environment, no .env, no stack).

    A deployment's own limits and cookie name differ only in the ``x-rate-limit`` figures and the
    security scheme's cookie, which the generated types do not depend on.
    """
    settings = GatewaySettings.model_construct()  # the declared defaults: reads no environment
    return build_openapi(
        ROUTES, version=__version__, cookie=cookie_name(https=False), rate_limits=RateLimits(settings)
    )


def render(document: dict[str, Any]) -> str:
    """Stable text for ``document``: diffs of the committed file show what changed in the API."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def stale(path: Path) -> str | None:
    """Why the file at ``path`` is not the route table's document, or None when it is."""
    if not path.exists():
        return f"{path} does not exist"
    if path.read_text(encoding="utf-8") != render(default_document()):
        return f"{path} differs from the document the route table produces"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.openapi_export", description=__doc__)
    parser.add_argument("path", type=Path, help="where the document lives (docs/openapi.json)")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when it is stale")
    args = parser.parse_args(argv)
    if args.check:
        problem = stale(args.path)
        if problem is not None:
            print(f"{problem}. Regenerate it and the web app's types with: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(render(default_document()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
