"""Timeline entries in words a merchant's team reads ("TikTok says the order is now shipped"), not
in the bridge's internals ("tiktok event topic 1 / job #6 orders.sync"). Pure functions."""

from __future__ import annotations

import json
from typing import Any

#: TikTok webhook ``type`` → what happened.
TIKTOK_TOPICS = {
    "1": "order status changed",
    "3": "buyer changed the shipping address",
    "4": "package updated",
    "5": "product status changed",
    "6": "seller de-authorized the app",
    "7": "authorization expires soon",
    "11": "cancellation updated",
    "12": "return or refund updated",
    "15": "product information changed",
    "16": "product created",
    "24": "FBT inventory updated",
    "27": "inventory status changed",
}

#: Job kind → the work, as a verb phrase.
JOBS = {
    "orders.sync": "sync the order to NetSuite",
    "orders.intake": "count new TikTok orders as sales for the stock buffer",
    "orders.poll": "ask TikTok for orders changed lately",
    "orders.deposit": "record the customer deposit in NetSuite",
    "orders.document_numbers": "read the new sales orders' document numbers",
    "orders.attribution": "show the affiliate commission on the sales order",
    "fulfillment.push": "send the shipment to TikTok",
    "fulfillment.tiktok": "record TikTok's shipment in NetSuite",
    "fulfillment.fbt_poll": "read FBT packages from TikTok",
    "fulfillment.sla": "check the shipping deadline",
    "cancellations.sync": "apply the cancellation in NetSuite",
    "cancellations.poll": "ask TikTok for cancellations",
    "returns.sync": "apply the return or refund in NetSuite",
    "returns.poll": "ask TikTok for returns",
    "settlement.import": "import TikTok statements",
    "settlement.statement": "import the statement",
    "settlement.post": "post the statement journal in NetSuite",
    "settlement.payout": "post the payout deposit in NetSuite",
    "settlement.recheck": "re-check the statement against NetSuite",
    "inventory.push": "update TikTok's stock",
    "monitoring.run": "run the monitors",
}

OUTCOMES = {
    "ok": "done",
    "retry": "failed, will retry",
    "needs_human": "stopped: needs a person (see the exception)",
    "fatal": "failed for good",
    "dead": "gave up after the last retry",
    "skipped": "skipped",
    "released": "handed back to the queue",
    "lease_lost": "interrupted (another worker took over)",
}

SYSTEMS = {"tiktok": "TikTok", "netsuite": "NetSuite"}


def job_words(kind: str) -> str:
    return JOBS.get(kind, kind.replace(".", ": ").replace("_", " "))


def webhook_words(source: str, topic: str, body: Any) -> str:
    """``TikTok: order status changed to AWAITING_SHIPMENT``."""
    if source != "tiktok":
        return f"{SYSTEMS.get(source, source.capitalize())} event {topic}".strip()
    what = TIKTOK_TOPICS.get(str(topic), f"event {topic or '?'}")
    doc: Any = body
    if isinstance(body, bytes | str):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
    data = doc.get("data") if isinstance(doc, dict) else None
    status = ""
    if isinstance(data, dict):
        status = str(data.get("order_status") or data.get("return_status") or data.get("cancel_status")
                     or data.get("package_status") or "")
    return f"TikTok: {what}" + (f" to {status}" if status else "")


def attempt_words(outcome: str) -> str:
    return OUTCOMES.get(outcome, outcome.replace("_", " "))


def call_words(system: str, operation: str, status: int | None, outcome: str) -> str:
    """``Asked NetSuite: record.get salesOrder — no such record yet (404)``."""
    who = SYSTEMS.get(system, system)
    if outcome == "ok":
        how = f"answered {status}" if status else "answered"
    elif outcome == "not_found":
        how = f"no such record yet ({status}), as expected before it is created"
    elif status is None:
        how = "no answer"
    else:
        how = f"refused ({status}, {attempt_words(outcome)})"
    return f"Asked {who}: {operation} — {how}"


__all__ = ["attempt_words", "call_words", "job_words", "webhook_words"]
