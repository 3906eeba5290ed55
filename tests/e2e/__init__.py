"""Browser journeys: a package, so that its package-scoped servers stop when it ends."""
