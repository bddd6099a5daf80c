"""The core every component stands on, and the platform's shared services."""
