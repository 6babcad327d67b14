-- STT examples: recording (lake path at its commit) -> redacted transcript.
-- test         = held-out voices (var held_out_voices) on the clean line
-- test_channel = held-out voices on degraded telephone lines
-- real human speech (festvox-ru) by a hash of the sentence: test_real (var real_test_pct),
--   validation (var real_validation_pct), train (the rest), so no sentence is in two splits
-- train / validation by a hash of the normalized transcript among the other voices;
-- a call whose transcript is in a test split is left out, so no test transcript is trained on.
with audio as (
    select * from {{ ref('int_calls__with_audio') }}
    where transcript is not null and transcript <> ''
),

assigned as (
    select
        *,
        case
            when is_real_speech then {{ assign_real_speech_split('transcript') }}
            when is_held_out_voice and is_clean_line then 'test'
            when is_held_out_voice then 'test_channel'
            else {{ assign_train_validation_split('transcript', 'call_id') }}
        end as split
    from audio
),

test_texts as (
    select distinct transcript_normalized from assigned
    where split in ('test', 'test_channel', 'test_real')
)

select
    assigned.call_id,
    assigned.audio_path,
    assigned.audio_lake_commit,
    assigned.transcript,
    assigned.transcript_was_redacted,
    assigned.language,
    assigned.duration_s,
    assigned.sample_rate,
    assigned.speaker,
    assigned.line,
    assigned.is_real_speech,
    assigned.split
from assigned
where
    assigned.split in ('test', 'test_channel', 'test_real')
    or assigned.transcript_normalized not in (select test_texts.transcript_normalized from test_texts)
