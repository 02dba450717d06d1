-- 保存期間: how many years a procedure's decided applications are kept.
-- After it, maintenance erases their answers, history snapshots and files
-- (the row stays, with its status and receipt number, for the counts).
alter table procedures add column retention_years integer;
alter table applications add column purged_at text;
