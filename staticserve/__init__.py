"""staticserve: serve static files from the application process."""
