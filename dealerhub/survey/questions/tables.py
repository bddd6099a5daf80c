"""The question bank: national questions (OEM) and a dealer's local questions.

A question is versioned: a revision is a new row with the same key and the next version,
and answers point at the row they answered, so old answers keep their meaning.
"""

from __future__ import annotations

from piccolo.columns import JSONB, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from dealerhub.platform.db import PlatformTable
from dealerhub.platform.tenancy import TenantTable

KINDS = ("rating", "nps", "yes_no", "choice", "text")
# The service chain (DOMAIN.md): P, steps 1-7, plus the overall judgement.
STEPS = ("retention", "appointment", "reception", "estimate", "repair", "care", "delivery",
         "follow_up", "overall")
ROLES = ("", "csat", "nps")


class QuestionColumns:
    key = Varchar(length=64)
    version = Integer(default=1)
    kind = Varchar(length=16)
    step = Varchar(length=16)
    role = Varchar(length=8, default="")
    text_zh = Text()
    text_en = Text()
    choices = JSONB(default=[])  # [{"value": "a", "zh": "…", "en": "…", "negative": false}]
    weight = SmallInt(default=1)
    status = Varchar(length=16, default="active")  # active | retired


class Question(QuestionColumns, PlatformTable, tablename="survey_question"):
    """A national question authored by headquarters."""


class LocalQuestion(QuestionColumns, TenantTable, tablename="survey_local_question"):
    """A question one dealer added for its own customers."""

    created_at = Timestamptz(default=TimestamptzNow())
