"""The static half of asynccheck: discovery, one parse per file, rules, suppression, reports."""
