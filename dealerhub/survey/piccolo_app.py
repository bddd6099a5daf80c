"""The survey component's Piccolo app."""

import os

from piccolo.conf.apps import AppConfig

from dealerhub.survey.answers.tables import Answer
from dealerhub.survey.complaints.tables import Alert, Complaint, ComplaintLog, Escalation
from dealerhub.survey.integrity.tables import FlagDecision, FlagReview
from dealerhub.survey.questions.tables import LocalQuestion, Question
from dealerhub.survey.results.tables import ResponseFact
from dealerhub.survey.touchpoints.tables import Touchpoint
from dealerhub.survey.triggers.tables import Invitation, TriggerRule

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="survey",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Question, LocalQuestion, TriggerRule, Invitation, Answer, Complaint,
                   ComplaintLog, Alert, Escalation, Touchpoint, ResponseFact, FlagReview,
                   FlagDecision],
    migration_dependencies=["dealerhub.channels.piccolo_app", "dealerhub.tenants.piccolo_app"],
    commands=[],
)
