"""Alerts: Prefect automations that notify a webhook when a newsflow run fails, crashes
or is Late (a scheduled run nobody picked up: `serve` or the worker is down).

The automations live on the Prefect server and its actions service sends the
notification, so they fire whatever process ran (or failed to run) the flow. The
webhook is a `CustomWebhookNotificationBlock` (plain HTTP POST, works offline): its
JSON body is `{"subject": …, "body": …}`, which chat tools' incoming webhooks and a
small receiver alike accept. `newsflow serve --alert-webhook URL` sets them up;
setting them up again replaces them (one of each, by name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from prefect.events.schemas.automations import AutomationCore

FLOW_NAME = "newsflow"
BLOCK_NAME = "newsflow-alerts"
FAILED_NAME = "newsflow: run failed or crashed"
LATE_NAME = "newsflow: scheduled run is late"
# Prefect's templates: `flow_run` is the run the event is about.
BODY = (
    "Flow run {{ flow.name }}/{{ flow_run.name }} is {{ flow_run.state.name }}"
    " ({{ flow_run.state.timestamp }}).\n"
    "Message: {{ flow_run.state.message }}\n"
    "Flow run ID: {{ flow_run.id }}\n"
    "URL: {{ flow_run|ui_url }}"
)


def alert_automations(block_document_id: UUID) -> list[AutomationCore]:
    """The automations (not yet saved): Failed or Crashed, and Late, for runs of the
    newsflow flow, each sending one notification through the block."""
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    def on(events: set[str], name: str, subject: str) -> AutomationCore:
        return AutomationCore(
            name=name,
            description="Created by `newsflow serve --alert-webhook` (newsflow/alerts.py)",
            trigger=EventTrigger(
                expect=events,
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={"prefect.resource.role": "flow", "prefect.resource.name": FLOW_NAME},
                posture=Posture.Reactive,
                threshold=1,
                within=0,
            ),
            actions=[
                SendNotification(block_document_id=block_document_id, subject=subject, body=BODY)
            ],
        )

    return [
        on(
            {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
            FAILED_NAME,
            "newsflow run {{ flow_run.name }} {{ flow_run.state.name }}",
        ),
        on(
            {"prefect.flow-run.Late"},
            LATE_NAME,
            "newsflow run {{ flow_run.name }} is Late: nothing is running the schedule",
        ),
    ]


def ensure_alerts(webhook_url: str) -> list[UUID]:
    """Save the webhook block and (re)create the automations; their ids."""
    from prefect import get_client
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(
        name=BLOCK_NAME,
        url=webhook_url,
        method="POST",
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
    )
    block_id = UUID(str(block.save(BLOCK_NAME, overwrite=True)))  # sync here: a UUID
    ids = []
    with get_client(sync_client=True) as client:
        for automation in alert_automations(block_id):
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            ids.append(client.create_automation(automation))
    return ids
