"""Security: headers, sessions, CSRF, secrets in logs, the audit trail (issue #10)."""
