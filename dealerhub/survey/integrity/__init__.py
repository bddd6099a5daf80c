"""Survey: integrity."""
