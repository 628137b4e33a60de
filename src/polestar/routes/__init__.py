"""Routes: YAML pipelines of small steps from inputs to outputs, on the bus."""
