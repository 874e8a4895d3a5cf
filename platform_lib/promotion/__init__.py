"""Moving infrastructure and models between environments: pull-request summaries, `mlp promote`, `mlp rollback`."""
