"""Answers: one row per (invitation, question key); a second submission adds nothing.
With them the two statements the public page's hot path needs (PostgreSQL): read the
invitation with its answers, and store a submission."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from piccolo.columns import UUID, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform import db
from dealerhub.platform.tables import EventOutbox
from dealerhub.platform.tenancy import TenantTable, insert_ctes, insert_rows, require_tenant
from dealerhub.survey.results.facts import FACT_COLUMNS, FACT_UPDATES, write_fact
from dealerhub.survey.triggers.tables import Invitation
from dealerhub.tenants.customers import service as customers


class Answer(TenantTable, tablename="survey_answer"):
    invitation_id = UUID()
    customer_id = UUID()
    question_id = UUID()
    question_key = Varchar(length=64)
    question_version = Integer(default=1)
    step = Varchar(length=16)
    kind = Varchar(length=16)
    value_int = SmallInt(null=True, default=None)
    value_text = Text(null=True, default=None)
    score = SmallInt(null=True, default=None)  # 0–100, comparable across kinds
    negative = Varchar(length=1, default="")  # "y" when this answer is negative feedback
    channel = Varchar(length=8, default="web")  # web | sms
    answered_at = Timestamptz(default=TimestamptzNow())


# An invitation with its answers as a JSON array, in one statement (PostgreSQL).
_WITH_ANSWERS_SQL = (
    "select " + ", ".join(f'i."{c._meta.db_column_name}"' for c in Invitation._meta.columns)
    + ", coalesce((select json_agg(a) from survey_answer a where a.tenant_id = i.tenant_id "
    "and a.invitation_id = i.id), '[]') as answered_json, "
    + customers.shares_phone_sql("i.tenant_id", "i.customer_id")
    + " as shares_phone from survey_invitation i where i.tenant_id = {} and i.id = {}")
_INVITATION_UPDATE_SQL = (
    "u as (update survey_invitation set status = {}, flags = {}::jsonb, answered_at = {}, "
    "client_ip = {} where tenant_id = {} and id = {})")
_FACT_UPSERT_SQL = (
    "f as (insert into survey_response_fact (" + ", ".join(FACT_COLUMNS) + ") values ("
    + ", ".join("{}::jsonb" if name in ("scores", "steps") else "{}" for name in FACT_COLUMNS)
    + ") on conflict (tenant_id, invitation_id) do update set "
    + ", ".join(f"{name} = excluded.{name}" for name in FACT_UPDATES) + ")")


class AnswerRaced(Exception):
    """Another submission of the invitation stored one of these answers first."""


@dataclass
class Answering:
    invitation: Invitation
    answers: list[dict[str, Any]]
    shares_phone: bool  # the customer's phone is on another customer too (integrity)


async def invitation_with_answers(invitation_id: uuid.UUID) -> Answering | None:
    """An invitation, the answers it has so far and what the integrity check needs of the
    customer (inside its tenant scope); one round trip on PostgreSQL."""
    if not db.is_postgres():
        row = await Invitation.objects_in_tenant().where(
            Invitation.id == invitation_id).output(load_json=True).first()
        if row is None:
            return None
        return Answering(
            row, await Answer.select_in_tenant().where(Answer.invitation_id == row.id),
            await customers.shares_phone(require_tenant(), row.customer_id))
    rows = await db.fetch(_WITH_ANSWERS_SQL, require_tenant(), invitation_id)
    if not rows:
        return None
    return Answering(db.row_to_instance(Invitation, rows[0]),
                     json.loads(rows[0]["answered_json"]), rows[0]["shares_phone"])


async def save_submission(invitation: Invitation, answers: list[dict[str, Any]],
                          event: dict[str, Any], fact: dict[str, Any] | None) -> None:
    """Store new answers with their event, the invitation's status, flags and client address,
    and the response fact (None: no fact, a complaint's confirmation) - one statement on
    PostgreSQL (inside the tenant scope). Raises AnswerRaced when the unique answer key
    (invitation, question) refuses an answer another submission stored meanwhile."""
    groups = ((Answer, answers), (EventOutbox, [event]))
    if not db.is_postgres():
        await insert_rows(*groups)
        await Invitation.update_in_tenant({
            Invitation.status: invitation.status, Invitation.flags: invitation.flags,
            Invitation.answered_at: invitation.answered_at,
            Invitation.client_ip: invitation.client_ip,
        }).where(Invitation.id == invitation.id)
        if fact is not None:
            await write_fact(fact)
        return
    parts, args = insert_ctes(*groups)
    parts.append(_INVITATION_UPDATE_SQL)
    args += [invitation.status, json.dumps(invitation.flags), invitation.answered_at,
             invitation.client_ip, require_tenant(), invitation.id]
    if fact is not None:
        parts.append(_FACT_UPSERT_SQL)
        args += [json.dumps(fact[name]) if name in ("scores", "steps") else fact[name]
                 for name in FACT_COLUMNS]
    try:
        await db.fetch("with " + ", ".join(parts) + " select 1", *args)
    except asyncpg.UniqueViolationError as raced:
        raise AnswerRaced(str(raced)) from raced
