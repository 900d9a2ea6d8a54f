"""`newsflow serve --alert-webhook` sets up the alerts: setting them up again replaces
them, so the server holds one of each however often `serve` starts."""

from __future__ import annotations

import pytest
from prefect import get_client
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from newsflow.alerts import BLOCK_NAME, FAILED_NAME, LATE_NAME, ensure_alerts

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("prefect_server")]


def test_alerts_are_set_up_once_and_point_at_the_last_webhook() -> None:
    ensure_alerts("http://127.0.0.1:9/first")
    ids = ensure_alerts("http://127.0.0.1:9/second")
    with get_client(sync_client=True) as client:
        ours = [a for a in client.read_automations() if a.name in (FAILED_NAME, LATE_NAME)]
    assert sorted(a.id for a in ours) == sorted(ids)
    expects = {a.name: a.trigger.expect for a in ours}  # type: ignore[union-attr]
    assert expects == {
        FAILED_NAME: {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
        LATE_NAME: {"prefect.flow-run.Late"},
    }
    block = CustomWebhookNotificationBlock.load(BLOCK_NAME)
    assert block.url == "http://127.0.0.1:9/second"  # type: ignore[union-attr]
