//! The behavioural suite on SQLite.
awesome_audit_log_tests::suite!(sqlite);
