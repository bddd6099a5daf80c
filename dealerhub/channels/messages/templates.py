"""Message templates per language and customer type, rendered in Jinja2's sandbox.

Keys of `texts`: "zh-CN", "en", or a language with a customer type, "zh-CN:value",
"en:relationship". A missing variable is an error that names it; nothing is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

LANGUAGES = ("zh-CN", "en")
CUSTOMER_TYPES = ("value", "convenience", "relationship")
PURPOSES = ("service", "marketing")

_text_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_html_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


class TemplateError(ValueError):
    """A template cannot be registered or rendered; the message names the cause."""


class TemplateVariableMissing(TemplateError):
    def __init__(self, template_key: str, variable: str) -> None:
        super().__init__(f"template {template_key!r} needs the variable {variable!r}")
        self.template_key = template_key
        self.variable = variable


@dataclass(frozen=True)
class TemplateText:
    subject: str | None
    body: str
    html: str | None = None


@dataclass(frozen=True)
class MessageTemplate:
    key: str
    purpose: str
    texts: dict[str, TemplateText]


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    html: str | None
    locale: str


_registry: dict[str, MessageTemplate] = {}


def register_template(key: str, purpose: str, texts: dict[str, TemplateText]) -> None:
    """Register (or replace) a template; its sources are compiled now, so a syntax error
    shows at start-up rather than at the first send."""
    if purpose not in PURPOSES:
        raise TemplateError(f"purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")
    if not texts:
        raise TemplateError(f"template {key!r} has no texts")
    for variant, text in texts.items():
        language, _, customer_type = variant.partition(":")
        if language not in LANGUAGES or (customer_type and customer_type not in CUSTOMER_TYPES):
            raise TemplateError(f"template {key!r}: unknown variant {variant!r}")
        for source, env in ((text.subject, _text_env), (text.body, _text_env),
                            (text.html, _html_env)):
            if source is not None:
                try:
                    env.from_string(source)
                except TemplateSyntaxError as error:
                    raise TemplateError(f"template {key!r} ({variant}): {error}") from None
    _registry[key] = MessageTemplate(key, purpose, dict(texts))


def get_template(key: str) -> MessageTemplate | None:
    return _registry.get(key)


def pick(template: MessageTemplate, locale: str,
         customer_type: str | None) -> tuple[str, TemplateText]:
    """The most specific text: language and type, language, then the other language."""
    other = [code for code in LANGUAGES if code != locale]
    candidates = []
    for language in [locale, *other]:
        if customer_type:
            candidates.append(f"{language}:{customer_type}")
        candidates.append(language)
    for candidate in candidates:
        if candidate in template.texts:
            return candidate.split(":")[0], template.texts[candidate]
    variant = next(iter(template.texts))
    return variant.split(":")[0], template.texts[variant]


_UNDEFINED = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


def _render(env: SandboxedEnvironment, key: str, source: str, context: dict[str, Any]) -> str:
    try:
        return env.from_string(source).render(**context)
    except UndefinedError as error:
        match = _UNDEFINED.search(str(error))
        name = next((g for g in match.groups() if g), str(error)) if match else str(error)
        raise TemplateVariableMissing(key, name) from None


def render(key: str, locale: str, customer_type: str | None, context: dict[str, Any]) -> Rendered:
    template = _registry.get(key)
    if template is None:
        raise TemplateError(f"no template {key!r} is registered")
    language, text = pick(template, locale, customer_type)
    return Rendered(
        subject=_render(_text_env, key, text.subject, context) if text.subject else None,
        body=_render(_text_env, key, text.body, context),
        html=_render(_html_env, key, text.html, context) if text.html else None,
        locale=language,
    )
