-- The buyer's address from the identity token's `email` claim, taken at checkout (the moment
-- a buyer pays), so the confirmation mail goes where the buyer reads mail. Null when the
-- token had none: the mail then falls back to the subject (src/mail/confirmation.ts).
-- Nothing on the hold path writes it.
alter table payments add column email text check (email is null or length(email) between 3 and 254);
