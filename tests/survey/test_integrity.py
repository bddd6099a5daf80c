"""Answers that look staged are flagged for headquarters, kept, and left out of the results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dealerhub.platform.tables import AuditLog
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers import service as answers
from dealerhub.survey.answers.tables import Answer
from dealerhub.survey.integrity.service import Submission
from dealerhub.survey.results import service as results
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.staff.schemas import StaffCreate
from dealerhub.tenants.staff.service import create_staff
from tests.survey.conftest import invited, visited_customer
from tests.tenants.factories import make_phone

pytestmark = pytest.mark.anyio
PERFECT = {"overall.csat": "5", "care.updates": "5"}


async def _invite(dealer, advisor=None, **customer_fields) -> Invitation:
    return await invited(dealer.id, [*PERFECT, "overall.comment"], advisor, **customer_fields)


async def _flags(dealer, row: Invitation) -> list[str]:
    async with tenant_scope(dealer.id, write=False):
        return list((await Invitation.get_in_tenant(row.id)).flags or [])


def _token(dealer, row: Invitation) -> str:
    return triggers.survey_token(dealer.id, row.id)


async def test_one_phone_on_several_customers(dealer_a, bank) -> None:
    phone = make_phone()
    await visited_customer(dealer_a.id, phone=phone)
    row = await _invite(dealer_a, phone=phone)
    await answers.submit(_token(dealer_a, row), PERFECT, Submission())
    assert "shared_phone" in str(await _flags(dealer_a, row))


async def test_answers_from_the_dealers_network_or_devices(dealer_a, bank) -> None:
    await AuditLog.insert(AuditLog(user_id=dealer_a.users["service_advisor"],
                                   tenant_id=dealer_a.id, action="POST", target="/x",
                                   status_code=200, ip="10.8.0.7"))
    from_network = await _invite(dealer_a)
    await answers.submit(_token(dealer_a, from_network), PERFECT, Submission("web", "10.8.0.7"))
    from_device = await _invite(dealer_a)
    await answers.submit(_token(dealer_a, from_device), PERFECT,
                         Submission("web", "203.0.113.9", staff_session=True))
    clean = await _invite(dealer_a)
    await answers.submit(_token(dealer_a, clean), PERFECT, Submission("web", "203.0.113.9"))
    assert "dealer_network" in str(await _flags(dealer_a, from_network))
    assert "dealer_device" in str(await _flags(dealer_a, from_device))
    assert await _flags(dealer_a, clean) == []


async def test_clusters_of_perfect_scores_for_one_advisor(dealer_a, bank) -> None:
    advisor = (await create_staff(dealer_a.id, StaffCreate(name="王顾问",
                                                           kind="service_advisor"))).id
    rows = [await _invite(dealer_a, advisor=advisor) for _ in range(5)]
    for row in rows:
        await answers.submit(_token(dealer_a, row), PERFECT, Submission())
    assert await _flags(dealer_a, rows[0]) == []
    assert "advisor_cluster" in str(await _flags(dealer_a, rows[-1]))


async def test_messages_asking_for_a_top_score(dealer_a, bank) -> None:
    row = await _invite(dealer_a)
    await answers.submit(_token(dealer_a, row),
                         {**PERFECT, "overall.comment": "顾问让我一定给满分"}, Submission())
    assert "solicited" in str(await _flags(dealer_a, row))


async def test_flagged_answers_are_kept_but_shown_apart(dealer_a, bank) -> None:
    row = await _invite(dealer_a)
    await answers.submit(_token(dealer_a, row), {**PERFECT, "overall.comment": "请给五星好评"},
                         Submission())
    async with tenant_scope(dealer_a.id, write=False):
        assert await Answer.count_in_tenant().where(Answer.invitation_id == row.id) == 3
    found = await results.dealer_results(dealer_a.id, 30,
                                         today=datetime.now(UTC).date() + timedelta(days=1))
    assert found.summary.flagged >= 1
    flagged = await results.flagged_invitations(dealer_a.id)
    assert row.id in {f.id for f in flagged}
