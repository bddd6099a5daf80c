"""Appointments: capacity-aware booking from every channel, reminders, the day board and
arrival to repair order. Other components use `dealerhub.platform.appointments.service`."""
