-- Every sentence of real human speech is in exactly one STT split (train, validation or test_real).
select
    {{ normalize_text('transcript') }} as sentence,
    count(distinct split) as splits
from {{ ref('stt_examples') }}
where is_real_speech
group by {{ normalize_text('transcript') }}
having count(distinct split) > 1
