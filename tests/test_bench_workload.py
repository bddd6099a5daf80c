"""The load and soak benchmarks' request mix, run for a few seconds against the app: every
kind of request must still be answered as the benchmark expects (a changed form field,
route or signature would otherwise show up only as "errors" in a benchmark run)."""

from __future__ import annotations

import random

import httpx
import pytest

from bench._load_setup import prepare, sent_messages
from bench._workload import MIX, Call, Reply, Workload, open_loop
from dealerhub.platform.appointments.demo import equip_dealer
from dealerhub.platform.config import get_settings
from dealerhub.platform.tables import Dealer
from dealerhub.survey.seed import seed_bank
from dealerhub.tenants.demo_data import seed_customer_base
from tests.channels.conftest import deliver_outbox, twilio_api, twilio_config  # noqa: F401
from tests.conftest import PASSWORD

pytestmark = pytest.mark.anyio


def asgi_sender(client: httpx.AsyncClient):
    """A `Send` over the in-process client, bypassing its cookie jar like the benchmark."""

    async def send(call: Call) -> Reply:
        request = httpx.Request(call.method, client.base_url.join(call.path),
                                headers=call.headers, content=call.body or None)
        response = await client.send(request, follow_redirects=False)
        return Reply(response.status_code, response.headers.get_list("set-cookie"))

    return send


async def test_every_request_of_the_mix_succeeds(client, dealer_a, twilio_config) -> None:  # noqa: F811
    rng = random.Random(4)
    dealer = await Dealer.objects().where(Dealer.id == dealer_a.id).first()
    await seed_bank()
    await seed_customer_base(rng, [dealer], 30)
    await equip_dealer(dealer.id, rng)
    plans = await prepare({str(dealer.id): dealer_a.emails["service_advisor"]}, twilio_config,
                          invitations=40, messages=4)
    await deliver_outbox(dealer.id)
    assert await sent_messages(plans) > 0
    workload = Workload(plans, PASSWORD, get_settings().public_base_url,
                        twilio_config["auth_token"], seed=3)
    send = asgi_sender(client)
    await workload.sign_in(send)
    step = await open_loop(workload, send, rate=25, seconds=3)
    assert step.errors_by_kind() == {}
    assert {kind for kind, stats in step.kinds.items() if stats.count} == set(MIX)
