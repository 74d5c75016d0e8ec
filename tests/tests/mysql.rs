//! The behavioural suite on MySQL / MariaDB (`AUDIT_TEST_MYSQL_URL`).
awesome_audit_log_tests::suite!(mysql);
