/* The shared SASL scenarios (see sasl_scenarios.h). */
#include "sasl_scenarios.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "config.h"

const sasl_scenario sasl_scenarios[] = {
  {"sasl_plain.txt", SASL_ALICE, MAIL_OK, "PLAIN"},
  {"sasl_plain_no_ir.txt", SASL_LONG_PASSWORD, MAIL_OK, "PLAIN"},
  {"sasl_plain_authzid.txt", SASL_AUTHZID, MAIL_OK, "PLAIN"},
  {"sasl_login.txt", SASL_ALICE, MAIL_OK, "LOGIN"},
  {"sasl_cram_md5.txt", SASL_ALICE, MAIL_OK, "CRAM-MD5"},
  {"sasl_scram_sha1.txt", SASL_ALICE, MAIL_OK, "SCRAM-SHA-1"},
  {"sasl_scram_sha256.txt", SASL_ALICE, MAIL_OK, "SCRAM-SHA-256"},
  {"sasl_scram_sha256_plus.txt", SASL_ALICE, MAIL_OK, "SCRAM-SHA-256-PLUS"},
  {"sasl_scram_sha1_plus.txt", SASL_ENDPOINT, MAIL_OK, "SCRAM-SHA-1-PLUS"},
  {"sasl_scram_sha256_plus_tls_unique.txt", SASL_ALICE, MAIL_OK, "SCRAM-SHA-256-PLUS"},
  {"sasl_scram_plus_downgrade.txt", SASL_ALICE, MAIL_OK, "SCRAM-SHA-256"},
  {"sasl_scram_plus_no_downgrade.txt", SASL_NO_DOWNGRADE, MAIL_OK, "SCRAM-SHA-256-PLUS"},
  {"sasl_scram_plus_wrong_password.txt", SASL_WRONG, MAIL_OK, "SCRAM-SHA-256"},
  {"sasl_scram_bad_signature.txt", SASL_ALICE, MAIL_ERR_SASL_SERVER, "SCRAM-SHA-256"},
#if MAIL_WITH_SASLPREP
  {"sasl_scram_nonascii.txt", SASL_NONASCII, MAIL_OK, "SCRAM-SHA-256"},
#endif
  {"sasl_scram_fallback.txt", SASL_ALICE, MAIL_OK, "SCRAM-SHA-1"},
  {"sasl_no_fallback.txt", SASL_WRONG, MAIL_OK, "CRAM-MD5"},
  {"sasl_cleartext.txt", SASL_CLEARTEXT, MAIL_OK, NULL},
  {"sasl_xoauth2.txt", SASL_OAUTH, MAIL_OK, "XOAUTH2"},
  {"sasl_xoauth2_refresh.txt", SASL_OAUTH, MAIL_OK, "XOAUTH2"},
  {"sasl_oauthbearer.txt", SASL_OAUTH, MAIL_OK, "OAUTHBEARER"},
  {"sasl_oauthbearer_refresh.txt", SASL_OAUTH, MAIL_OK, "OAUTHBEARER"},
  {"sasl_oauthbearer_refused_twice.txt", SASL_OAUTH_TWICE, MAIL_OK, "OAUTHBEARER"},
  {"sasl_external.txt", SASL_EXTERNAL, MAIL_OK, "EXTERNAL"},
  {"sasl_external_authzid.txt", SASL_EXTERNAL_AUTHZID, MAIL_OK, "EXTERNAL"},
};
const size_t n_sasl_scenarios = sizeof sasl_scenarios / sizeof sasl_scenarios[0];

const char *const sasl_secrets[] = {
  "alice-pw-1", "YWxpY2UtcHctMQ", "wrong-pw", "long-pw-", "p\xC3\xA4ssw", SASL_TOKEN1,
  SASL_TOKEN2, "eWEyOS5", "Bearer",
  "AGFsaWNlAGFsaWNlLXB3LTE", /* PLAIN's message */
};
const size_t n_sasl_secrets = sizeof sasl_secrets / sizeof sasl_secrets[0];

const sasl_scenario *sasl_scenario_find(const char *file)
{
  for (size_t i = 0; i < n_sasl_scenarios; i++)
    if (!strcmp(sasl_scenarios[i].file, file))
      return &sasl_scenarios[i];
  return NULL;
}

static int token_cb(void *user, mail_sasl *sasl, int refresh)
{
  sasl_observed *obs = user;
  if (!refresh)
    return mail_sasl_set_oauth_token(sasl, SASL_TOKEN1);
  obs->refreshes++;
  const char *json = mail_sasl_error_detail(sasl, MAIL_SASL_DETAIL_OAUTH_JSON);
  const char *status = mail_sasl_error_detail(sasl, MAIL_SASL_DETAIL_OAUTH_STATUS);
  snprintf(obs->oauth_json, sizeof obs->oauth_json, "%s", json ? json : "");
  snprintf(obs->oauth_status, sizeof obs->oauth_status, "%s", status ? status : "");
  return mail_sasl_set_oauth_token(sasl, SASL_TOKEN2);
}

static int tls_auth(const sasl_driver *d, void *run)
{
  SCN_TRY(d->connect(run, 1));
  return d->auth(run);
}

/* A refusal the scenario expects (rc): then the session must go on. */
static int refused(const sasl_driver *d, void *run, sasl_observed *obs, int rc)
{
  obs->rc_first = rc;
  if (rc != MAIL_ERR_AUTH && rc != MAIL_ERR_INSECURE)
    return rc == MAIL_OK ? MAIL_ERR_INTERNAL : rc;
  return d->after_refusal(run);
}

static int oauth_setup(const sasl_driver *d, void *run, sasl_observed *obs)
{
  mail_sasl *sasl = d->sasl(run);
  SCN_TRY(d->set_auth(run, "alice", NULL));
  SCN_TRY(mail_sasl_set_oauth_token(sasl, SASL_TOKEN1));
  SCN_TRY(mail_sasl_set_oauth_host(sasl, d->oauth_host, d->oauth_port));
  mail_sasl_set_token_callback(sasl, token_cb, obs);
  return MAIL_OK;
}

int sasl_scenario_run(const sasl_scenario *sc, const sasl_driver *d, void *run,
                      sasl_observed *obs)
{
  mail_sasl *sasl = d->sasl(run);
  memset(obs, 0, sizeof *obs);
  switch (sc->setup) {
  case SASL_ALICE:
    SCN_TRY(d->set_auth(run, "alice", "alice-pw-1"));
    return tls_auth(d, run);
  case SASL_LONG_PASSWORD: {
    static char pw[8 * 1150 + 1];
    size_t n = d->long_password_repeats < 1150 ? d->long_password_repeats : 1150;
    for (size_t i = 0; i < n; i++)
      memcpy(pw + 8 * i, "long-pw-", 8);
    pw[8 * n] = '\0';
    SCN_TRY(d->set_auth(run, "alice", pw));
    return tls_auth(d, run);
  }
  case SASL_AUTHZID:
    SCN_TRY(mail_sasl_set_authzid(sasl, SASL_AUTHZID_NAME));
    SCN_TRY(d->set_auth(run, "alice", "alice-pw-1"));
    return tls_auth(d, run);
  case SASL_ENDPOINT:
    SCN_TRY(mail_sasl_set_channel_binding_preference(sasl, 2));
    SCN_TRY(d->set_auth(run, "alice", "alice-pw-1"));
    return tls_auth(d, run);
  case SASL_NO_DOWNGRADE:
    SCN_TRY(mail_sasl_set_allow_channel_binding_downgrade(sasl, 0));
    SCN_TRY(d->set_auth(run, "alice", "alice-pw-1"));
    return refused(d, run, obs, tls_auth(d, run));
  case SASL_NONASCII:
    SCN_TRY(d->set_auth(run, "cedric", SASL_NONASCII_PASS));
    return tls_auth(d, run);
  case SASL_WRONG:
    SCN_TRY(d->set_auth(run, "alice", "wrong-pw"));
    return refused(d, run, obs, tls_auth(d, run));
  case SASL_CLEARTEXT:
    SCN_TRY(d->set_auth(run, "alice", "alice-pw-1"));
    SCN_TRY(d->connect(run, 0));
    return refused(d, run, obs, d->auth(run));
  case SASL_OAUTH:
    SCN_TRY(oauth_setup(d, run, obs));
    return tls_auth(d, run);
  case SASL_OAUTH_TWICE:
    SCN_TRY(oauth_setup(d, run, obs));
    return refused(d, run, obs, tls_auth(d, run));
  case SASL_EXTERNAL_AUTHZID:
    SCN_TRY(mail_sasl_set_authzid(sasl, SASL_AUTHZID_NAME));
    /* fall through */
  case SASL_EXTERNAL:
    mail_sasl_set_external(sasl, 1);
    return tls_auth(d, run);
  }
  return MAIL_ERR_INTERNAL;
}

/* 1 (and which in out) when a payload the client sends in the transcript
 * at path shows up in text; 0 when none does, -1 when the file cannot be
 * read. Also a Check failure (file names it) when an AUTH line does not
 * show as "AUTH mech [redacted]" (only the credentials are redacted, the
 * mechanism stays visible) or a response line leaves no "[redacted]". */
static int client_payload_in(const char *file, const char *path, const char *text, char *out,
                             size_t cap)
{
  char line[16384];
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    if (strncmp(line, "C: ", 3))
      continue;
    char *p = line + 3, *end = strstr(p, "\\r\\n");
    if (!end)
      continue;
    *end = '\0';
    /* IMAP: "A1 AUTHENTICATE mech ir"; other tagged commands carry no payload. */
    int tagged = p[0] == 'A' && p[1] >= '0' && p[1] <= '9';
    if (tagged) {
      p = strchr(p, ' ');
      if (!p || strncmp(p + 1, "AUTHENTICATE ", 13))
        continue;
      p++;
    }
    size_t vl = !strncmp(p, "AUTHENTICATE ", 13) ? 13 : !strncmp(p, "AUTH ", 5) ? 5 : 0;
    if (vl) {
      char *sp = strchr(p + vl, ' ');
      if (!sp)
        continue;
      char want[64];
      snprintf(want, sizeof want, "%.*s%.*s [redacted]", (int)vl, p, (int)(sp - p - vl),
               p + vl);
      ck_assert_msg(strstr(text, want) != NULL, "%s: no \"%s\" in the trace", file, want);
      p = sp + 1;
    } else if (strlen(p) >= 8 && strncmp(p, "EHLO ", 5)) {
      ck_assert_msg(strstr(text, "[redacted]") != NULL, "%s: a response line shown", file);
    }
    if (strlen(p) < 8 || !strncmp(p, "EHLO ", 5))
      continue;
    if (strstr(text, p)) {
      snprintf(out, cap, "%.40s", p);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

void sasl_forbid_secrets(struct mail_test_alloc *ta)
{
  for (size_t k = 0; k < n_sasl_secrets; k++)
    mail_test_alloc_forbid_str(ta, sasl_secrets[k]);
}

void sasl_assert_clean(const sasl_scenario *sc, mail_sasl *sasl, const char *trace,
                       const char *err, const char *path)
{
  if (sc->mech) {
    ck_assert_str_eq(mail_sasl_mechanism(sasl), sc->mech);
    ck_assert_ptr_nonnull(strstr(trace, "AUTH")); /* AUTH or AUTHENTICATE: the trace saw it */
  }
  for (size_t k = 0; k < n_sasl_secrets; k++) {
    ck_assert_msg(strstr(trace, sasl_secrets[k]) == NULL, "%s: \"%s\" in the trace", sc->file,
                  sasl_secrets[k]);
    ck_assert_msg(!err || strstr(err, sasl_secrets[k]) == NULL, "%s: \"%s\" in the error",
                  sc->file, sasl_secrets[k]);
  }
  char which[64];
  ck_assert_msg(client_payload_in(sc->file, path, trace, which, sizeof which) == 0,
                "%s: client payload %s... in the trace", sc->file, which);
}
