-- What a procedure requires of its applicant's sign-in (account,
-- mynumber_card, gbizid, gbizid_prime), and how each application's applicant
-- was identified when it was sent (platform::identity::Verified as JSON).
alter table procedures add column identity text not null default 'account';
alter table applications add column identified_by text;
