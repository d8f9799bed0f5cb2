"""Hub system events derived from the dev host's Functions: listing (devhost._hub_settings)."""

from __future__ import annotations

from devhost._hub_settings import last_listing, system_events_by_hub

LISTING = """Functions:

        negotiate: [GET] http://127.0.0.1:7071/api/negotiate
        on_connect: socketiotrigger (hub=chat, namespace=/, event=connect)
        on_connect_ns: socketiotrigger (hub=chat, namespace=/ns, event=connect)
        on_gone: socketiotrigger (hub=chat, namespace=/ns, event=Disconnected)
        echo: socketiotrigger (hub=chat, namespace=/, event=echo)
        board_msg: socketiotrigger (hub=whiteboard, namespace=/, event=newMessage)
""".splitlines()


def test_system_events_per_hub_from_any_namespace_case_insensitively() -> None:
    assert system_events_by_hub(LISTING) == {"chat": ["connect", "disconnected"], "whiteboard": []}


def test_the_last_listing_wins_after_a_restart() -> None:
    output = [
        "[x] noise",
        *LISTING,
        "Restarted: 1: PID 2.",
        "Functions:",
        "        c: socketiotrigger (hub=h, namespace=/, event=connected)",
    ]
    assert system_events_by_hub(last_listing(output)) == {"h": ["connected"]}
    assert system_events_by_hub(last_listing(["no listing"])) == {}
