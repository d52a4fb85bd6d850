"""Drop-in replacements for other static-file libraries' APIs (see ``compat.whitenoise``)."""
