-- Staff accounts for real: an account made or reset by an administrator gets
-- a one-time password that must be changed at the first sign-in.
alter table staff add column must_change_password integer not null default 0;  -- 0/1 (DbBool)
