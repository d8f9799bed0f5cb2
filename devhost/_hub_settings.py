"""The emulator's hub settings derived from the app's functions, as the azd post-deploy hook sets them in Azure.

Each hub the app listens on gets the system events it has functions for (any namespace), and no others: the
extension answers 404 to an event without a function, which the service logs as a failure (and a 404 on
``connect`` refuses every socket). Read from the dev host's ``Functions:`` listing, the stable part of its
output, and applied with the official client through the emulator's hub settings route (docs/emulator.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SYSTEM_EVENTS = ("connect", "connected", "disconnected")
_LISTED = re.compile(r"^\s*\S+: socketiotrigger \(hub=(?P<hub>[^,]+), namespace=[^,]*, event=(?P<event>[^)]*)\)\s*$")
LISTING_START = "Functions:"


def last_listing(lines: Iterable[str]) -> list[str]:
    """The lines of the last ``Functions:`` listing in a dev host's output (a restart prints a new one)."""
    result: list[str] = []
    for line in lines:
        if line.strip() == LISTING_START:
            result = []
        result.append(line)
    return result


def system_events_by_hub(listing: Iterable[str]) -> dict[str, list[str]]:
    """Hub -> the system events it has functions for (sorted), for every hub a ``socketiotrigger`` listens on."""
    hubs: dict[str, set[str]] = {}
    for line in listing:
        match = _LISTED.match(line)
        if match:
            events = hubs.setdefault(match["hub"], set())
            if match["event"].lower() in SYSTEM_EVENTS:
                events.add(match["event"].lower())
    return {hub: sorted(events) for hub, events in hubs.items()}


def apply(connection_string: str, events_by_hub: dict[str, list[str]]) -> None:
    """PUT each hub's system events on the emulator named by ``connection_string`` (its other settings stay)."""
    from azure.core.rest import HttpRequest
    from azure.messaging.webpubsubservice import WebPubSubServiceClient

    for hub, events in events_by_hub.items():
        with WebPubSubServiceClient.from_connection_string(connection_string, hub=hub) as client:
            response = client.send_request(HttpRequest("PUT", f"/admin/hubs/{hub}", json={"systemEvents": events}))
            if response.status_code != 200:
                raise RuntimeError(
                    f"the emulator refused the settings of hub {hub!r}: {response.status_code} {response.text()}"
                )
