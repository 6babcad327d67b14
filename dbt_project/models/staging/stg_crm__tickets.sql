-- CRM tickets: typed, one row per ticket (the latest version by updated_at). `note` still holds personal data.
with source as (
    select * from {{ source('raw', 'crm_tickets') }}
),

renamed as (
    select
        ticket_id,
        customer_id,
        customer_key,
        nullif(call_id, '') as call_id,
        status,
        subject,
        note,
        cast(created_at as timestamp with time zone) as created_at,
        cast(updated_at as timestamp with time zone) as updated_at,
        _lake_commit as lake_commit,
        _lake_path as lake_path
    from source
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by ticket_id order by updated_at desc, lake_commit desc, lake_path desc
        ) as version_rank
    from renamed
)

select
    ticket_id,
    customer_id,
    customer_key,
    call_id,
    status,
    subject,
    note,
    created_at,
    updated_at,
    lake_commit,
    lake_path
from deduplicated
where version_rank = 1
