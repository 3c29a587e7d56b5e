"""Tests of the sandbox: the scenario format, the Kubernetes emulator, Prometheus history and live series."""
