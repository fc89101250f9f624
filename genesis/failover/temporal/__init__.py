"""The Temporal client side."""
