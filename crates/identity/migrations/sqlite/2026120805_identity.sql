-- Sign-in with the My Number card (デジタル認証アプリ) and gBizID.
-- SQLite twin of ../postgres/2026120805_identity.sql: keep the two in step.

-- A sign-in sent to a provider and not yet come back. Kept in the database
-- so the callback may land on any node. Only hashes of the state, the nonce
-- and the browser binding are kept; the PKCE verifier is sealed.
create table identity_flows (
    state_hash text primary key,
    provider text not null,
    browser_hash text not null,
    nonce_hash text not null,
    code_verifier text not null,
    next text not null,
    link_resident_id integer references residents (id),
    requirement text,
    created_at text not null,
    expires_at text not null
);

-- Verified at the provider, no account here yet: the person chooses an
-- address (or signs in to an existing account) to finish.
create table identity_pending (
    token_hash text primary key,
    provider text not null,
    issuer text not null,
    subject text not null,
    verified text not null,
    display_name text not null default '',
    next text not null,
    browser_hash text not null,
    created_at text not null,
    expires_at text not null
);

-- The provider's identifier of a person (its sub: a per-service identifier,
-- never the My Number), linked to one resident account.
create table resident_identities (
    id integer primary key,
    resident_id integer not null references residents (id),
    provider text not null,
    issuer text not null,
    subject text not null,
    created_at text not null,
    last_used_at text not null,
    unique (provider, issuer, subject),
    unique (resident_id, provider)
);
