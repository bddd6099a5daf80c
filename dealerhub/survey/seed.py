"""The national question bank and trigger rules every installation starts with."""

from __future__ import annotations

from dealerhub.survey.questions import service as questions
from dealerhub.survey.questions.schemas import QuestionWrite
from dealerhub.survey.questions.tables import Question
from dealerhub.survey.triggers import service as triggers
from dealerhub.survey.triggers.tables import TriggerRule

# Each question: key, kind, step, role, zh-CN text, English text, weight.
NATIONAL = [
    ("overall.csat", "rating", "overall", "csat", "总体而言，您对本次服务满意吗？",
     "Overall, how satisfied are you with this visit?", 5),
    ("overall.nps", "nps", "overall", "nps", "您有多大可能把我们推荐给亲友？",
     "How likely are you to recommend us to a friend?", 3),
    ("retention.reminder_useful", "rating", "retention", "", "我们的保养提醒对您有帮助吗？",
     "How useful was our maintenance reminder?", 1),
    ("appointment.easy", "rating", "appointment", "", "预约是否方便？",
     "How easy was it to book your appointment?", 2),
    ("reception.prompt", "rating", "reception", "", "到店后是否得到及时接待？",
     "Were you received promptly when you arrived?", 2),
    ("estimate.clear", "yes_no", "estimate", "", "维修前是否向您说明了项目和费用？",
     "Were the work and the price explained before the repair?", 2),
    ("repair.fixed", "yes_no", "repair", "", "车辆问题是否一次修好？",
     "Was the problem fixed the first time?", 2),
    ("care.updates", "rating", "care", "", "维修期间是否及时告知进度？",
     "Did we keep you updated while you waited?", 2),
    ("delivery.explained", "rating", "delivery", "", "交车时是否清楚讲解了所做的工作？",
     "Was the work explained clearly when you collected the car?", 2),
    ("followup.fixed_first_time", "yes_no", "follow_up", "", "维修后车辆使用正常吗？",
     "Has the car been working well since the visit?", 1),
    ("overall.comment", "text", "overall", "", "还有什么想告诉我们的吗？",
     "Anything else you would like to tell us?", 1),
    ("complaint.resolved_ok", "yes_no", "follow_up", "", "您的问题是否已得到满意解决？",
     "Has your complaint been resolved to your satisfaction?", 1),
]
QUICK_POOL = ["overall.csat", "overall.nps", "reception.prompt", "estimate.clear",
              "repair.fixed", "care.updates", "delivery.explained", "overall.comment"]
APPOINTMENT_POOL = ["appointment.easy", "reception.prompt", "retention.reminder_useful",
                    "overall.csat"]


async def seed_bank() -> bool:
    """Create the national bank and rules unless a bank exists; returns whether it did."""
    if await Question.count() > 0:
        return False
    for key, kind, step, role, zh, en, weight in NATIONAL:
        await questions.save_national(QuestionWrite(key=key, kind=kind, step=step, role=role,
                                                    text_zh=zh, text_en=en, weight=weight))
    if await TriggerRule.count() == 0:
        await triggers.save_rule(triggers.RuleWrite(
            "After a repair order", "repair_order.closed", [(k, 1) for k in QUICK_POOL],
            delay_minutes=120))
        await triggers.save_rule(triggers.RuleWrite(
            "After an appointment", "appointment.completed",
            [(k, 1) for k in APPOINTMENT_POOL], delay_minutes=60))
    return True
