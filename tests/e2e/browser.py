"""Browser harness: the app served by a real `dealerhub serve` process on the test database,
driven by Playwright through Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, ROOT
from tests.support.http_server import free_port

CHROMIUM = os.environ.get("DEALERHUB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# A fresh clone compiles every module on the server's first start; on a busy 2-core machine
# that alone can take a minute.
STARTUP_SECONDS = 180


def require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    reason = f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    if IN_CI:
        pytest.fail(reason)
    print(f"skipping browser test: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def served_app() -> Iterator[str]:
    """`dealerhub serve` on the test database (in-process jobs unless REDIS_URL is set)."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "dealerhub.cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "exited")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start within {STARTUP_SECONDS} s")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.asynccontextmanager
async def browser_page(width: int = 1280, height: int = 860) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN"
        )
        page = await context.new_page()
        try:
            yield page
        finally:
            await browser.close()


async def sign_in(page: object, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/login")  # type: ignore[attr-defined]
    await page.fill("input[name=email]", email)  # type: ignore[attr-defined]
    await page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    await page.click("button[type=submit]")  # type: ignore[attr-defined]
    await page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
