"""The question bank over HTTP: headquarters authors national questions, a dealer admin adds
local ones; JSON API and the two pages."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.response import Redirect, Template

from dealerhub.platform.auth import (
    DEALER_ROLES,
    dealer_admin_only,
    oem_admin_only,
    oem_staff,
    requires_roles,
)
from dealerhub.platform.web import found, page
from dealerhub.survey import web
from dealerhub.survey.questions import service
from dealerhub.survey.questions.schemas import QuestionRead, QuestionWrite
from dealerhub.survey.questions.tables import KINDS, ROLES, STEPS
from dealerhub.tenants.fields import FieldError, InvalidInput


def _from_form(form: dict[str, Any]) -> QuestionWrite:
    """A question from the page's form; bad values become InvalidInput naming the field."""
    raw = {name: web.text(form, name) for name in ("key", "kind", "step", "role", "text_zh",
                                                     "text_en")}
    choices = [line.split("|") for line in web.text(form, "choices").splitlines() if line.strip()]
    try:
        return msgspec.convert({**raw, "choices": [
            {"value": c[0].strip(), "zh": c[1].strip() if len(c) > 1 else c[0].strip(),
             "en": c[2].strip() if len(c) > 2 else c[0].strip(),
             "negative": len(c) > 3 and c[3].strip() == "negative"} for c in choices],
            "weight": int(web.text(form, "weight") or 1)}, QuestionWrite)
    except (msgspec.ValidationError, ValueError) as error:
        field = str(error).rsplit("$.", 1)[-1].split("`")[0].split("[")[0] or "form"
        raise InvalidInput([FieldError(field, str(error))]) from None


class QuestionApiController(Controller):
    path = "/api/v1/survey"
    tags = ["survey"]

    @get("/questions", guards=[requires_roles(*DEALER_ROLES, "oem_admin", "oem_analyst")])
    async def list_questions(self, request: Request) -> list[QuestionRead]:
        """The active national questions, and for a dealer its own local ones."""
        found = await service.list_national()
        if request.user.tenant_id is not None:
            found += await service.list_local(request.user.tenant_id)
        return found

    @post("/questions", guards=[oem_admin_only])
    async def save_national(self, data: QuestionWrite) -> QuestionRead:
        """Author a national question; the same key again makes its next version."""
        with web.input_errors():
            return await service.save_national(data)

    @post("/local-questions", guards=[dealer_admin_only])
    async def save_local(self, request: Request, data: QuestionWrite) -> QuestionRead:
        with web.input_errors():
            return await service.save_local(request.user.tenant_id, data)

    @delete("/local-questions/{question_id:uuid}", guards=[dealer_admin_only], status_code=200)
    async def retire_local(self, request: Request, question_id: uuid.UUID) -> QuestionRead:
        return found(await service.retire_local(request.user.tenant_id, question_id), "question")


class QuestionPagesController(Controller):
    """`/hq/survey/questions` for headquarters, `/survey/questions` for a dealer."""

    include_in_schema = False

    async def _page(self, request: Request, status_code: int = 200,
                    errors: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None) -> Template:
        national = await service.list_national()
        local = (await service.list_local(request.user.tenant_id)
                 if request.user.tenant_id else [])
        return page(request, "survey/questions.html", status_code=status_code,
                    national=national, local=local, kinds=KINDS, steps=STEPS, roles=ROLES,
                    errors=errors or {}, values=values or {},
                    action=request.url.path)

    @get("/hq/survey/questions", guards=[oem_staff])
    async def hq_list(self, request: Request) -> Template:
        return await self._page(request)

    @get("/survey/questions", guards=web.dealer_pages)
    async def dealer_list(self, request: Request) -> Template:
        return await self._page(request)

    async def _save(self, request: Request, national: bool) -> Any:
        form = await web.form_data(request)
        try:
            data = _from_form(form)
            if national:
                await service.save_national(data)
            else:
                await service.save_local(request.user.tenant_id, data)
        except InvalidInput as invalid:
            return await self._page(request, 400, web.form_errors(invalid), form)
        return Redirect(request.url.path, status_code=303)

    @post("/hq/survey/questions", guards=[oem_admin_only])
    async def hq_save(self, request: Request) -> Any:
        return await self._save(request, national=True)

    @post("/survey/questions", guards=[dealer_admin_only])
    async def dealer_save(self, request: Request) -> Any:
        return await self._save(request, national=False)
