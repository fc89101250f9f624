"""Deployment: the compose stack, the worker's image, the systemd unit, TLS to a real cluster."""
