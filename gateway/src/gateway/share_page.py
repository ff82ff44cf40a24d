"""The public share page (GET /s/{token}): a small HTML document of its own, never the web app.

Pure. The page shows the picture, its name, size and expiry, and a download button, and nothing
else of the session. It runs no script; its one inline style block is allowed by its hash, so
the Content-Security-Policy of every /s/ response can be ``default-src 'none'``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC
from html import escape

from imagetools_common.contracts import image as contract

PREFIX = "/s/"
# What browsers show in an <img>; other formats (TIFF, HEIF) get the download alone.
_SHOWN = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif", "image/bmp"})

# The app's colours (web/src/styles/tokens.css), light and dark.
_STYLE = """
:root{color-scheme:light dark;--bg:#f6f7f9;--surface:#fff;--border:#dfe2e8;--text:#1b1f24;
--muted:#57606a;--accent:#4f46e5;--accent-hover:#4338ca;--on-accent:#fff;--focus:#6366f1;
--checker:#e4e7ec}
@media (prefers-color-scheme:dark){:root{--bg:#0f1115;--surface:#171a21;--border:#2c313c;
--text:#e7e9ee;--muted:#a3abb8;--accent:#818cf8;--accent-hover:#a5b4fc;--on-accent:#0f1115;
--checker:#2c313c}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;
justify-content:center;gap:16px;padding:16px;background:var(--bg);color:var(--text);
font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue','Noto Sans',Arial,sans-serif}
main{width:min(100%,960px);background:var(--surface);border:1px solid var(--border);
border-radius:16px;overflow:hidden;box-shadow:0 12px 32px rgb(16 24 40/14%)}
figure{margin:0;display:flex;justify-content:center;
background:repeating-conic-gradient(var(--checker) 0 25%,transparent 0 50%) 0 0/16px 16px}
img{display:block;max-width:100%;max-height:70vh;width:auto;height:auto}
.about{display:flex;flex-wrap:wrap;align-items:center;gap:12px 16px;padding:16px 20px}
.text{flex:1;min-width:12rem}
h1{margin:0;font-size:1.125rem;overflow-wrap:anywhere}
p{margin:0;color:var(--muted);font-size:.875rem}
.download{display:inline-flex;align-items:center;justify-content:center;min-height:44px;
padding:0 20px;border-radius:10px;background:var(--accent);color:var(--on-accent);
font-weight:650;text-decoration:none}
.download:hover{background:var(--accent-hover)}
.download:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.none{padding:48px 20px;text-align:center}
footer{color:var(--muted);font-size:.8125rem}
""".strip()

CSP = "; ".join(
    (
        "default-src 'none'",
        "img-src 'self'",
        f"style-src 'sha256-{base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()}'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


def size_label(size: int) -> str:
    """A file size as the web app writes it (binary units: "820 B", "4.2 KB", "482 KB", "5.3 MB")."""
    if size < 1024:
        return f"{size} B"
    kb = size / 1024
    if round(kb) < 1024:
        return f"{_trim(kb, 10)} KB"
    mb = size / 1024**2
    return f"{_trim(mb, 100)} MB"


def _trim(value: float, decimals_below: float) -> str:
    """One decimal below ``decimals_below`` (without a trailing .0), whole numbers above."""
    text = f"{value:.1f}" if value < decimals_below else f"{value:.0f}"
    return text.removesuffix(".0")


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex,nofollow"><meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}<footer>Shared with ImageTools</footer></body></html>"
    )


def page(shared: contract.SharedFile, token: str) -> str:
    """The page of a live link: the picture, its name, size and expiry, and a download button."""
    name = escape(shared.filename)
    file_url = escape(f"{PREFIX}{token}/file")
    ends = shared.expires_at.astimezone(UTC)
    until = f"{ends.day} {ends:%b %Y, %H:%M} UTC"
    picture = (
        f'<img src="{file_url}" alt="{name}" width="{shared.width}" height="{shared.height}">'
        if shared.content_type in _SHOWN
        else '<p class="none">This browser cannot show this kind of picture: download it to see it.</p>'
    )
    details = f"{shared.width} × {shared.height} px · {size_label(shared.bytes)}"
    return _document(
        f"{shared.filename} · ImageTools",
        f"<main><figure>{picture}</figure>"
        f'<div class="about"><div class="text"><h1>{name}</h1>'
        f"<p>{details}</p>"
        f'<p>This link works until <time datetime="{ends.isoformat()}">{until}</time>.</p></div>'
        f'<a class="download" href="{file_url}?download=1" download="{name}">Download</a></div></main>',
    )


def gone() -> str:
    """The one page for every link that does not work: unknown, revoked, expired or deleted alike."""
    return _document(
        "Link not available · ImageTools",
        '<main><div class="none"><h1>This link does not work</h1>'
        "<p>It may have expired, been revoked, or the picture may have been deleted.</p></div></main>",
    )


def loggable(path: str) -> str:
    """``path`` fit for a log line: a share link's token is a credential, so it never appears."""
    if not path.startswith(PREFIX):
        return path
    _, _, rest = path[len(PREFIX) :].partition("/")
    return f"{PREFIX}…" + (f"/{rest}" if rest else "")
