"""The sandbox: real local backends on loopback, loaded from scenario files.

Redis, Prometheus, Alertmanager, an Elasticsearch-API server and our Kubernetes API emulator.
"""
