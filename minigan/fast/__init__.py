"""The speed schedule: how minigan's layers run fast on a CPU, kept apart from the plain layers."""
