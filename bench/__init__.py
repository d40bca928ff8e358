"""The benchmark harness: AMDIS measured side by side with peer servers (see README.md)."""
