-- The staff's second factor: a TOTP secret (RFC 6238; sealed with the
-- installation's key), the steps already used (a code is good once), and
-- recovery codes (SHA-256 only). A session whose password was right but
-- whose second factor is still owed carries what it owes: 'code' or 'enrol'.
alter table staff add column totp_secret text;
alter table staff add column totp_pending text;
alter table staff add column totp_enrolled_at text;
alter table sessions add column second_factor text;

create table staff_totp_steps (
    staff_id bigint not null references staff (id),
    step bigint not null,
    primary key (staff_id, step)
);

create table staff_recovery_codes (
    staff_id bigint not null references staff (id),
    code_hash text not null,
    used_at text,
    primary key (staff_id, code_hash)
);
