/*
 * The per-mechanism SASL scenarios, one table run by every protocol driver
 * (tests/transcript/smtp, pop3 and imap). Each names a transcript
 * sasl_<name>.txt that exists in each directory: tests/sasl/gen_transcripts.py
 * writes the pair from one list of the same names, computing every expected
 * client byte with hashlib/hmac (not libmail). The credentials and options
 * below must match it.
 *
 * A driver supplies its session through sasl_driver; sasl_scenario_run()
 * sets the scenario's credentials and options, connects and logs in.
 */
#ifndef MAIL_TEST_SASL_SCENARIOS_H
#define MAIL_TEST_SASL_SCENARIOS_H

#include <stddef.h>
#include <mail/sasl.h>

#define SASL_TOKEN1 "ya29.first-token"
#define SASL_TOKEN2 "ya29.refreshed-token"
#define SASL_AUTHZID_NAME "shared@libmail.test"
#define SASL_NONASCII_PASS "p\xC3\xA4ssw\xC3\xB6rd-\xE2\x82\xAC"

/* In a scenario: return the status of x unless it is MAIL_OK. */
#define SCN_TRY(x)   \
  do {               \
    int rc__ = (x);  \
    if (rc__)        \
      return rc__;   \
  } while (0)

/*
 * What a protocol driver defines over its own table `scenarios[]` (of its
 * type `scenario`: file, fn, expect) followed by the shared SASL table,
 * played by its function sasl_fn: NOWN, scn_count(), scenario_at(i),
 * find(file) (a Check failure when no scenario plays file) and
 * scn_played(user, name), for mail_transcript_dir_check().
 */
#define SCN_DRIVER_TABLE(sasl_fn)                                   \
  enum { NOWN = sizeof scenarios / sizeof scenarios[0] };           \
  static size_t scn_count(void)                                     \
  {                                                                 \
    return NOWN + n_sasl_scenarios;                                 \
  }                                                                 \
  static scenario scenario_at(size_t i)                             \
  {                                                                 \
    if (i < NOWN)                                                   \
      return scenarios[i];                                          \
    const sasl_scenario *ss = &sasl_scenarios[i - NOWN];            \
    scenario sc = {ss->file, sasl_fn, ss->expect};                  \
    return sc;                                                      \
  }                                                                 \
  static scenario find(const char *file)                            \
  {                                                                 \
    for (size_t i = 0; i < scn_count(); i++)                        \
      if (!strcmp(scenario_at(i).file, file))                       \
        return scenario_at(i);                                      \
    ck_abort_msg("no scenario %s", file);                           \
    return scenario_at(0);                                          \
  }                                                                 \
  static int scn_played(void *user, const char *name)               \
  {                                                                 \
    for (size_t i = 0; i < scn_count(); i++)                        \
      if (!strcmp(scenario_at(i).file, name))                       \
        return 1;                                                   \
    /* scenarios compiled out with their feature */                 \
    return !strcmp(name, "sasl_scram_nonascii.txt") ||              \
           !strcmp(name, "idna_alabel.txt");                        \
  }

/* What a scenario sets up before it logs in. */
enum sasl_setup {
  SASL_ALICE,            /* alice / alice-pw-1 */
  SASL_LONG_PASSWORD,    /* "long-pw-" repeated past the AUTH line's room */
  SASL_AUTHZID,          /* alice, authorization identity SASL_AUTHZID_NAME */
  SASL_ENDPOINT,         /* alice, tls-server-end-point preferred */
  SASL_NO_DOWNGRADE,     /* alice, no retry of a refused -PLUS: refused, then after_refusal */
  SASL_NONASCII,         /* cedric / SASL_NONASCII_PASS */
  SASL_WRONG,            /* alice / wrong-pw: refused, then after_refusal */
  SASL_CLEARTEXT,        /* alice without TLS: refused locally, then after_refusal */
  SASL_OAUTH,            /* a token and the refresh callback */
  SASL_OAUTH_TWICE,      /* the same; both tokens refused, then after_refusal */
  SASL_EXTERNAL,         /* EXTERNAL (identity from the certificate) */
  SASL_EXTERNAL_AUTHZID  /* EXTERNAL asking for SASL_AUTHZID_NAME */
};

typedef struct sasl_scenario {
  const char *file;  /* sasl_<name>.txt, in each protocol's directory */
  int setup;         /* enum sasl_setup */
  int expect;        /* the scenario's status */
  const char *mech;  /* the mechanism that ran last; NULL: none */
} sasl_scenario;

extern const sasl_scenario sasl_scenarios[];
extern const size_t n_sasl_scenarios;
/* The scenario for file, or NULL. */
const sasl_scenario *sasl_scenario_find(const char *file);

/* What the scenario saw (the token callback, the refused first attempt). */
typedef struct sasl_observed {
  int rc_first;      /* the refused login's status (SASL_WRONG, _NO_DOWNGRADE, _CLEARTEXT, _OAUTH_TWICE) */
  int refreshes;     /* token callback calls with refresh == 1 */
  char oauth_json[512], oauth_status[64]; /* error details seen in the refresh call */
} sasl_observed;

/* A protocol's session, for the shared scenarios; run is the driver's own. */
typedef struct sasl_driver {
  int (*set_auth)(void *run, const char *user, const char *password);
  mail_sasl *(*sasl)(void *run);
  /* Connect (implicit TLS, or none with tls == 0) and log in, each
   * resumed until done in event-loop mode. */
  int (*connect)(void *run, int tls);
  int (*auth)(void *run);
  /* After a final refusal: show the session is still usable. */
  int (*after_refusal)(void *run);
  size_t long_password_repeats; /* SMTP: 1150 (RFC 4954 line), POP3: 23 (RFC 5034), IMAP: 23 */
  unsigned oauth_port;          /* the port OAUTHBEARER names */
  const char *oauth_host;
} sasl_driver;

/* Run scenario sc on the driver's session; the status it ends with. */
int sasl_scenario_run(const sasl_scenario *sc, const sasl_driver *d, void *run,
                      sasl_observed *obs);

/* Strings that must never show in a trace, an error text or freed memory
 * during these scenarios (passwords, tokens, their base64 forms). */
extern const char *const sasl_secrets[];
extern const size_t n_sasl_secrets;

/* Register every sasl_secrets[] string on ta (freed memory is scanned). */
struct mail_test_alloc;
void sasl_forbid_secrets(struct mail_test_alloc *ta);

/* Check assertions after scenario sc ran on the transcript at path: the
 * mechanism that ran last (and trace shows an AUTH), and no secret in the
 * trace text (both directions) or the error text err, nor any base64
 * payload the client sends in the transcript (the argument of "AUTH mech
 * <ir>" or a whole response line); only the credentials are redacted:
 * each "AUTH mech <ir>" shows as "AUTH mech [redacted]", and a response
 * line leaves a "[redacted]". */
void sasl_assert_clean(const sasl_scenario *sc, mail_sasl *sasl, const char *trace,
                       const char *err, const char *path);

#endif
