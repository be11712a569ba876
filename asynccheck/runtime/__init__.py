"""The dynamic half of asynccheck: a timing event loop, run-time blocking detection, reports."""
