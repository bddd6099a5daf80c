"""Campaign targeting: standard due lists, segments, dealer and OEM campaigns with two-step
contact and hold-out groups, response attribution and the month-end export."""
