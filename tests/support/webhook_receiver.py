"""A local webhook receiver: records every request and answers as told per path
(status, headers, body, a delay to make it hang, a redirect)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.http_server import LocalServer


@dataclass
class Answer:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class WebhookReceiver(LocalServer):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.answers: dict[str, list[Answer]] = {}
        self.default = Answer()

    def answer(self, path: str, *answers: Answer) -> None:
        """Answers for a path, used in turn; the last one repeats."""
        self.answers[path] = list(answers)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        await self.record(request)
        queue = self.answers.get(request.path)
        answer = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else self.default
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.Response(status=answer.status, text=answer.body, headers=answer.headers)

    def for_path(self, path: str) -> list:
        return [r for r in self.requests if r.path == path]
