"""The rules of diagnosis, one module per family of failure (nodes, storage, autoscaling, jobs, pods,
scheduling, workloads and rollouts, network and DNS, dependencies, what the alert alone says), each a function
`rule(reader) -> Diagnosis | None` over what triage read; bot.triage.diagnosis orders them."""
