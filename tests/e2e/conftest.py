from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from imagetools_common.contracts import BACKEND_SERVICES
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


class Stacks:
    """Starts whole topologies as separate processes, each with its own NATS (so tests may restart
    it) and, with ``own_database``, its own PostgreSQL (likewise), else the run's database; ``env``
    adds to or overrides the defaults, ``process_env`` per kind of process. ``stop`` stops them all."""

    def __init__(self, database_url: str, web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.database_url = database_url
        self.web_dist = web_dist
        self.tmp_path_factory = tmp_path_factory
        self.started: list[Stack] = []
        self.outside: list[Path] = []

    async def start(
        self,
        name: str = "stack",
        *,
        own_database: bool = False,
        process_env: dict[str, dict[str, str]] | None = None,
        **env: str,
    ) -> Stack:
        root = self.tmp_path_factory.mktemp(name)
        # PostgreSQL runs as its own user, which cannot reach pytest's tree (reset to 0700 by any run).
        var = root
        if own_database:
            var = Path(tempfile.mkdtemp(prefix=f"imagetools-{name}-"))
            self.outside.append(var)
        stack = Stack(
            var_dir=var / "var",
            log_dir=root / "logs",
            env={
                **({} if own_database else {"DATABASE_URL": self.database_url}),
                "SERVER_PORT": str(free_port()),
                "WEB_DIST_DIR": str(self.web_dist),
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "INFO",
                **env,
            },
            process_env=process_env or {},
        )
        self.started.append(stack)
        await stack.start()
        return stack

    async def stop(self) -> None:
        for stack in reversed(self.started):
            await stack.stop()
        for var in self.outside:
            shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="module")
async def make_stack(
    database_url: str, web_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StackFactory]:
    """Stacks of the module's own (``Stacks.start``), for settings no shared stack has; every one
    stops at the module's end."""
    stacks = Stacks(database_url, web_dist, tmp_path_factory)
    try:
        yield stacks.start
    finally:
        await stacks.stop()


@pytest.fixture(scope="session")
async def shared_stacks(
    database_url: str, web_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stacks]:
    """The stacks several modules share (below), stopped at the run's end."""
    stacks = Stacks(database_url, web_dist, tmp_path_factory)
    try:
        yield stacks
    finally:
        await stacks.stop()


@pytest.fixture(scope="session")
async def default_stack(shared_stacks: Stacks) -> Stack:
    """One whole topology with default settings for the run (see ``stack``). Every module's clients
    come from 127.0.0.1 to the one gateway, so the per-address limit on new sessions (10 a minute)
    would count several modules' sessions together: it is raised; no module using this stack tests it."""
    return await shared_stacks.start("shared", RATE_LIMIT_NEW_SESSIONS="1000")


@pytest.fixture(scope="session")
async def ai_stack(shared_stacks: Stacks) -> Stack:
    """The whole topology with the fake OpenRouter (``make run`` with OPENROUTER_FAKE=1), the app on
    this gateway's localhost URL (OpenRouter's sign-in callback and join links name it), logging at
    DEBUG (whose lines must hold no key either), believing X-Forwarded-For from loopback (so the
    devices module gives each client an address of its own; the AI modules send none); shared by
    the modules that take ``ai_stack``."""
    port = free_port()
    return await shared_stacks.start(
        "ai-stack", SERVER_PORT=str(port), LOG_LEVEL="DEBUG", OPENROUTER_FAKE="1",
        OPENROUTER_APP_URL=f"http://localhost:{port}", TRUSTED_PROXIES="127.0.0.1",
    )  # fmt: skip


@pytest.fixture(scope="module")
async def stack(default_stack: Stack) -> Stack:
    """The whole topology with default settings, shared by every module that takes ``stack``.

    Starting a stack costs ~25 s of CI, so modules share this one. A module opts in by taking
    ``stack`` (and ``browser``) as arguments, nothing else; in return each of its tests:
    - works in a browser context (or HTTP client) of its own, so a session of its own, and assumes
      nothing about rows other sessions made (the database is the run's, shared by every stack);
    - reads a process's log through ``testing.logfiles.LogTail`` made when the test starts, not the
      whole file (it holds earlier modules' lines);
    - leaves the stack as it found it: a process it stops is started again (or was an extra one).
    A module that needs other settings defines its own ``stack`` fixture with ``make_stack("name",
    SETTING="value")`` (that fixture wins over this one) and gets a stack of its own.

    A module gets it only once every service answers, so a stack an earlier module left broken
    shows as this fixture's error naming what is missing, not as puzzling failures in the tests.
    """
    await default_stack.wait_for_services({spec.name: 1 for spec in BACKEND_SERVICES}, timeout=60)
    return default_stack


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
