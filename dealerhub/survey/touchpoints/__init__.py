"""Survey: touchpoints."""
