"""The end-to-end fixtures (real Prefect server, `newsflow serve`), see fixtures.py."""

from tests.e2e.fixtures import prefect_api, served_deployment

__all__ = ["prefect_api", "served_deployment"]
