-- A check value of the installation's master key (HMAC of a fixed text under
-- a key derived from it; it reveals nothing of the key). The first node to
-- start writes it; a node started with another key finds a different value
-- and refuses to start, before it could seal data no other node can open.
create table key_check (
    id integer primary key check (id = 1),
    check_value text not null,
    created_at text not null
);
