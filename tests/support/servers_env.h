/*
 * Settings of the real test servers (tests/servers/servers.sh), read from
 * the servers.env file it writes: $MAIL_TEST_SERVERS_ENV, by default
 * /tmp/libmail-servers/servers.env. Lines are shell assignments
 * KEY=value (optionally quoted); other lines are ignored.
 */
#ifndef MAIL_TEST_SERVERS_ENV_H
#define MAIL_TEST_SERVERS_ENV_H

/* The value of key (e.g. "MAIL_TEST_SMTP_PORT"), or NULL when the file or
 * the key is missing. The string lives until the program exits. */
const char *mail_test_env(const char *key);

/* mail_test_env(key) as a number, or fallback when missing or not numeric. */
long mail_test_env_long(const char *key, long fallback);

/* 1 when servers.env could be read. */
int mail_test_servers_available(void);

/*
 * Call first in an integration test's main(): when the servers are not
 * available, exits with 77 (meson's "skipped"), or with 1 when
 * MAIL_TEST_REQUIRE_SERVERS=1 says they must be.
 */
void mail_test_require_servers(void);

#endif
