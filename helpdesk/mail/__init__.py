"""Mail in (IMAP, MTA pipe) and out (the outbox, sent over SMTP)."""
