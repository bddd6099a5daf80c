"""Survey: results."""
