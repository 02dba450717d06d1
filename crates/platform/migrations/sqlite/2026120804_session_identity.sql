-- How each session's person was identified (platform::identity::Verified as
-- JSON: the method, the provider's acr, gBizID's account type and 法人番号).
-- Sessions from before have none and count as a password sign-in.
alter table sessions add column identity text;
