"""Timer and queue triggers: what the dev host hands the worker, pinned to the host's shapes (docs/devhost.md
"Triggers") and read back with azure.functions' own decoders, the ones the Python worker uses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import azure.functions as func
import pytest
from azure.functions.meta import Datum
from azure.functions.queue import QueueMessageInConverter, QueueMessageOutConverter
from azure.functions.timer import TimerRequestConverter
from azure.storage.queue import QueueMessage

from devhost import Settings
from devhost._functions import FunctionInfo
from devhost._ncrontab import parse_schedule
from devhost._protos import RpcFunctionMetadata
from devhost._queues import QueuesOptions, TypedValue, decode_content, encode_content, messages_of, trigger_input
from devhost._settings import SettingsError
from devhost._singleton import SingletonOptions
from devhost._timers import ScheduleStatus, dotnet_datetime, timer_request_json
from devhost._triggers import TriggerOptions, discover

# The host's TimerInfo as the worker receives it (TypedData json), as azure-functions' own decoder test has it.
HOST_SAMPLE = (
    '{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2022-03-28T15:40:00.0105419-05:00",'
    '"Next":"2022-03-28T15:45:00-05:00","LastUpdated":"2022-03-28T15:40:00.0105419-05:00"},"IsPastDue":false}'
)


def _decode_timer(text: str) -> func.TimerRequest:
    request = TimerRequestConverter.decode(Datum(text, "json"), trigger_metadata={})
    assert isinstance(request, func.TimerRequest)
    return request


def _shape(value: object) -> object:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


def test_timer_request_json_is_the_hosts_timerinfo_byte_for_byte() -> None:
    status = ScheduleStatus(next=datetime(2026, 12, 2, 17, 5, tzinfo=UTC))
    text = timer_request_json(parse_schedule("0 */5 * * * *"), status)
    assert text == (
        '{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"0001-01-01T00:00:00+00:00",'
        '"Next":"2026-12-02T17:05:00+00:00","LastUpdated":"0001-01-01T00:00:00+00:00"},"IsPastDue":false}'
    )
    # Same keys, order and value types as the host's serialization.
    assert list(json.loads(text)) == list(json.loads(HOST_SAMPLE))
    assert _shape(json.loads(text)) == _shape(json.loads(HOST_SAMPLE))
    request = _decode_timer(text)
    assert request.past_due is False
    assert request.schedule == {"AdjustForDST": True}
    assert request.schedule_status["Next"] == "2026-12-02T17:05:00+00:00"


def test_timer_request_without_monitor_has_null_status_and_timespans_do_not_adjust_for_dst() -> None:
    text = timer_request_json(parse_schedule("00:00:05"), None)
    assert text == '{"Schedule":{"AdjustForDST":false},"ScheduleStatus":null,"IsPastDue":false}'
    request = _decode_timer(text)
    assert request.schedule_status == {} and request.schedule == {"AdjustForDST": False}
    assert _decode_timer(timer_request_json(parse_schedule("* * * * * *"), None, is_past_due=True)).past_due is True


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 12, 2, 17, 0, 1, tzinfo=UTC), "2026-12-02T17:00:01+00:00"),
        (datetime(2026, 12, 2, 17, 0, 1, 500000, tzinfo=UTC), "2026-12-02T17:00:01.5+00:00"),
        (datetime(2026, 12, 2, 17, 0, 1, 10541, tzinfo=UTC), "2026-12-02T17:00:01.010541+00:00"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00+00:00"),
    ],
)
def test_dates_are_written_as_newtonsoft_writes_a_local_datetime_on_a_utc_host(moment: datetime, text: str) -> None:
    assert dotnet_datetime(moment) == text


def _message() -> QueueMessage:
    message = QueueMessage(content="aGVsbG8=")
    message.id = "b0e1c2d3-0000-4000-8000-000000000001"
    message.pop_receipt = "AgAAAAMAAAAAAAAA"
    message.dequeue_count = 2
    message.inserted_on = datetime(2026, 12, 2, 17, 0, 0, tzinfo=UTC)
    message.expires_on = message.inserted_on + timedelta(days=7)
    message.next_visible_on = message.inserted_on + timedelta(minutes=10)
    return message


def test_queue_trigger_input_decodes_to_the_workers_queue_message_with_every_metadata_field() -> None:
    message = _message()
    data, metadata = trigger_input(message, b"hello", binary=False)
    assert data == TypedValue("string", "hello")
    assert sorted(metadata) == [
        "DequeueCount",
        "ExpirationTime",
        "Id",
        "InsertionTime",
        "NextVisibleTime",
        "PopReceipt",
        "QueueTrigger",
    ]
    assert metadata["DequeueCount"] == TypedValue("int", 2)
    assert metadata["InsertionTime"] == TypedValue("json", '"2026-12-02T17:00:00+00:00"')
    decoded = QueueMessageInConverter.decode(
        Datum(data.value, data.type), trigger_metadata={k: Datum(v.value, v.type) for k, v in metadata.items()}
    )
    assert isinstance(decoded, func.QueueMessage)
    assert decoded.get_body() == b"hello"
    assert decoded.id == message.id and decoded.pop_receipt == message.pop_receipt
    assert decoded.dequeue_count == 2
    assert decoded.insertion_time == message.inserted_on
    assert decoded.expiration_time == message.expires_on
    assert decoded.time_next_visible == message.next_visible_on
    binary, _ = trigger_input(message, b"\xff\x00", binary=True)
    assert binary == TypedValue("bytes", b"\xff\x00")


@pytest.mark.parametrize(
    ("value", "messages"),
    [
        ("one", [b"one"]),
        (b"\x00\x01", [b"\x00\x01"]),
        (["a", "b"], [b"a", b"b"]),
        (func.QueueMessage(id="m1", body="hi"), [{"id": "m1", "body": "hi"}]),
        ([func.QueueMessage(id="m1", body="hi"), "x"], [{"id": "m1", "body": "hi"}, b"x"]),
    ],
)
def test_queue_outputs_are_one_message_per_value_or_per_array_item(value: object, messages: list[object]) -> None:
    # The worker's TypedData for the output, then the host's value of it (json parsed), then the messages.
    datum = QueueMessageOutConverter.encode(value, expected_type=None)
    host_value = json.loads(datum.value) if datum.type == "json" else datum.value
    added = messages_of(host_value)
    assert [json.loads(m) if isinstance(want, dict) else m for m, want in zip(added, messages, strict=True)] == messages


def test_queue_output_host_values_objects_and_numbers() -> None:
    assert messages_of({"a": 1}) == [b'{"a":1}']
    assert messages_of([{"a": 1}, 2, "x"]) == [b'{"a":1}', b"2", b"x"]
    with pytest.raises(ValueError, match="cannot carry a NoneType"):
        messages_of(None)


def test_message_encoding_base64_is_the_default_and_undecodable_messages_are_refused() -> None:
    assert QueuesOptions().message_encoding == "base64"
    assert encode_content(b"hello", "base64") == "aGVsbG8="
    assert decode_content("aGVsbG8=", "base64") == b"hello"
    assert encode_content(b"hello", "none") == "hello" and decode_content("hello", "none") == b"hello"
    with pytest.raises(ValueError, match="not base64"):
        decode_content("hello!", "base64")
    with pytest.raises(ValueError, match="need host.json messageEncoding 'base64'"):
        encode_content(b"\xff", "none")


def test_host_json_queue_and_singleton_options_over_the_hosts_defaults(tmp_path: Path) -> None:
    assert TriggerOptions.from_host_json(tmp_path) == TriggerOptions(QueuesOptions(), SingletonOptions())
    defaults = QueuesOptions()
    assert (defaults.max_polling_interval, defaults.visibility_timeout, defaults.batch_size) == (60.0, 0.0, 16)
    assert defaults.max_dequeue_count == 5
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "extensions": {
                    "queues": {
                        "maxPollingInterval": "00:00:02",
                        "visibilityTimeout": "00:00:10",
                        "batchSize": 4,
                        "maxDequeueCount": 3,
                        "messageEncoding": "none",
                    }
                },
                "singleton": {"listenerLockPeriod": "00:00:20", "listenerLockRecoveryPollingInterval": "00:00:01"},
            }
        )
    )
    options = TriggerOptions.from_host_json(tmp_path)
    assert options.queues == QueuesOptions(2.0, 10.0, 4, 3, "none")
    assert options.singleton == SingletonOptions(20.0, 1.0)
    (tmp_path / "host.json").write_text('{"extensions": {"queues": {"messageEncoding": "utf7"}}}')
    with pytest.raises(SettingsError, match="messageEncoding is 'base64' or 'none', not 'utf7'"):
        TriggerOptions.from_host_json(tmp_path)


# -- discovery from the function metadata, and the host's refusals --------------------------------------------
def _loaded(decorate: object) -> object:
    app = func.FunctionApp()
    decorate(app)  # type: ignore[operator]
    (function,) = app.get_functions()
    # What the worker runtime reports for it (functions_metadata_request), as the host reads it.
    metadata = RpcFunctionMetadata(
        name=function.get_function_name(), function_id="id", raw_bindings=function.get_raw_bindings()
    )
    return FunctionInfo.from_metadata(metadata)


STORAGE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}


def _timer(schedule: str, **options: object) -> object:
    def decorate(app: func.FunctionApp) -> None:
        @app.timer_trigger(schedule=schedule, arg_name="timer", **options)
        def tick(timer: func.TimerRequest) -> None:
            pass

    return _loaded(decorate)


def test_timer_discovery_reads_schedule_run_on_startup_and_use_monitor() -> None:
    spec = discover(_timer("0 */5 * * * *", run_on_startup=True), Settings(values=STORAGE))  # type: ignore[arg-type]
    assert spec is not None and spec.function.name == "tick"
    assert spec.run_on_startup is True and spec.use_monitor is True  # type: ignore[union-attr]
    assert spec.lock_id == "Host.Functions.tick.Listener"  # type: ignore[union-attr]
    unmonitored = discover(_timer("0 */5 * * * *", use_monitor=False), Settings())  # type: ignore[arg-type]
    assert unmonitored.use_monitor is False and unmonitored.run_on_startup is False  # type: ignore[union-attr]
    # More than one occurrence a minute: the host turns the monitor off.
    assert discover(_timer("*/10 * * * * *"), Settings()).use_monitor is False  # type: ignore[arg-type,union-attr]
    # %setting% schedules resolve from the app settings.
    resolved = discover(_timer("%TICK%"), Settings(values={"TICK": "0 0 * * * *"}))  # type: ignore[arg-type]
    assert resolved.expression == "0 0 * * * *"  # type: ignore[union-attr]


def test_a_bad_schedule_fails_the_function_with_the_hosts_message() -> None:
    with pytest.raises(SettingsError) as caught:
        discover(_timer("0 0 25 * * *"), Settings())  # type: ignore[arg-type]
    assert str(caught.value) == (
        "The 'tick' function is in error: The schedule expression was not recognized as a valid cron expression or "
        "timespan string. ('0 0 25 * * *': 25 is higher than the maximum allowable value for the [Hour] field. "
        "Value must be between 0 and 23 (all inclusive).)"
    )


def _queue(queue_name: str, connection: str = "AzureWebJobsStorage", output: str = "done") -> object:
    def decorate(app: func.FunctionApp) -> None:
        @app.queue_trigger(arg_name="msg", queue_name=queue_name, connection=connection)
        @app.queue_output(arg_name="out", queue_name=output, connection="AzureWebJobsStorage")
        def work(msg: func.QueueMessage, out: func.Out[str]) -> None:
            pass

    return _loaded(decorate)


def test_queue_discovery_and_refusals() -> None:
    spec = discover(_queue("work-items"), Settings(values=STORAGE))  # type: ignore[arg-type]
    assert spec is not None and spec.queue_name == "work-items"  # type: ignore[union-attr]
    assert spec.connection_string == "UseDevelopmentStorage=true"  # type: ignore[union-attr]
    with pytest.raises(SettingsError, match="invalid queue name 'Work_Items'"):
        discover(_queue("Work_Items"), Settings(values=STORAGE))  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="invalid queue name 'Bad'"):
        discover(_queue("work", output="Bad"), Settings(values=STORAGE))  # type: ignore[arg-type]
    with pytest.raises(SettingsError) as caught:
        discover(_queue("work", connection="OtherStorage"), Settings(values=STORAGE))  # type: ignore[arg-type]
    assert "Storage account connection string 'OtherStorage' does not exist." in str(caught.value)


UNSUPPORTED_APP = """
import azure.functions as func

app = func.FunctionApp()


@app.blob_trigger(arg_name="blob", path="uploads/{name}", connection="AzureWebJobsStorage")
def on_upload(blob: func.InputStream) -> None:
    pass


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
def sweep(timer: func.TimerRequest) -> None:
    pass
"""


async def test_other_trigger_types_are_listed_with_a_clear_not_run_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from devhost import DevHost, load_settings

    (tmp_path / "function_app.py").write_text(UNSUPPORTED_APP)
    with caplog.at_level("WARNING", logger="devhost"):
        host = await DevHost.start(tmp_path, load_settings(tmp_path, STORAGE))
    try:
        assert (
            "Function 'on_upload' has a blobTrigger trigger, which the dev host does not run (it runs httpTrigger, "
            "socketiotrigger, timerTrigger and queueTrigger)." in caplog.messages
        )
        assert [spec.function.name for spec in host.triggers.specs] == ["sweep"]
        assert "        sweep: timerTrigger" in host.describe("http://127.0.0.1:7071")
    finally:
        await host.aclose()
