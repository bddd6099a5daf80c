"""English display texts (msgids) for the customer base's stored codes; pages translate them."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "category": {"potential": "Potential", "won": "Won (bought here)", "lost": "Lost",
                 "complaint": "Complaint"},
    "customer_type": {"value": "Value-oriented", "convenience": "Convenience-oriented",
                      "relationship": "Relationship-oriented"},
    "gender": {"male": "Male", "female": "Female"},
    "channel": {"sms": "SMS", "email": "E-mail", "voice": "Phone call", "wechat": "WeChat",
                "whatsapp": "WhatsApp", "letter": "Letter"},
    "purpose": {"service": "Service", "marketing": "Marketing"},
    "locale": {"zh-CN": "Chinese", "en": "English"},
    "ro_type": {"maintenance": "Maintenance visit", "repair": "Repair", "rework": "Rework",
                "warranty": "Warranty repair", "accident": "Accident repair",
                "insurance": "Insurance repair"},
    "staff": {"service_advisor": "Service advisor", "cs_agent": "CS agent",
              "sales_consultant": "Sales consultant", "insurance_advisor": "Insurance advisor",
              "service_manager": "Service manager", "general_manager": "General manager"},
    "import": {"customers": "Customers", "vehicles": "Vehicles",
               "repair_orders": "Repair orders (visit history)"},
    "import_status": {"queued": "Queued", "running": "Running", "done": "Done",
                      "failed": "Failed"},
    "sort": {"name": "Name", "last_visit": "Last visit", "created": "Date added",
             "spend": "Spent in 12 months"},
    "ro_status": {"open": "Open", "closed": "Closed"},
    "reading_source": {"manual": "Entered by hand", "repair_order": "Repair order",
                       "import": "DMS import"},
}


def label(kind: str, code: str | None) -> str:
    """The English text for a stored code (the code itself when unknown)."""
    if code is None:
        return ""
    return LABELS.get(kind, {}).get(code, code)
