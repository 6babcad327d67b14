"""What Airbyte's S3 destination writes for one stream of a sync (used by the fake Airbyte).

Follows destination-s3 >= 1.5 (Airbyte's bulk load CDK, ``load-object-storage`` toolkit):

* key: ``<s3_bucket_path>/<s3_path_format>`` then ``<file_name_pattern>``, with the defaults
  ``${NAMESPACE}/${STREAM_NAME}/${YEAR}_${MONTH}_${DAY}_${EPOCH}_`` and
  ``{part_number}{format_extension}`` (``ObjectStoragePathFactory``); namespace and stream
  name keep only S3-safe characters; repeated ``/`` collapse to one;
* JSON Lines, one record per line: ``_airbyte_raw_id``, ``_airbyte_extracted_at`` (epoch
  ms), ``_airbyte_meta`` (``{"sync_id": <job id>, "changes": [...]}``),
  ``_airbyte_generation_id``, then the record's fields (root-level flattening) or
  ``_airbyte_data`` (``JsonFormattingWriter``); GZIP adds ``.gz``;
* a value that does not fit the stream's JSON schema type is written as null, with a
  ``NULLED`` change in ``_airbyte_meta`` (the destination's type coercion).

Uploads go through ``boto3`` (path-style, SigV4) to ``s3_endpoint``, as the real destination
talks to an S3-compatible endpoint such as lakeFS's gateway.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

DEFAULT_PATH_FORMAT = "${NAMESPACE}/${STREAM_NAME}/${YEAR}_${MONTH}_${DAY}_${EPOCH}_"
DEFAULT_FILE_NAME_PATTERN = "{part_number}{format_extension}"
_UNSAFE = re.compile(r"[^A-Za-z0-9/!_.*'()&$@=;:+,?\-]")
_JSON_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def s3_safe(name: str) -> str:
    """``Transformations.toS3SafeCharacters``: strip accents, replace unsafe characters."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _UNSAFE.sub("_", plain)


def object_key(
    configuration: Mapping[str, Any],
    *,
    namespace: str,
    stream: str,
    sync_time: datetime,
    part: int,
    sync_id: int,
) -> str:
    """The object key of one output file."""
    utc = sync_time.astimezone(UTC)
    variables = {
        "NAMESPACE": s3_safe(namespace),
        "STREAM_NAME": s3_safe(stream),
        "YEAR": f"{utc.year}",
        "MONTH": f"{utc.month:02d}",
        "DAY": f"{utc.day:02d}",
        "HOUR": f"{utc.hour:02d}",
        "MINUTE": f"{utc.minute:02d}",
        "SECOND": f"{utc.second:02d}",
        "EPOCH": f"{int(utc.timestamp() * 1000)}",
    }
    path = configuration.get("s3_path_format") or DEFAULT_PATH_FORMAT
    for name, value in variables.items():
        path = path.replace("${" + name + "}", value)
    compressed = (configuration["format"].get("compression") or {}).get("compression_type")
    extension = ".jsonl.gz" if compressed == "GZIP" else ".jsonl"
    file_name = configuration.get("file_name_pattern") or DEFAULT_FILE_NAME_PATTERN
    for name, value in (
        ("part_number", str(part)),
        ("format_extension", extension),
        ("sync_id", str(sync_id)),
        ("timestamp", str(int(utc.timestamp() * 1000))),
        ("date", utc.strftime("%Y_%m_%d")),
    ):
        file_name = file_name.replace("{" + name + "}", value)
    key = f"{configuration['s3_bucket_path']}/{path}{file_name}"
    return re.sub(r"/{2,}", "/", key)


def _fits(value: Any, schema: Mapping[str, Any]) -> bool:
    declared = schema.get("type")
    types = declared if isinstance(declared, list) else [declared]
    if value is None or None in types or "null" in types:
        return True
    for name in types:
        allowed = _JSON_TYPES.get(str(name))
        if allowed is None:
            return True  # a type the fake does not model: keep the value
        if isinstance(value, allowed) and not (isinstance(value, bool) and name != "boolean"):
            return True
    return False


def coerce(record: Mapping[str, Any], properties: Mapping[str, Any]) -> tuple[dict, list[dict]]:
    """``(record as written, _airbyte_meta.changes)``: misfit values nulled."""
    written, changes = dict(record), []
    for name, schema in properties.items():
        if name in written and not _fits(written[name], schema):
            written[name] = None
            changes.append(
                {"field": name, "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}
            )
    return written, changes


def jsonl_lines(
    records: Iterable[Mapping[str, Any]],
    *,
    properties: Mapping[str, Any],
    flatten: bool,
    sync_id: int,
    generation_id: int,
    extracted_at_ms: int,
) -> list[str]:
    """The output lines of ``records``."""
    lines = []
    for record in records:
        data, changes = coerce(record, properties)
        line: dict[str, Any] = {
            "_airbyte_raw_id": str(uuid.uuid4()),
            "_airbyte_extracted_at": extracted_at_ms,
            "_airbyte_meta": {"sync_id": sync_id, "changes": changes},
            "_airbyte_generation_id": generation_id,
        }
        line.update(data if flatten else {"_airbyte_data": data})
        lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
    return lines


def s3_client(configuration: Mapping[str, Any]) -> Any:
    """A boto3 S3 client for the destination's endpoint and keys (path-style addressing)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=configuration["s3_endpoint"],
        aws_access_key_id=configuration.get("access_key_id"),
        aws_secret_access_key=configuration.get("secret_access_key"),
        region_name=configuration.get("s3_bucket_region") or "us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            # plain PUTs: no aws-chunked trailing checksums for the gateway to decode
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 1},
        ),
    )


def write_stream(
    configuration: Mapping[str, Any],
    *,
    namespace: str,
    stream: str,
    records: list[Mapping[str, Any]],
    properties: Mapping[str, Any],
    sync_id: int,
    sync_time: datetime,
    generation_id: int = 0,
    records_per_file: int = 10_000,
) -> list[str]:
    """Upload one stream's records as the destination would; returns the object keys."""
    output = configuration["format"]
    if output.get("format_type") != "JSONL":
        raise NotImplementedError(f"the fake writes JSONL only, not {output.get('format_type')}")
    flatten = output.get("flattening") == "Root level flattening"
    compressed = (output.get("compression") or {}).get("compression_type") == "GZIP"
    client = s3_client(configuration)
    keys = []
    for part, start in enumerate(range(0, len(records), records_per_file)):
        lines = jsonl_lines(
            records[start : start + records_per_file],
            properties=properties,
            flatten=flatten,
            sync_id=sync_id,
            generation_id=generation_id,
            extracted_at_ms=int(sync_time.timestamp() * 1000),
        )
        body = "".join(line + "\n" for line in lines).encode()
        key = object_key(
            configuration,
            namespace=namespace,
            stream=stream,
            sync_time=sync_time,
            part=part,
            sync_id=sync_id,
        )
        client.put_object(
            Bucket=configuration["s3_bucket_name"],
            Key=key,
            Body=gzip.compress(body) if compressed else body,
        )
        keys.append(key)
    return keys
