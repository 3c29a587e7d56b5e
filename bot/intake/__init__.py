"""Alert intake: webhooks parse alerts, the Redis Stream keeps them, workers turn them into incidents and cards."""
