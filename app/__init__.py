"""Entry points: what a person or a scheduler starts (the `newsflow` command, `newsflow
serve`'s deployment, the local Prefect server). The top layer: it imports the flow, and
nothing in newsflow/, tasks/, expectations/ or flows/ imports it (docs/decisions/0023)."""
