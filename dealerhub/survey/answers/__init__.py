"""Survey: answers."""
