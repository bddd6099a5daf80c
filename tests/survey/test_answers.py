"""Both answer paths: the public page behind a signed, expiring link, and SMS digits."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest

from dealerhub.platform import audit, events
from dealerhub.platform.tables import AuditLog
from dealerhub.platform.tenancy import tenant_scope
from dealerhub.survey.answers import service as answers
from dealerhub.survey.answers.tables import Answer
from dealerhub.survey.complaints.tables import Alert, Complaint
from dealerhub.survey.integrity.service import Submission
from dealerhub.survey.questions import service as questions
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.tables import Invitation
from tests.conftest import login_page_session
from tests.survey.conftest import payloads, run_consumer, sent_invitation

pytestmark = pytest.mark.anyio


def _path(row: Invitation) -> str:
    return f"/c/survey/{triggers.survey_token(row.tenant_id, row.id)}"


async def _form(client, path: str, values: dict[str, str]):
    """What a phone does: open the page, send the form (no hidden fields, no cookies)."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return await client.post(path, data=values)


def _good_values(row: Invitation) -> dict[str, str]:
    kinds = {"overall.comment": "很好", "estimate.clear": "1", "repair.fixed": "1",
             "overall.nps": "10"}
    return {f"q_{q['key']}": kinds.get(q["key"], "5") for q in row.questions}


async def _answers(tenant_id, invitation_id) -> list[dict]:
    async with tenant_scope(tenant_id, write=False):
        return await Answer.select_in_tenant().where(Answer.invitation_id == invitation_id)


async def test_page_shows_the_questions_and_records_answers_once(client, dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    path = _path(row)
    page = await client.get(path, headers={"accept-language": "en"})
    assert page.status_code == 200
    for ref in row.questions:
        assert f'name="q_{ref["key"]}"' in page.text
    assert "<script" not in page.text  # works without JavaScript
    response = await _form(client, path, _good_values(row))
    assert (response.status_code == 200 and "Thank you" in response.text) or "谢谢" in response.text
    assert len(await _answers(dealer_a.id, row.id)) == len(row.questions)
    again = await _form(client, path, _good_values(row))  # a reused link
    assert again.status_code in (200, 409)
    assert len(await _answers(dealer_a.id, row.id)) == len(row.questions)
    answered = await payloads(dealer_a.id, "survey.answered")
    mine = [p for p in answered if p["invitation_id"] == str(row.id)]
    assert len(mine) == 1 and mine[0]["complete"] is True
    async with tenant_scope(dealer_a.id, write=False):
        assert (await Invitation.get_in_tenant(row.id)).status == "answered"


async def test_the_page_sets_no_cookie_and_its_answers_are_audited(client, dealer_a,
                                                                   bank) -> None:
    """No session and no CSRF cookie: the signed link is the credential (a phone that
    refuses cookies can answer); each answer still leaves an audit record."""
    row = await sent_invitation(dealer_a.id)
    path = _path(row)
    page = await client.get(path)
    assert "set-cookie" not in page.headers and "_csrf_token" not in page.text
    client.cookies.clear()
    response = await client.post(path, data=_good_values(row))
    assert response.status_code == 200 and "set-cookie" not in response.headers
    await audit.flush_reads()
    rows = await AuditLog.select(AuditLog.status_code).where(
        AuditLog.target == path, AuditLog.action == "POST")
    assert [r["status_code"] for r in rows] == [200]


async def test_answers_from_a_signed_in_staff_browser_are_flagged(client, dealer_a,
                                                                  bank) -> None:
    row = await sent_invitation(dealer_a.id)
    await login_page_session(client, dealer_a.emails["service_advisor"])
    response = await _form(client, _path(row), _good_values(row))
    assert response.status_code == 200
    async with tenant_scope(dealer_a.id, write=False):
        assert "dealer_device" in (await Invitation.get_in_tenant(row.id)).flags


async def test_two_submissions_at_the_same_moment_count_once(dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    values = {key[2:]: value for key, value in _good_values(row).items()}
    token = triggers.survey_token(dealer_a.id, row.id)
    outcomes = await asyncio.gather(*(answers.submit(token, values, Submission())
                                      for _ in range(2)), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["AlreadyAnswered", "SurveyView"]
    assert len(await _answers(dealer_a.id, row.id)) == len(row.questions)
    answered = await payloads(dealer_a.id, "survey.answered")
    assert len([p for p in answered if p["invitation_id"] == str(row.id)]) == 1


async def test_partial_answers_are_kept_and_completed_later(client, dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    values = _good_values(row)
    first_key = next(iter(values))
    response = await _form(client, _path(row), {first_key: values[first_key]})
    assert response.status_code == 200
    async with tenant_scope(dealer_a.id, write=False):
        assert (await Invitation.get_in_tenant(row.id)).status == "partial"
    # the whole form again: the first answer is not counted twice
    await _form(client, _path(row), values)
    stored = await _answers(dealer_a.id, row.id)
    assert sorted(a["question_key"] for a in stored) == sorted(q["key"] for q in row.questions)


async def test_out_of_range_and_long_text_are_400_naming_the_field(client, dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    numeric = next(q["key"] for q in row.questions if q["key"] != "overall.comment")
    response = await _form(client, _path(row), {f"q_{numeric}": "11"})
    assert response.status_code == 400 and f"q_{numeric}" in response.text
    with pytest.raises(Exception) as raised:
        await answers.submit(triggers.survey_token(dealer_a.id, row.id),
                             {numeric: "-1"}, answers.Submission())
    assert f"q_{numeric}" in str(raised.value)
    question = await questions.active_by_key(["overall.comment"])
    with pytest.raises(Exception) as scored_too_long:
        questions.score_answer(question["overall.comment"], "字" * 2001, "q_overall.comment")
    assert "2000" in str(scored_too_long.value)
    assert not await _answers(dealer_a.id, row.id)


async def test_expired_tampered_and_unsent_links(client, dealer_a, bank, monkeypatch) -> None:
    row = await sent_invitation(dealer_a.id)
    token = triggers.survey_token(dealer_a.id, row.id)
    tampered = token.rsplit(".", 1)[0] + "." + "A" * 27
    assert (await client.get(f"/c/survey/{tampered}")).status_code == 400
    other = triggers.survey_token(dealer_a.id, uuid.uuid4())
    assert (await client.get(f"/c/survey/{other}")).status_code == 400
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 31 * 86400)
    old = triggers.survey_token(dealer_a.id, row.id)
    monkeypatch.setattr(time, "time", real_time)
    assert (await client.get(f"/c/survey/{old}")).status_code == 410


async def test_a_question_removed_after_sending(client, dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    removed = row.questions[0]["key"]
    await questions.retire_national(removed)
    try:
        page = await client.get(_path(row))
        assert f'name="q_{removed}"' not in page.text
        response = await _form(client, _path(row), {f"q_{removed}": "5"})
        assert response.status_code == 400 and f"q_{removed}" in response.text
        rest = {k: v for k, v in _good_values(row).items() if k != f"q_{removed}"}
        assert (await _form(client, _path(row), rest)).status_code == 200
        async with tenant_scope(dealer_a.id, write=False):
            assert (await Invitation.get_in_tenant(row.id)).status == "answered"
    finally:
        from dealerhub.survey.questions.tables import Question

        latest = await Question.objects().where(Question.key == removed).order_by(
            Question.version, ascending=False).first()
        await Question.update({Question.status: "active"}).where(Question.id == latest.id)
        questions.forget_cached_bank()


async def _reply(tenant_id, row: Invitation, digit: int) -> None:
    async with tenant_scope(tenant_id):
        await events.emit("sms.reply_digit", {
            "message_id": row.message_id, "customer_id": row.customer_id, "digit": digit,
            "related": {"survey_invitation_id": str(row.id)}})
    await run_consumer(tenant_id, "sms.reply_digit", "survey.sms_digit")


async def test_sms_digits_answer_question_by_question(dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    bank_rows = await questions.active_by_key([q["key"] for q in row.questions])
    digit_keys = [q["key"] for q in row.questions if bank_rows[q["key"]].kind in
                  triggers.SMS_KINDS]
    for key in digit_keys[:2]:
        await _reply(dealer_a.id, row, 1 if bank_rows[key].kind == "yes_no" else 4)
    stored = await _answers(dealer_a.id, row.id)
    # each reply is handled once, and each answers the next unanswered question
    assert [a["question_key"] for a in sorted(stored, key=lambda a: a["answered_at"])] == \
        digit_keys[:len(stored)]
    assert all(a["channel"] == "sms" for a in stored)
    assert len(stored) == min(2, len(digit_keys))


async def test_sms_digit_out_of_range_is_not_recorded(dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    outcome = await answers.record_digit(dealer_a.id, row.id, 42, datetime.now(UTC))
    assert outcome.startswith("refused")
    assert not await _answers(dealer_a.id, row.id)


async def test_negative_answer_alerts_and_opens_a_complaint(client, dealer_a, bank) -> None:
    row = await sent_invitation(dealer_a.id)
    values = {k: ("1" if k != "q_overall.comment" else "等了三个小时没人理") for k in
              _good_values(row)}
    values = {k: ("0" if v == "1" and k in ("q_estimate.clear", "q_repair.fixed") else v)
              for k, v in values.items()}
    values = {k: ("2" if k == "q_overall.nps" else v) for k, v in values.items()}
    assert (await _form(client, _path(row), values)).status_code == 200
    async with tenant_scope(dealer_a.id, write=False):
        complaint = await Complaint.objects_in_tenant().where(
            Complaint.invitation_id == row.id).first()
        alert = await Alert.objects_in_tenant().where(Alert.complaint_id == complaint.id).first()
    assert complaint.status == "open" and complaint.source == "survey"
    assert alert.kind == "negative_feedback"
    if "q_overall.comment" in values:
        assert "等了三个小时没人理" in complaint.verbatim
    assert [p for p in await payloads(dealer_a.id, "feedback.negative")
            if p["invitation_id"] == str(row.id)]
