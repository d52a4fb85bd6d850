"""tests/compat: WhiteNoise's test support files are run by whitenoise_suite.py, not collected."""

# WhiteNoise's own conftest.py (session-wide django.setup() with its settings)
# must never be loaded into this test run.
collect_ignore = ["whitenoise_upstream"]
