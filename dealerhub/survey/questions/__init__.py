"""Survey: questions."""
