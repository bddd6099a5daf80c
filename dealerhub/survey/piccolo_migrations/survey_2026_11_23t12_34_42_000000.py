"""Tenant keys, composite foreign keys, row-level security and indexes for surveys."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from dealerhub.platform.db import engine
from dealerhub.platform.tenancy import apply_tenant_rules

ID = "2026-11-23T12:34:42:000000"
VERSION = "1.38.0"
DESCRIPTION = "survey tenant rules"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def tenant_rules_and_indexes() -> None:
        await apply_tenant_rules("survey_local_question", unique=[("key", "version")])
        await apply_tenant_rules(
            "survey_invitation",
            references={"customer_id": "customer"},
            indexes=[("customer_id", "created_at"), ("status", "due_at"), ("created_at",),
                     ("rule_id", "status")],
        )
        await apply_tenant_rules(
            "survey_answer",
            references={"invitation_id": "survey_invitation", "customer_id": "customer"},
            indexes=[("customer_id", "answered_at"), ("answered_at",)],
            unique=[("invitation_id", "question_key")],
        )
        await apply_tenant_rules(
            "survey_complaint",
            references={"customer_id": "customer"},
            indexes=[("status", "opened_at"), ("customer_id", "opened_at")],
        )
        await apply_tenant_rules(
            "survey_complaint_log",
            references={"complaint_id": "survey_complaint"},
            indexes=[("complaint_id", "at")],
        )
        await apply_tenant_rules("survey_alert", indexes=[("created_at",)])
        await apply_tenant_rules(
            "survey_touchpoint",
            references={"customer_id": "customer"},
            indexes=[("status", "due_at"), ("customer_id", "due_at")],
        )
        run = engine().run_ddl
        await run("create unique index survey_question_key_version_uq "
                  "on survey_question (key, version)")
        await run("create index survey_trigger_rule_event_ix on survey_trigger_rule (event_type)")
        await run("create unique index survey_response_fact_invitation_uq "
                  "on survey_response_fact (tenant_id, invitation_id)")
        await run("create index survey_response_fact_on_ix "
                  "on survey_response_fact (answered_on)")

    manager.add_raw(tenant_rules_and_indexes)
    return manager
