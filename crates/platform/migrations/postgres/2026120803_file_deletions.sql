-- Stored files no longer wanted (a discarded draft's attachments, a file a
-- resident removed). Files are content-addressed and may be shared, so a file
-- is deleted only by maintenance, an hour after it was asked for, and only if
-- nothing refers to it any more (procedures' attachments, open-data resources).
create table file_deletions (
    storage_key text primary key,
    requested_at text not null
);
