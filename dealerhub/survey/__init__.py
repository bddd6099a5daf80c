"""Quick-review surveys, lifecycle touchpoints, negative-feedback alerts and complaints."""
