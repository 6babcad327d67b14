-- TTS examples: text + language -> recording, from two sources (column `source`):
-- * 'calls': calls whose transcript needed no redaction (a placeholder would not match the
--   spoken audio), heard on the clean line (a voice is learnt from the speech, not from codec
--   and noise); real speech included, flagged;
-- * 'voice_corpus': studio deliveries (festvox-ru's train sentences, a natural English voice
--   reading the bot's script), on the same clean line.
-- Split by a hash of the normalized text, so a text is in one split whichever source says it;
-- real speech (festvox-ru) by its sentence as core.splits.real_speech_split splits it
-- (test_real -> test), so none of its validation or test sentences is ever trained on.
with calls as (
    select * from {{ ref('int_calls__with_audio') }}
    where
        not transcript_was_redacted and transcript is not null and transcript <> ''
        and is_clean_line
),

corpus as (
    select * from {{ ref('int_voice_corpus__with_audio') }}
    where not text_was_redacted and text <> ''
),

examples as (
    select
        call_id as example_id,
        'calls' as source,
        call_id,
        transcript as text,
        language,
        audio_path,
        audio_lake_commit,
        speaker,
        is_real_speech,
        duration_s,
        sample_rate
    from calls
    union all
    select
        utterance_id as example_id,
        'voice_corpus' as source,
        cast(null as {{ dbt.type_string() }}) as call_id,
        text,
        language,
        audio_path,
        audio_lake_commit,
        speaker,
        is_real_speech,
        duration_s,
        sample_rate
    from corpus
)

select
    example_id,
    source,
    call_id,
    text,
    language,
    audio_path,
    audio_lake_commit,
    speaker,
    is_real_speech,
    duration_s,
    sample_rate,
    case
        when is_real_speech
            then replace({{ assign_real_speech_split('text') }}, 'test_real', 'test')
        else {{ assign_split('text', 'example_id') }}
    end as split
from examples
