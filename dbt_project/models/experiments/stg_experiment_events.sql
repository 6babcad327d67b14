-- Experiment events, typed and one row per event_id. Before the first load the source table does not
-- exist yet: the model is then empty (with the same columns), so an experiment without events builds.
{{ config(materialized='view') }}

{%- set events = source('experiments_raw', 'turn_events') -%}
{%- set loaded = not execute or adapter.get_relation(
    database=events.database, schema=events.schema, identifier=events.identifier
) is not none -%}

with source as (
    {%- if loaded %}
        select * from {{ events }}
    {%- else %}
        -- not loaded yet: the source's columns, no rows
        select
            cast(null as text) as event_id,
            cast(null as text) as kind,
            cast(null as timestamp with time zone) as occurred_at,
            cast(null as text) as user_id,
            cast(null as text) as session_id,
            cast(null as bigint) as turn_index,
            cast(null as text) as experiment,
            cast(null as text) as arm,
            cast(null as text) as versions,
            cast(null as boolean) as fallback,
            cast(null as text) as language,
            cast(null as text) as input_kind,
            cast(null as boolean) as transcript_empty,
            cast(null as text) as intent,
            cast(null as double precision) as confidence,
            cast(null as boolean) as handoff,
            cast(null as text) as error,
            cast(null as double precision) as latency_ms,
            cast(null as double precision) as stt_ms,
            cast(null as double precision) as nlu_ms,
            cast(null as double precision) as dialogue_ms,
            cast(null as double precision) as nlg_ms,
            cast(null as double precision) as tts_ms,
            cast(null as boolean) as resolved,
            cast(null as text) as worker,
            cast(null as double precision) as audio_duration_s,
            cast(null as bigint) as audio_sample_rate,
            cast(null as bigint) as transcript_length
        where false
    {%- endif %}
),

renamed as (
    select
        event_id,
        kind,
        cast(occurred_at as timestamp with time zone) as occurred_at,
        user_id,
        session_id,
        cast(turn_index as bigint) as turn_index,
        experiment,
        arm,
        versions,
        coalesce(fallback, false) as fallback,
        nullif(language, '') as language,
        input_kind,
        coalesce(transcript_empty, false) as transcript_empty,
        nullif(intent, '') as intent,
        cast(confidence as double precision) as confidence,
        coalesce(handoff, false) as handoff,
        error,
        cast(latency_ms as double precision) as latency_ms,
        cast(stt_ms as double precision) as stt_ms,
        cast(nlu_ms as double precision) as nlu_ms,
        cast(dialogue_ms as double precision) as dialogue_ms,
        cast(nlg_ms as double precision) as nlg_ms,
        cast(tts_ms as double precision) as tts_ms,
        resolved,
        worker,
        cast(audio_duration_s as double precision) as audio_duration_s,
        cast(audio_sample_rate as bigint) as audio_sample_rate,
        cast(transcript_length as bigint) as transcript_length
    from source
),

deduplicated as (
    select
        *,
        row_number() over (partition by event_id order by occurred_at) as delivery_rank
    from renamed
)

select
    event_id,
    kind,
    occurred_at,
    user_id,
    session_id,
    turn_index,
    experiment,
    arm,
    versions,
    fallback,
    language,
    input_kind,
    transcript_empty,
    intent,
    confidence,
    handoff,
    error,
    latency_ms,
    stt_ms,
    nlu_ms,
    dialogue_ms,
    nlg_ms,
    tts_ms,
    resolved,
    worker,
    audio_duration_s,
    audio_sample_rate,
    transcript_length
from deduplicated
where delivery_rank = 1
