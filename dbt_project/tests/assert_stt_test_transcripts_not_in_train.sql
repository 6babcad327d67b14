-- No transcript of the STT test splits (held-out voices on any line, real speech) is trained or
-- validated on.
select
    train.call_id,
    train.transcript,
    train.split
from {{ ref('stt_examples') }} as train
inner join {{ ref('stt_examples') }} as test
    on {{ normalize_text('train.transcript') }} = {{ normalize_text('test.transcript') }}
where
    train.split in ('train', 'validation')
    and test.split in ('test', 'test_channel', 'test_real')
