"""Real outside services (IMAP, SMTP) started on 127.0.0.1 for the tests that need them."""
