"""The benchmark harness: how fast HMS is, how far it scales, measured (see bench/README.md)."""
