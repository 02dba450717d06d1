-- A resident's own details (name, postal code, address, phone, e-mail) as a
-- JSON object of answers keyed by part (procedures::profile), and whether new
-- applications may start with them filled in. One row per resident, written
-- only by that resident.
create table resident_profiles (
    resident_id bigint primary key references residents(id),
    answers text not null default '{}',
    prefill_consent integer not null default 0,   -- 0/1 (DbBool)
    updated_at text not null
);
