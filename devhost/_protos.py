"""The Functions host <-> language worker messages the worker runtime reads and builds, built at import time.

``azure_functions_runtime.handle_event`` takes a module of message classes (``properties={"protos": ...}``) and
calls ``protos.StatusResult(...)``, ``protos.TypedData(...)`` and so on. This module is that module: it declares
the subset of the public language-worker protocol (package ``AzureFunctionsRpcMessages``) that the runtime and
the dev host use, with the protocol's message names, field names and field numbers, as a
``FileDescriptorProto`` written here in Python, and builds the classes with ``google.protobuf``'s message
factory in a descriptor pool of its own (no ``.proto`` file, no ``protoc``, no top-level package named
``shared``). Serialized messages are therefore wire-compatible with the real host's.

Left out on purpose: messages and fields neither side uses (RpcLog, shared-memory transfer, claims
identities, model binding data, warm-up, environment reload). See docs/devhost.md#what-runs-where.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, message_factory, timestamp_pb2

PACKAGE = "AzureFunctionsRpcMessages"
_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "bool": _F.TYPE_BOOL,
    "int32": _F.TYPE_INT32,
    "int64": _F.TYPE_INT64,
    "sint64": _F.TYPE_SINT64,
    "double": _F.TYPE_DOUBLE,
}
# Field spec: (name, number, type, flags). ``type`` is a scalar name, ``map<K,V>``, a message/enum name of
# this package (``TypedData``, ``StatusResult.Status``), or a google.protobuf well-known type. ``flags``:
# "repeated", "enum", or "oneof:<name>".
FieldSpec = tuple[str, int, str, str]
_WELL_KNOWN = {"Duration": ".google.protobuf.Duration", "Timestamp": ".google.protobuf.Timestamp"}

_MESSAGES: dict[str, list[FieldSpec]] = {
    "StreamingMessage": [
        ("request_id", 1, "string", ""),
        ("invocation_request", 4, "InvocationRequest", "oneof:content"),
        ("invocation_response", 5, "InvocationResponse", "oneof:content"),
        ("function_load_request", 8, "FunctionLoadRequest", "oneof:content"),
        ("function_load_response", 9, "FunctionLoadResponse", "oneof:content"),
        ("worker_init_response", 16, "WorkerInitResponse", "oneof:content"),
        ("worker_init_request", 17, "WorkerInitRequest", "oneof:content"),
        ("functions_metadata_request", 29, "FunctionsMetadataRequest", "oneof:content"),
        ("function_metadata_response", 30, "FunctionMetadataResponse", "oneof:content"),
    ],
    "WorkerInitRequest": [
        ("host_version", 1, "string", ""),
        ("capabilities", 2, "map<string,string>", ""),
        ("worker_directory", 4, "string", ""),
        ("function_app_directory", 5, "string", ""),
    ],
    "WorkerInitResponse": [
        ("worker_version", 1, "string", ""),
        ("capabilities", 2, "map<string,string>", ""),
        ("result", 3, "StatusResult", ""),
        ("worker_metadata", 4, "WorkerMetadata", ""),
    ],
    "WorkerMetadata": [
        ("runtime_name", 1, "string", ""),
        ("runtime_version", 2, "string", ""),
        ("worker_version", 3, "string", ""),
        ("worker_bitness", 4, "string", ""),
        ("custom_properties", 5, "map<string,string>", ""),
    ],
    "StatusResult": [
        ("result", 1, "string", ""),
        ("exception", 2, "RpcException", ""),
        ("status", 4, "StatusResult.Status", "enum"),
    ],
    "FunctionsMetadataRequest": [("function_app_directory", 1, "string", "")],
    "FunctionMetadataResponse": [
        ("function_metadata_results", 1, "RpcFunctionMetadata", "repeated"),
        ("result", 2, "StatusResult", ""),
        ("use_default_metadata_indexing", 3, "bool", ""),
    ],
    "FunctionLoadRequest": [
        ("function_id", 1, "string", ""),
        ("metadata", 2, "RpcFunctionMetadata", ""),
        ("managed_dependency_enabled", 3, "bool", ""),
    ],
    "FunctionLoadResponse": [
        ("function_id", 1, "string", ""),
        ("result", 2, "StatusResult", ""),
        ("is_dependency_downloaded", 3, "bool", ""),
    ],
    "RpcFunctionMetadata": [
        ("directory", 1, "string", ""),
        ("script_file", 2, "string", ""),
        ("entry_point", 3, "string", ""),
        ("name", 4, "string", ""),
        ("bindings", 6, "map<string,BindingInfo>", ""),
        ("is_proxy", 7, "bool", ""),
        ("status", 8, "StatusResult", ""),
        ("language", 9, "string", ""),
        ("raw_bindings", 10, "string", "repeated"),
        ("function_id", 13, "string", ""),
        ("managed_dependency_enabled", 14, "bool", ""),
        ("retry_options", 15, "RpcRetryOptions", ""),
        ("properties", 16, "map<string,string>", ""),
    ],
    "BindingInfo": [
        ("type", 2, "string", ""),
        ("direction", 3, "BindingInfo.Direction", "enum"),
        ("data_type", 4, "BindingInfo.DataType", "enum"),
        ("properties", 5, "map<string,string>", ""),
    ],
    "RpcRetryOptions": [
        ("max_retry_count", 2, "int32", ""),
        ("delay_interval", 3, "Duration", ""),
        ("minimum_interval", 4, "Duration", ""),
        ("maximum_interval", 5, "Duration", ""),
        ("retry_strategy", 6, "RpcRetryOptions.RetryStrategy", "enum"),
    ],
    "InvocationRequest": [
        ("invocation_id", 1, "string", ""),
        ("function_id", 2, "string", ""),
        ("input_data", 3, "ParameterBinding", "repeated"),
        ("trigger_metadata", 4, "map<string,TypedData>", ""),
        ("trace_context", 5, "RpcTraceContext", ""),
        ("retry_context", 6, "RetryContext", ""),
    ],
    "RpcTraceContext": [
        ("trace_parent", 1, "string", ""),
        ("trace_state", 2, "string", ""),
        ("attributes", 3, "map<string,string>", ""),
    ],
    "RetryContext": [
        ("retry_count", 1, "int32", ""),
        ("max_retry_count", 2, "int32", ""),
        ("exception", 3, "RpcException", ""),
    ],
    "InvocationResponse": [
        ("invocation_id", 1, "string", ""),
        ("output_data", 2, "ParameterBinding", "repeated"),
        ("result", 3, "StatusResult", ""),
        ("return_value", 4, "TypedData", ""),
    ],
    "TypedData": [
        ("string", 1, "string", "oneof:data"),
        ("json", 2, "string", "oneof:data"),
        ("bytes", 3, "bytes", "oneof:data"),
        ("stream", 4, "bytes", "oneof:data"),
        ("http", 5, "RpcHttp", "oneof:data"),
        ("int", 6, "sint64", "oneof:data"),
        ("double", 7, "double", "oneof:data"),
        ("collection_bytes", 8, "CollectionBytes", "oneof:data"),
        ("collection_string", 9, "CollectionString", "oneof:data"),
        ("collection_double", 10, "CollectionDouble", "oneof:data"),
        ("collection_sint64", 11, "CollectionSInt64", "oneof:data"),
    ],
    "CollectionString": [("string", 1, "string", "repeated")],
    "CollectionBytes": [("bytes", 1, "bytes", "repeated")],
    "CollectionDouble": [("double", 1, "double", "repeated")],
    "CollectionSInt64": [("sint64", 1, "sint64", "repeated")],
    "ParameterBinding": [
        ("name", 1, "string", ""),
        ("data", 2, "TypedData", "oneof:rpc_data"),
    ],
    "RpcException": [
        ("stack_trace", 1, "string", ""),
        ("message", 2, "string", ""),
        ("source", 3, "string", ""),
        ("is_user_exception", 4, "bool", ""),
        ("type", 5, "string", ""),
    ],
    "RpcHttpCookie": [
        ("name", 1, "string", ""),
        ("value", 2, "string", ""),
        ("domain", 3, "NullableString", ""),
        ("path", 4, "NullableString", ""),
        ("expires", 5, "NullableTimestamp", ""),
        ("secure", 6, "NullableBool", ""),
        ("http_only", 7, "NullableBool", ""),
        ("same_site", 8, "RpcHttpCookie.SameSite", "enum"),
        ("max_age", 9, "NullableDouble", ""),
    ],
    "RpcHttp": [
        ("method", 1, "string", ""),
        ("url", 2, "string", ""),
        ("headers", 3, "map<string,string>", ""),
        ("body", 4, "TypedData", ""),
        ("params", 10, "map<string,string>", ""),
        ("status_code", 12, "string", ""),
        ("query", 15, "map<string,string>", ""),
        ("enable_content_negotiation", 16, "bool", ""),
        ("rawBody", 17, "TypedData", ""),
        ("cookies", 19, "RpcHttpCookie", "repeated"),
    ],
    "NullableString": [("value", 1, "string", "oneof:string")],
    "NullableDouble": [("value", 1, "double", "oneof:double")],
    "NullableBool": [("value", 1, "bool", "oneof:bool")],
    "NullableTimestamp": [("value", 1, "Timestamp", "oneof:timestamp")],
}

_ENUMS: dict[str, dict[str, list[tuple[str, int]]]] = {
    "StatusResult": {"Status": [("Failure", 0), ("Success", 1), ("Cancelled", 2)]},
    "BindingInfo": {
        "Direction": [("in", 0), ("out", 1), ("inout", 2)],
        "DataType": [("undefined", 0), ("string", 1), ("binary", 2), ("stream", 3)],
    },
    "RpcRetryOptions": {"RetryStrategy": [("exponential_backoff", 0), ("fixed_delay", 1)]},
    "RpcHttpCookie": {"SameSite": [("None", 0), ("Lax", 1), ("Strict", 2), ("ExplicitNone", 3)]},
}


def _type_name(name: str) -> str:
    return _WELL_KNOWN.get(name) or f".{PACKAGE}.{name}"


def _set_type(field: descriptor_pb2.FieldDescriptorProto, kind: str, is_enum: bool) -> None:
    if kind in _SCALARS:
        field.type = _SCALARS[kind]
    else:
        field.type = _F.TYPE_ENUM if is_enum else _F.TYPE_MESSAGE
        field.type_name = _type_name(kind)


def _message(name: str, fields: list[FieldSpec]) -> descriptor_pb2.DescriptorProto:
    message = descriptor_pb2.DescriptorProto(name=name)
    oneofs: list[str] = []
    for field_name, number, kind, flags in fields:
        field = message.field.add(name=field_name, number=number, label=_F.LABEL_OPTIONAL)
        if kind.startswith("map<"):
            key_kind, value_kind = kind[4:-1].split(",")
            entry = message.nested_type.add(name="".join(p.title() for p in field_name.split("_")) + "Entry")
            entry.options.map_entry = True
            _set_type(entry.field.add(name="key", number=1, label=_F.LABEL_OPTIONAL), key_kind, False)
            _set_type(entry.field.add(name="value", number=2, label=_F.LABEL_OPTIONAL), value_kind, False)
            field.label = _F.LABEL_REPEATED
            field.type = _F.TYPE_MESSAGE
            field.type_name = f".{PACKAGE}.{name}.{entry.name}"
            continue
        _set_type(field, kind, flags == "enum")
        if flags == "repeated":
            field.label = _F.LABEL_REPEATED
        elif flags.startswith("oneof:"):
            oneof = flags.removeprefix("oneof:")
            if oneof not in oneofs:
                oneofs.append(oneof)
                message.oneof_decl.add(name=oneof)
            field.oneof_index = oneofs.index(oneof)
    for enum_name, values in _ENUMS.get(name, {}).items():
        enum = message.enum_type.add(name=enum_name)
        for value_name, number in values:
            enum.value.add(name=value_name, number=number)
    return message


def _build() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    for well_known in (duration_pb2, timestamp_pb2):
        pool.AddSerializedFile(well_known.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(
        name="devhost/function_rpc.proto",
        package=PACKAGE,
        syntax="proto3",
        dependency=[duration_pb2.DESCRIPTOR.name, timestamp_pb2.DESCRIPTOR.name],
    )
    file.message_type.extend(_message(name, fields) for name, fields in _MESSAGES.items())
    pool.Add(file)
    classes = {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}")) for name in _MESSAGES
    }
    # The runtime builds NullableTimestamp(value=protos.Timestamp(...)): the pool's own Timestamp class.
    classes["Timestamp"] = message_factory.GetMessageClass(pool.FindMessageTypeByName("google.protobuf.Timestamp"))
    return classes


_CLASSES = _build()
StreamingMessage: Any = _CLASSES["StreamingMessage"]
WorkerInitRequest: Any = _CLASSES["WorkerInitRequest"]
WorkerInitResponse: Any = _CLASSES["WorkerInitResponse"]
WorkerMetadata: Any = _CLASSES["WorkerMetadata"]
StatusResult: Any = _CLASSES["StatusResult"]
FunctionsMetadataRequest: Any = _CLASSES["FunctionsMetadataRequest"]
FunctionMetadataResponse: Any = _CLASSES["FunctionMetadataResponse"]
FunctionLoadRequest: Any = _CLASSES["FunctionLoadRequest"]
FunctionLoadResponse: Any = _CLASSES["FunctionLoadResponse"]
RpcFunctionMetadata: Any = _CLASSES["RpcFunctionMetadata"]
BindingInfo: Any = _CLASSES["BindingInfo"]
RpcRetryOptions: Any = _CLASSES["RpcRetryOptions"]
InvocationRequest: Any = _CLASSES["InvocationRequest"]
RpcTraceContext: Any = _CLASSES["RpcTraceContext"]
RetryContext: Any = _CLASSES["RetryContext"]
InvocationResponse: Any = _CLASSES["InvocationResponse"]
TypedData: Any = _CLASSES["TypedData"]
CollectionString: Any = _CLASSES["CollectionString"]
CollectionBytes: Any = _CLASSES["CollectionBytes"]
CollectionDouble: Any = _CLASSES["CollectionDouble"]
CollectionSInt64: Any = _CLASSES["CollectionSInt64"]
ParameterBinding: Any = _CLASSES["ParameterBinding"]
RpcException: Any = _CLASSES["RpcException"]
RpcHttpCookie: Any = _CLASSES["RpcHttpCookie"]
RpcHttp: Any = _CLASSES["RpcHttp"]
NullableString: Any = _CLASSES["NullableString"]
NullableDouble: Any = _CLASSES["NullableDouble"]
NullableBool: Any = _CLASSES["NullableBool"]
NullableTimestamp: Any = _CLASSES["NullableTimestamp"]
Timestamp: Any = _CLASSES["Timestamp"]
