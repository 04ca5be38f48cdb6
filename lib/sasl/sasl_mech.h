/*
 * Inside the SASL engine: the handle and the mechanism table. Each
 * mechanism is written once as a mail_sasl_mech; the public API (sasl.c)
 * and the protocol-engine API (sasl_proto.c) both drive it.
 */
#ifndef MAIL_SASL_MECH_H
#define MAIL_SASL_MECH_H

#include <mail/sasl.h>

#include "core/buf.h"
#include "core/env.h"
#include "crypto/crypto.h"

/* Mechanism flags. */
#define MECH_CLIENT_FIRST 0x01 /* the client speaks first (initial response) */
#define MECH_PASSWORD 0x02     /* needs a user name and a password */
#define MECH_TOKEN 0x04        /* needs an OAuth token (or a token callback) */
#define MECH_EXTERNAL 0x08     /* needs mail_sasl_set_external() */
#define MECH_CLEARTEXT 0x10    /* reveals a reusable credential: protected link only */
#define MECH_PLUS 0x20         /* needs channel-binding data */
#define MECH_CRYPTO 0x40       /* needs the crypto shim */

typedef struct mail_sasl_mech {
  const char *name;
  unsigned int flags;
  int md; /* digest for SCRAM and CRAM-MD5 */
  /* Begin: for MECH_CLIENT_FIRST, write the initial message into out. */
  int (*start)(mail_sasl *s, mail_buf *out);
  /* Answer a decoded challenge into out (cleared by the caller). */
  int (*step)(mail_sasl *s, const unsigned char *in, size_t n, mail_buf *out);
  /* The server said success with optional final data (n may be 0). NULL:
   * nothing to verify. */
  int (*success)(mail_sasl *s, const unsigned char *in, size_t n);
} mail_sasl_mech;

#define MAIL_SASL_MAX_MECHS 16
#define MAIL_SASL_MAX_CB 256

enum { SASL_IDLE = 0, SASL_RUNNING, SASL_DONE, SASL_FAILED };

struct mail_sasl {
  mail_env env;
  mail_crypto_hook crypto; /* the caller's crypto, or the built-in shim */

  /* settings */
  char *username;
  char *password; /* secret */
  char *authzid;
  char *token;    /* secret */
  char *oauth_host;
  unsigned int oauth_port;
  mail_sasl_token_fn token_fn;
  void *token_user;
  int external;
  int tls;
  int allow_insecure;
  int cb_type;
  int cb_prefer;  /* type mail_sasl_use_conn() tries first (0 = the default order) */
  int cb_no_downgrade; /* mail_sasl_set_allow_channel_binding_downgrade(s, 0) */
  size_t cb_len;
  unsigned char cb_data[MAIL_SASL_MAX_CB];
  const mail_sasl_mech *allow[MAIL_SASL_MAX_MECHS];
  size_t nallow; /* 0: the default order */
  unsigned int scram_min, scram_max;
  size_t scram_nonce_len; /* characters in our SCRAM nonce; 0 = default (tests set it) */

  /* selection */
  char *server_mechs; /* the server's list given to mail_sasl_select() */
  const mail_sasl_mech *cand[MAIL_SASL_MAX_MECHS];
  size_t ncand, icand;

  /* exchange */
  const mail_sasl_mech *mech;
  int state;
  int outcome;
  unsigned int steps;  /* challenges answered in this exchange */
  int refreshed;       /* the OAuth token was refreshed once */
  int downgraded;      /* this login retried a -PLUS mechanism without binding */
  const mail_sasl_mech *downgrade_next; /* that retry waits for a new connection */
  mail_buf first;      /* the client-first message, for servers that want it after an empty challenge */
  mail_buf out;        /* the last response (raw) */

  /* mechanism state (one exchange at a time) */
  unsigned int phase;
  struct {
    mail_buf auth;       /* client-first-bare, then the AuthMessage */
    mail_buf gs2;        /* the gs2 header as sent */
    size_t bare_len;
    size_t cnonce_len;
    char cnonce[48];
    unsigned char server_sig[MAIL_MD_MAX_SIZE];
    int verified;
  } scram;

  /* The last SCRAM SaltedPassword, so a reconnect to the same server (same
   * salt and iteration count) skips PBKDF2. Wiped when the password
   * changes and when the handle is freed. */
  struct {
    int valid;
    int md;
    unsigned long iter;
    size_t salt_len;
    unsigned char salt[128];
    unsigned char salted[MAIL_MD_MAX_SIZE];
  } scram_cache;

  char *detail[6]; /* mail_sasl_detail fields, server text */

  /* protocol-engine driving (sasl_proto.c) */
  const struct mail_sasl_profile *profile;
  mail_buf line;     /* the base64 line handed to the protocol engine */
  int pending;       /* error to report once the server answers our abort */
};

/* The mechanism called name (case-insensitive), or NULL. */
const mail_sasl_mech *mail_sasl_mech_find(const char *name, size_t len);

/* Why mech cannot be used with the current settings: MAIL_OK when it can,
 * else MAIL_ERR_INSECURE, MAIL_ERR_INVALID (missing credentials),
 * MAIL_ERR_UNSUPPORTED (no crypto or channel binding). */
int mail_sasl_mech_usable(const mail_sasl *s, const mail_sasl_mech *mech);

/* 1 when the list given to mail_sasl_select() holds name. */
int mail_sasl_server_offers(const mail_sasl *s, const char *name);

/* Replace a detail string (server text, may be NULL). */
int mail_sasl_set_detail(mail_sasl *s, int field, const char *text, size_t len);

/* Append v as a SASL "saslname" (RFC 5801/5802): ',' -> "=2C", '=' -> "=3D". */
int mail_sasl_append_saslname(mail_buf *b, const char *v);

/* End the exchange with rc (wiping its state); returns rc. */
int mail_sasl_fail(mail_sasl *s, int rc);

/* Forget the cached SCRAM SaltedPassword. */
void mail_sasl_scram_cache_clear(mail_sasl *s);

/* Wipe the per-exchange mechanism state. */
void mail_sasl_mech_reset(mail_sasl *s);

/* The mechanisms (mech_*.c). */
extern const mail_sasl_mech mail_sasl_mech_plain;
extern const mail_sasl_mech mail_sasl_mech_login;
extern const mail_sasl_mech mail_sasl_mech_external;
extern const mail_sasl_mech mail_sasl_mech_cram_md5;
extern const mail_sasl_mech mail_sasl_mech_scram_sha1;
extern const mail_sasl_mech mail_sasl_mech_scram_sha1_plus;
extern const mail_sasl_mech mail_sasl_mech_scram_sha256;
extern const mail_sasl_mech mail_sasl_mech_scram_sha256_plus;
extern const mail_sasl_mech mail_sasl_mech_oauthbearer;
extern const mail_sasl_mech mail_sasl_mech_xoauth2;

#endif
