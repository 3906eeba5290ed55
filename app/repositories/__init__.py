"""Query functions. The row locks live here; nothing here commits."""
