//! The behavioural suite on PostgreSQL (`AUDIT_TEST_POSTGRES_URL`).
awesome_audit_log_tests::suite!(postgres);
