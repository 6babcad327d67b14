-- Calls with every free text redacted (transcript, bot response, slots): the only call text marts may use.
-- The caller is only a pseudonym (customer_key, keyed by the loader): curated layers carry no CRM id.
{%- set person_pattern = person_pattern_literal() %}
with calls as (
    select * from {{ ref('stg_call_exports__calls') }}
),

redacted as (
    select
        calls.call_id,
        calls.customer_key,
        calls.started_at,
        calls.language,
        calls.channel,
        calls.duration_s,
        calls.intent,
        {{ redact_pii('calls.transcript', person_pattern) }} as transcript,
        {{ redact_slots('calls.slots', person_pattern) }} as slots,
        {{ redact_pii('calls.bot_response', person_pattern) }} as bot_response,
        calls.transcript as original_transcript,
        calls.recording,
        calls.speaker,
        calls.sample_rate,
        calls.line,
        calls.is_clean_line,
        calls.is_real_speech,
        calls.is_held_out_voice,
        calls.lake_commit
    from calls
)

select
    call_id, customer_key, started_at, language, channel, duration_s, intent,
    transcript, slots, bot_response,
    transcript <> original_transcript as transcript_was_redacted,
    {{ normalize_text('transcript') }} as transcript_normalized,
    recording, speaker, sample_rate, line, is_clean_line, is_real_speech, is_held_out_voice,
    lake_commit
from redacted
