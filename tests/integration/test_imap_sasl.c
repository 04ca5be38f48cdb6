/* Every SASL mechanism the real Dovecot offers, as it offers them: the
 * AUTH= capabilities read from the server after TLS (over STARTTLS and
 * over IMAPS) must be the ones servers.env names (so a mechanism added to
 * the server's configuration and not handled here shows up as a failure),
 * and each is used by AUTHENTICATE for an ASCII and a non-ASCII password:
 * first with a wrong password (MAIL_ERR_AUTH, the session still not
 * authenticated and usable), then on the same connection with the right
 * one, the mechanism in use being the one asked for. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/imap.h>

#include "imap_it.h"
#include "servers_env.h"

#define MAX_MECHS 16

/* The AUTH=... names of the session's capability list, in order. */
static size_t offered(mail_imap *im, char names[][32])
{
  const char *caps = mail_imap_capabilities(im);
  ck_assert_ptr_nonnull(caps);
  size_t n = 0;
  for (const char *c = caps; (c = strstr(c, "AUTH=")) != NULL;) {
    c += 5;
    size_t len = strcspn(c, " ");
    ck_assert_uint_lt(len, 32);
    ck_assert_uint_lt(n, MAX_MECHS);
    memcpy(names[n], c, len);
    names[n++][len] = 0;
    c += len;
  }
  return n;
}

static void every_mechanism(int implicit)
{
  char want[MAX_MECHS][32], got[MAX_MECHS][32];
  size_t nwant = 0;
  char list[256];
  snprintf(list, sizeof list, "%s", mail_test_env("MAIL_TEST_SASL_MECHS"));
  for (char *save, *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
    ck_assert_uint_lt(nwant, MAX_MECHS);
    snprintf(want[nwant++], 32, "%s", m);
  }
  /* Mechanisms that take a token (OAUTHBEARER through the oauth2 passdb):
   * offered too, logged in with by tests/cli/test_oauth.sh, not here. */
  size_t npass = nwant;
  const char *tok = mail_test_env("MAIL_TEST_TOKEN_MECHS");
  snprintf(list, sizeof list, "%s", tok ? tok : "");
  for (char *save, *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
    ck_assert_uint_lt(nwant, MAX_MECHS);
    snprintf(want[nwant++], 32, "%s", m);
  }
  mail_imap *probe = imap_it_connect(implicit, NULL, NULL);
  ck_assert(!mail_imap_has_capability(probe, "LOGINDISABLED"));
  size_t ngot = offered(probe, got);
  imap_it_logout(probe);
  ck_assert_uint_eq(ngot, nwant);
  for (size_t i = 0; i < ngot; i++) {
    size_t j = 0;
    while (j < nwant && strcasecmp(got[i], want[j]))
      j++;
    ck_assert_msg(j < nwant, "Dovecot offers AUTH=%s, servers.env does not name it", got[i]);
  }
  static const int users[] = {1, 3}; /* alice; cedric's password is not ASCII */
  for (size_t u = 0; u < 2; u++)
    for (size_t i = 0; i < ngot; i++) {
      int password_mech = 0;
      for (size_t j = 0; j < npass; j++)
        password_mech |= !strcasecmp(got[i], want[j]);
      if (!password_mech)
        continue;
      char ukey[32], pkey[32];
      snprintf(ukey, sizeof ukey, "MAIL_TEST_USER%d", users[u]);
      snprintf(pkey, sizeof pkey, "MAIL_TEST_PASS%d", users[u]);
      mail_imap *im = imap_it_connect(implicit, NULL, NULL);
      ck_assert_int_eq(mail_imap_set_auth_method(im, MAIL_IMAP_AUTH_SASL), MAIL_OK);
      ck_assert_int_eq(mail_sasl_set_mechanisms(mail_imap_sasl(im), got[i]), MAIL_OK);
      ck_assert_int_eq(mail_imap_set_auth(im, mail_test_env(ukey), "not-the-password"), MAIL_OK);
      int rc = mail_imap_login(im);
      ck_assert_msg(rc == MAIL_ERR_AUTH, "%s, wrong password: %s", got[i], mail_strerror(rc));
      ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_NOT_AUTHENTICATED);
      ck_assert_int_eq(mail_imap_set_auth(im, mail_test_env(ukey), mail_test_env(pkey)), MAIL_OK);
      rc = mail_imap_login(im);
      ck_assert_msg(rc == MAIL_OK, "%s as %s: %s (%s)", got[i], mail_test_env(ukey),
                    mail_strerror(rc), mail_imap_last_text(im));
      ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_AUTHENTICATED);
      ck_assert_str_eq(mail_sasl_mechanism(mail_imap_sasl(im)), got[i]);
      ck_assert_int_eq(mail_imap_noop(im), MAIL_OK);
      imap_it_logout(im);
    }
}

START_TEST(test_mechanisms_starttls)
{
  every_mechanism(0);
}
END_TEST

START_TEST(test_mechanisms_imaps)
{
  every_mechanism(1);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {test_mechanisms_starttls, test_mechanisms_imaps};
  return imap_it_main("imap-sasl", 120, tests, sizeof tests / sizeof *tests);
}
