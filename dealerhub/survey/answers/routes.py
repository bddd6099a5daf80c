"""The car owner's survey page under `/c/survey/`: a signed, expiring link, no login, one
mobile-first page, a plain form that works without JavaScript."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Template

from dealerhub.platform.audit import AUDIT_BUFFERED_WRITES
from dealerhub.platform.links import LinkExpired, LinkInvalid
from dealerhub.platform.web import page
from dealerhub.platform.web.i18n import gettext_for, request_locale
from dealerhub.survey.answers import service
from dealerhub.survey.integrity.service import Submission
from dealerhub.tenants.fields import InvalidInput
from dealerhub.tenants.web import form_errors

FIELD_PREFIX = "q_"


def _message(request: Request, status_code: int, title: str, message: str) -> Template:
    _ = gettext_for(request_locale(request))
    return page(request, "survey/c_message.html", status_code=status_code, title=_(title),
                message=_(message))


def _refused(request: Request, error: LinkInvalid) -> Template:
    if isinstance(error, LinkExpired):
        return _message(request, 410, "This link has expired",
                        "Thank you all the same. Please ask the dealer for a new link.")
    return _message(request, 400, "This link is not valid",
                    "Please open the link exactly as you received it.")


def _thanks(request: Request, status_code: int = 200) -> Template:
    return _message(request, status_code, "Thank you!",
                    "Your answers have been received. They help us serve you better.")


class CustomerSurveyController(Controller):
    """No CSRF token: the signed link is the credential and no session authorises anything
    here (tests/security/test_csrf.py says why in its exemption list), so the page sets no
    cookie and works where cookies are refused. Audit records of answers are buffered: the
    invitation itself records when and from which address it was answered."""

    path = "/c/survey"
    include_in_schema = False
    opt = {"exclude_from_csrf": True, **AUDIT_BUFFERED_WRITES}

    @get("/{token:str}")
    async def show(self, request: Request, token: str) -> Template:
        try:
            view = await service.open_survey(token)
        except LinkInvalid as refused:
            return _refused(request, refused)
        if view.complete:
            return _thanks(request)
        return page(request, "survey/c_survey.html", view=view, token=token, errors={},
                    values={})

    @post("/{token:str}")
    async def answer(self, request: Request, token: str) -> Template:
        form = await request.form()
        raw = {key[len(FIELD_PREFIX):]: str(value) for key, value in form.items()
               if key.startswith(FIELD_PREFIX)}
        client = request.scope.get("client")
        source = Submission("web", client[0] if client else "",
                            bool((request.scope.get("session") or {}).get("user_id")))
        try:
            view = await service.submit(token, raw, source)
        except LinkInvalid as refused:
            return _refused(request, refused)
        except service.AlreadyAnswered:
            return _thanks(request, 409)
        except InvalidInput as invalid:
            view = await service.open_survey(token)
            return page(request, "survey/c_survey.html", status_code=400, view=view, token=token,
                        errors=form_errors(invalid), values={FIELD_PREFIX + k: v
                                                             for k, v in raw.items()})
        if view.complete:
            return _thanks(request)
        return page(request, "survey/c_survey.html", view=view, token=token, errors={},
                    values={}, saved=True)
