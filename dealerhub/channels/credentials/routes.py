"""Channel settings: the installed channels (built-in and third-party) and the dealer's accounts."""

from __future__ import annotations

from litestar import Controller, Request, get, put

from dealerhub.channels.credentials import service
from dealerhub.channels.credentials.schemas import (
    AccountRead,
    AccountSave,
    ConfigFieldRead,
    PluginRead,
)
from dealerhub.channels.plugin import discovered, label_of
from dealerhub.channels.web import invalid
from dealerhub.platform.auth import dealer_admin_only
from dealerhub.platform.web.i18n import request_locale


def plugin_reads(locale: str) -> list[PluginRead]:
    return [
        PluginRead(
            name=name, medium=cls.medium, label=label_of(cls, locale), module=cls.__module__,
            built_in=cls.__module__.startswith("dealerhub."),
            oem_account=service.oem_account(name) is not None,
            fields=[ConfigFieldRead(f.name, f.label, f.secret, f.required)
                    for f in cls.config_fields],
        )
        for name, cls in sorted(discovered().items())
    ]


def account_read(view: service.AccountView) -> AccountRead:
    return AccountRead(view.channel, view.enabled, view.sender, view.configured_fields,
                       view.updated_at)


class ChannelSettingsController(Controller):
    path = "/api/v1/channels"
    tags = ("channels",)
    guards = (dealer_admin_only,)

    @get("/plugins")
    async def plugins(self, request: Request) -> list[PluginRead]:
        """Every installed channel, including third-party plugins."""
        return plugin_reads(request_locale(request))

    @get("/accounts")
    async def accounts(self, request: Request) -> list[AccountRead]:
        return [account_read(v) for v in await service.list_accounts(request.user.tenant_id)]

    @put("/accounts")
    async def save(self, request: Request, data: AccountSave) -> AccountRead:
        """Create or update the dealer's account for one channel (blank secrets are kept)."""
        try:
            view = await service.save_account(
                request.user.tenant_id, data.channel, enabled=data.enabled, sender=data.sender,
                settings=data.settings, priority=data.priority)
        except service.AccountInvalid as error:
            raise invalid(error.field, str(error)) from None
        return account_read(view)
