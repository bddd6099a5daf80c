"""Display texts (English msgids, translated in the page) for stored codes."""

from __future__ import annotations


def _(text: str) -> str:
    """Marks a msgid for the catalogue; the page translates it when rendering."""
    return text


REASON_LABELS = {
    "first_maintenance": _("First maintenance"),
    "next_maintenance": _("Next maintenance"),
    "warranty_1m": _("Warranty ends in a month"),
    "warranty_2w": _("Warranty ends in two weeks"),
    "insurance_renewal": _("Insurance renewal"),
    "lapsed": _("Lapsed: free check offer"),
    "vehicle_birthday": _("Vehicle birthday"),
    "customer_birthday": _("Customer birthday"),
    "free_check": _("Yearly free check"),
    "declined_work": _("Declined work"),
    "no_contact": _("Six months without contact"),
}
STATUS_LABELS = {
    "open": _("Open"), "contacted": _("Contacted, no answer"), "accepted": _("Accepted"),
    "declined": _("Declined"), "visited": _("Visited"), "pending": _("Pending"),
    "held_out": _("Hold-out"), "suppressed": _("Not sent"), "replied": _("Replied"),
    "booked": _("Booked"), "done": _("Done"), "scheduled": _("Scheduled"),
    "running": _("Running"), "finished": _("Finished"),
}
OUTCOME_LABELS = {"accepted": _("Accepted"), "declined": _("Declined"),
                  "no_answer": _("No answer")}
SORT_LABELS = {"due_on": _("Due date"), "reason": _("Reason"), "target_on": _("Date"),
               "created_at": _("Created"), "name": _("Name")}
LABELS = {"reason_labels": REASON_LABELS, "status_labels": STATUS_LABELS,
          "outcome_labels": OUTCOME_LABELS, "sort_labels": SORT_LABELS}
