"""Survey: complaints."""
