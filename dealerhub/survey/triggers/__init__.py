"""Survey: triggers."""
