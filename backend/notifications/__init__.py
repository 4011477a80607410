"""Notifications (NOTIF-01..06, USER-03/04): contact methods, rules, delivery, providers."""
