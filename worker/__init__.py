"""The worker process: load config once, build clients from the environment, run."""
