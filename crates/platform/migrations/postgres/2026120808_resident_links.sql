-- Residents prove their address by a link before their first submission,
-- and reset a forgotten password by a link. Accounts made before this
-- existed count as verified.
alter table residents add column email_verified_at text;
update residents set email_verified_at = created_at;

-- The links' tokens: only their SHA-256 is kept; each is good once.
create table account_links (
    token_hash text primary key,
    purpose text not null check (purpose in ('verify_email', 'reset_password')),
    resident_id bigint not null references residents (id),
    next text not null default '',
    created_at text not null,
    expires_at text not null,
    used_at text
);
create index account_links_resident on account_links (resident_id, purpose);
