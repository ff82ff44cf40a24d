from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from imagetools_common.embedded import find_project_file, free_port
from imagetools_common.stack import Stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The real built web app; the suite builds it first (make test), so its absence is a failure."""
    dist = find_project_file("web/dist/index.html").parent
    return dist


StackFactory = Callable[..., Awaitable[Stack]]


@pytest.fixture(scope="module")
async def make_stack(
    database_url: str, web_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StackFactory]:
    """Start the whole topology as separate processes, each stack with its own NATS (so tests may
    restart it) and, with ``own_database``, its own PostgreSQL (likewise); ``env`` adds to or
    overrides the defaults, ``process_env`` per kind of process. Every stack stops at the module's end."""
    stacks: list[Stack] = []
    outside: list[Path] = []

    async def make(
        name: str = "stack",
        *,
        own_database: bool = False,
        process_env: dict[str, dict[str, str]] | None = None,
        **env: str,
    ) -> Stack:
        root = tmp_path_factory.mktemp(name)
        # PostgreSQL runs as its own user, which cannot reach pytest's tree (reset to 0700 by any run).
        var = root
        if own_database:
            var = Path(tempfile.mkdtemp(prefix=f"imagetools-{name}-"))
            outside.append(var)
        stack = Stack(
            var_dir=var / "var",
            log_dir=root / "logs",
            env={
                **({} if own_database else {"DATABASE_URL": database_url}),
                "SERVER_PORT": str(free_port()),
                "WEB_DIST_DIR": str(web_dist),
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "INFO",
                **env,
            },
            process_env=process_env or {},
        )
        stacks.append(stack)
        await stack.start()
        return stack

    try:
        yield make
    finally:
        for stack in reversed(stacks):
            await stack.stop()
        for var in outside:
            shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="module")
async def stack(make_stack: StackFactory) -> Stack:
    """The whole topology with default settings."""
    return await make_stack()


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=stack.gateway_url, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield session


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's headless Chromium driven by Playwright (no downloaded browser)."""
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="module")
async def persistent_context(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BrowserContext]:
    """The same Chromium with a profile on disk, as an installed app has (an incognito context always
    reports itself not installable)."""
    context = await browser.browser_type.launch_persistent_context(
        tmp_path_factory.mktemp("profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield context
    await context.close()
