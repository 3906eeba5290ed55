"""Query functions. Row locks live here; nothing here commits."""
