"""The domain: plain Python, never temporalio."""
