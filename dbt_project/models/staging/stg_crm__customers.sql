-- CRM customers: typed, one row per customer (the latest version by updated_at).
with source as (
    select * from {{ source('raw', 'crm_customers') }}
),

renamed as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        customer_key,
        trim(full_name) as full_name,
        phone,
        email,
        passport,
        lower(language) as language,
        segment,
        city,
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
            partition by customer_id order by updated_at desc, lake_commit desc, lake_path desc
        ) as version_rank
    from renamed
)

select
    customer_id,
    customer_key,
    full_name,
    phone,
    email,
    passport,
    language,
    segment,
    city,
    created_at,
    updated_at,
    lake_commit,
    lake_path
from deduplicated
where version_rank = 1
