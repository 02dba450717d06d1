-- What a resident should know before starting (GOV.UK's "before you start"):
-- who can apply, the standard processing time (標準処理期間), how long the
-- result is valid, how the result is told. JSON, Japanese and English
-- (procedures::catalogue::Guidance); '{}' where none is written yet.
alter table procedures add column guidance text not null default '{}';
