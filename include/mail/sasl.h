/*
 * libmail — the SASL client engine.
 *
 * One engine serves SMTP, LMTP, POP3, IMAP and NNTP (their sessions drive it
 * for you: set the credentials on the session) and can be driven on its own
 * through this header, by bindings or by a protocol libmail does not know.
 * A mail_sasl handle does no I/O: it turns server challenges into client
 * responses.
 *
 * Mechanisms: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS,
 * SCRAM-SHA-1 (RFC 5802, RFC 7677; channel binding RFC 5929 / RFC 9266),
 * OAUTHBEARER (RFC 7628), XOAUTH2, EXTERNAL (RFC 4422), CRAM-MD5
 * (RFC 2195), PLAIN (RFC 4616), LOGIN.
 *
 * Driving it alone (raw bytes; base64 is the protocol's business, helpers
 * are at the end of this header):
 *
 *   mail_sasl_new(&s, NULL);
 *   mail_sasl_set_username(s, "user"); mail_sasl_set_password(s, "pw");
 *   mail_sasl_set_tls(s, 1);                       // facts about the link
 *   mail_sasl_select(s, "SCRAM-SHA-256 PLAIN", &mech);
 *   mail_sasl_start(s, mech, &out, &out_len);      // out == NULL: server speaks first
 *   ... send mech (and out as the initial response) ...
 *   while the server sends a challenge:
 *     mail_sasl_step(s, chal, chal_len, &out, &out_len);  // send out
 *   when the server says success (with optional final data):
 *     mail_sasl_success(s, data, data_len);        // MAIL_OK: both sides proved
 *   when it says the mechanism is not supported:
 *     mail_sasl_next_mechanism(s, &mech) and start again
 *   when it says authentication failed:
 *     mail_sasl_failure(s) == MAIL_OK means "start the same mechanism again"
 *     (an OAuth token was refreshed, once); otherwise
 *     mail_sasl_downgrade_channel_binding(s, &mech) == MAIL_OK means "start
 *     mech" (a refused -PLUS, once, without channel binding); anything else
 *     is final.
 *
 * If mail_sasl_step() fails (a malformed challenge, a server that cannot
 * prove it knows the password), abort the exchange the protocol's way (for
 * example a "*" line) and treat the attempt as failed.
 *
 * Secrets (password, token, every response) live in memory that is wiped
 * before it is freed; no error string ever contains one. The handle keeps
 * the last SCRAM SaltedPassword (as sensitive as the password, and wiped
 * the same way), so a new exchange with the same salt and iteration count
 * skips the costly key derivation; setting the user name or password
 * forgets it.
 *
 * SASLprep (RFC 4013) prepares user names and passwords for SCRAM and
 * PLAIN as "query" strings (unassigned code points allowed, RFC 5802
 * section 2.2). It needs libidn; without it only ASCII names and
 * passwords are accepted by those mechanisms (MAIL_ERR_UNSUPPORTED).
 *
 * Threading: one handle is used by one thread at a time. No call blocks,
 * except that the token callback runs inside the call that needs it.
 */
#ifndef MAIL_SASL_H
#define MAIL_SASL_H

#include <mail/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A SASL client (opaque): credentials, the mechanism allow-list and one exchange at a time. */
typedef struct mail_sasl mail_sasl;

/** Bounds the SASL engine applies. */
typedef enum mail_sasl_limit {
  /** Largest decoded challenge accepted (bytes); longer ones give MAIL_ERR_SASL_BAD_CHALLENGE. */
  MAIL_SASL_MAX_CHALLENGE = 16384,

  /** Default bounds on the SCRAM iteration count (RFC 5802 and 7677 ask for at least 4096). */
  MAIL_SASL_SCRAM_MIN_ITERATIONS = 4096,
  MAIL_SASL_SCRAM_MAX_ITERATIONS = 600000
} mail_sasl_limit;

/**
 * Token callback for OAUTHBEARER and XOAUTH2. Called when a token is needed
 * (refresh == 0) and once more after the server rejected the token
 * (refresh == 1). It supplies the token with mail_sasl_set_oauth_token()
 * and returns 0, or returns non-zero to give up (MAIL_ERR_CALLBACK; after a
 * rejection, MAIL_ERR_AUTH). The server's error details are readable with
 * mail_sasl_error_detail() during a refresh call.
 */
typedef int (*mail_sasl_token_fn)(void *user, mail_sasl *sasl, int refresh);

/** Fields for mail_sasl_error_detail(). */
typedef enum mail_sasl_detail {
  MAIL_SASL_DETAIL_OAUTH_STATUS = 1,  /**< "status" of the server's OAuth error JSON */
  MAIL_SASL_DETAIL_OAUTH_SCOPE = 2,   /**< "scope" of the server's OAuth error JSON */
  MAIL_SASL_DETAIL_OAUTH_OPENID = 3,  /**< "openid-configuration" of the OAuth error JSON */
  MAIL_SASL_DETAIL_OAUTH_JSON = 4,    /**< the whole OAuth error JSON as the server sent it */
  MAIL_SASL_DETAIL_SCRAM_ERROR = 5    /**< the SCRAM server-error value ("e=" attribute) */
} mail_sasl_detail;

/**
 * Create a SASL client handle. alloc may be NULL (the C library); it is
 * copied. Returns MAIL_OK, MAIL_ERR_NOMEM or MAIL_ERR_INVALID (incomplete
 * allocator). Does not block.
 */
MAIL_EXTERN int mail_sasl_new(mail_sasl **out, const mail_allocator *alloc);

/** Wipe every secret and free the handle. NULL is fine. */
MAIL_EXTERN void mail_sasl_free(mail_sasl *sasl);

/* ---------------------------------------------------------------- settings */

/**
 * The authentication identity (user name), copied. NULL clears it.
 * MAIL_ERR_INVALID when it holds CR, LF or NUL, or is not valid UTF-8.
 */
MAIL_EXTERN int mail_sasl_set_username(mail_sasl *sasl, const char *authcid);

/**
 * The password, copied into memory that is wiped when replaced or freed.
 * NULL clears it. SCRAM and PLAIN prepare it with SASLprep (RFC 4013) at
 * start and fail with MAIL_ERR_CHARSET when it is not valid UTF-8 or holds
 * a prohibited character; LOGIN and CRAM-MD5 use the bytes as given.
 * Without libidn (a build option), a non-ASCII password gives
 * MAIL_ERR_UNSUPPORTED with SCRAM and PLAIN.
 */
MAIL_EXTERN int mail_sasl_set_password(mail_sasl *sasl, const char *password);

/**
 * The authorization identity (act as this user), copied; NULL (default)
 * means "the same as the authentication identity". Used by PLAIN, SCRAM,
 * OAUTHBEARER and EXTERNAL. MAIL_ERR_INVALID on CR, LF, NUL or bad UTF-8.
 */
MAIL_EXTERN int mail_sasl_set_authzid(mail_sasl *sasl, const char *authzid);

/** OAuth 2 bearer token (copied, wiped when replaced or freed). NULL clears it.
 *  MAIL_OK, MAIL_ERR_INVALID (CR, LF or NUL), MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_sasl_set_oauth_token(mail_sasl *sasl, const char *token);

/** Install a token callback (see mail_sasl_token_fn); NULL removes it.
 *  MAIL_OK, or MAIL_ERR_INVALID for a NULL handle. */
MAIL_EXTERN int mail_sasl_set_token_callback(mail_sasl *sasl, mail_sasl_token_fn fn, void *user);

/**
 * Host and port sent in OAUTHBEARER's "host" and "port" fields (optional;
 * host NULL and port 0 omit them). MAIL_ERR_INVALID on CR, LF, NUL or ^A.
 */
MAIL_EXTERN int mail_sasl_set_oauth_host(mail_sasl *sasl, const char *host, unsigned int port);

/**
 * Allow EXTERNAL: set when a TLS client certificate (or another external
 * identity) authenticates the client. Off by default. MAIL_OK, or
 * MAIL_ERR_INVALID for a NULL handle.
 */
MAIL_EXTERN int mail_sasl_set_external(mail_sasl *sasl, int on);

/**
 * Whether the link is protected: TLS is up and the server was verified.
 * PLAIN, LOGIN, OAUTHBEARER and XOAUTH2 send reusable credentials and are
 * refused (MAIL_ERR_INSECURE) on an unprotected link unless
 * mail_sasl_set_allow_insecure_plaintext() says otherwise. Off by default.
 * Sessions set this from their connection. MAIL_OK, or MAIL_ERR_INVALID for a NULL handle.
 */
MAIL_EXTERN int mail_sasl_set_tls(mail_sasl *sasl, int protected_link);

/** Allow PLAIN, LOGIN and the OAuth mechanisms without TLS. For tests and local sockets only.
 *  MAIL_OK, or MAIL_ERR_INVALID for a NULL handle. */
MAIL_EXTERN int mail_sasl_set_allow_insecure_plaintext(mail_sasl *sasl, int on);

/**
 * Channel-binding data of the TLS connection (mail_channel_binding type
 * from mail/conn.h: 1 = tls-exporter, 2 = tls-server-end-point,
 * 3 = tls-unique), copied. With it the -PLUS mechanisms become usable and
 * the SCRAM gs2 header says "y" when the server offers no -PLUS. data NULL
 * clears it. MAIL_ERR_INVALID for an unknown type or more than 256 bytes.
 */
MAIL_EXTERN int mail_sasl_set_channel_binding(mail_sasl *sasl, int type, const unsigned char *data,
                                              size_t len);

/**
 * Which channel-binding type a session takes from its connection first
 * (mail_channel_binding). SCRAM has no way to ask the server which types
 * it knows, so the default (0) is the type the RFCs make every SCRAM-PLUS
 * server implement for the TLS version in use, and the others follow when
 * the connection does not have it. The default order of preference:
 *
 *   1. tls-unique (3): TLS 1.2, RFC 5802's mandatory type. Undefined on
 *      TLS 1.3; not given for a TLS 1.2 session resumed without the
 *      extended master secret (RFC 7627).
 *   2. tls-exporter (1): TLS 1.3's mandatory type (RFC 9266); on TLS 1.2
 *      only with the extended master secret.
 *   3. tls-server-end-point (2): a hash of the server certificate, for
 *      servers that know only that one.
 *
 * type 1, 2 or 3 moves that type to the front (the others keep their
 * order): for a server known to implement only that one. A server that
 * refuses the type sent fails the -PLUS login; see
 * mail_sasl_set_allow_channel_binding_downgrade() for what happens then.
 * MAIL_ERR_INVALID for another value.
 */
MAIL_EXTERN int mail_sasl_set_channel_binding_preference(mail_sasl *sasl, int type);

/**
 * Whether a refused SCRAM-*-PLUS login is retried once without channel
 * binding (default on). Some servers advertise -PLUS but cannot bind the
 * type we send (Cyrus SASL 2.1.28 knows only tls-unique, and advertises
 * -PLUS under TLS 1.3 too, where tls-unique does not exist): they refuse
 * the exchange as an authentication failure. With this on, when a -PLUS
 * exchange ends in an authentication failure (the server's refusal or a
 * SCRAM "e=" error; not a malformed challenge, not a server that failed to
 * prove itself) on a TLS-verified connection, the session starts the same
 * SCRAM once more without -PLUS, with the gs2 flag "n" ("client does not
 * bind": never "y" after a -PLUS advertisement, which the server would
 * refuse, RFC 5802 section 6). That is a downgrade: the exchange is then
 * protected by the verified certificate alone, not also bound to the TLS
 * channel. It happens on the same connection where the protocol allows
 * another exchange (SMTP, POP3), else on a new one, once per login, and
 * only when the server advertises the mechanism without -PLUS and the
 * mechanism allow-list (mail_sasl_set_mechanisms) admits it.
 *
 * A wrong password therefore costs two failed attempts against such a
 * server's lockout counter. Callers who require channel binding set this
 * off: the -PLUS failure is then final (MAIL_ERR_AUTH).
 * Returns MAIL_OK, or MAIL_ERR_INVALID for a NULL handle.
 */
MAIL_EXTERN int mail_sasl_set_allow_channel_binding_downgrade(mail_sasl *sasl, int on);

/**
 * Only these mechanisms, in this order of preference (space- or
 * comma-separated names, case-insensitive). NULL restores the default
 * order: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1,
 * OAUTHBEARER, XOAUTH2, EXTERNAL, CRAM-MD5, PLAIN, LOGIN. A mechanism is
 * still only chosen when its requirements are met (credentials, channel
 * binding for -PLUS, a token for OAuth, mail_sasl_set_external() for
 * EXTERNAL, a protected link for PLAIN/LOGIN/OAuth).
 * MAIL_ERR_INVALID for an unknown name, MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_sasl_set_mechanisms(mail_sasl *sasl, const char *allow_list);

/**
 * Bounds on the SCRAM iteration count the server may ask for (defaults
 * MAIL_SASL_SCRAM_MIN_ITERATIONS..MAIL_SASL_SCRAM_MAX_ITERATIONS). Too few
 * makes a stolen exchange cheap to crack; too many is a denial of service.
 * MAIL_ERR_INVALID unless 1 <= min <= max <= 100,000,000.
 */
MAIL_EXTERN int mail_sasl_set_scram_iterations(mail_sasl *sasl, unsigned int min, unsigned int max);

/** Random source for nonces (NULL restores the default). Tests inject fixed bytes.
 *  MAIL_OK, or MAIL_ERR_INVALID for a NULL handle. */
MAIL_EXTERN int mail_sasl_set_random(mail_sasl *sasl, mail_random_fn fn, void *user);

/** Digest algorithms a crypto hook is asked for. */
typedef enum mail_digest {
  MAIL_DIGEST_MD5 = 1,    /**< 16 bytes (CRAM-MD5, APOP) */
  MAIL_DIGEST_SHA1 = 2,   /**< 20 bytes (SCRAM-SHA-1) */
  MAIL_DIGEST_SHA256 = 3  /**< 32 bytes (SCRAM-SHA-256) */
} mail_digest;

/** Versions of mail_crypto_ops. */
typedef enum mail_crypto_ops_version {
  MAIL_CRYPTO_OPS_VERSION_1 = 1 /**< digest, hmac and pbkdf2 */
} mail_crypto_ops_version;

/** out (the digest's size) = md(data). Return 0, or non-zero on failure. */
typedef int (*mail_crypto_digest_fn)(void *user, int md, const void *data, size_t len,
                                     unsigned char *out);
/** out (the digest's size) = HMAC-md(key, data). Return 0, or non-zero on failure. */
typedef int (*mail_crypto_hmac_fn)(void *user, int md, const void *key, size_t key_len,
                                   const void *data, size_t len, unsigned char *out);
/** PBKDF2 with HMAC-md (RFC 8018): out_len bytes into out. Return 0, or non-zero on failure. */
typedef int (*mail_crypto_pbkdf2_fn)(void *user, int md, const void *pass, size_t pass_len,
                                     const void *salt, size_t salt_len, unsigned int iterations,
                                     unsigned char *out, size_t out_len);

/**
 * The crypto SASL needs, from the caller: a device's own crypto (mbedTLS,
 * wolfSSL, a secure element) in a build without OpenSSL, so SCRAM and
 * CRAM-MD5 (and POP3 APOP, through the session's SASL handle) still work.
 * Versioned like mail_transport_ops: set version to
 * MAIL_CRYPTO_OPS_VERSION_1; later versions only add members at the end.
 * All three functions are required; md is a mail_digest. Random bytes come
 * from mail_sasl_set_random() (the default reads the kernel's pool).
 */
typedef struct mail_crypto_ops {
  unsigned int version;         /**< MAIL_CRYPTO_OPS_VERSION_1 */
  mail_crypto_digest_fn digest; /**< MD5, SHA-1, SHA-256 */
  mail_crypto_hmac_fn hmac;     /**< HMAC with those */
  mail_crypto_pbkdf2_fn pbkdf2; /**< PBKDF2-HMAC (SCRAM's salted password) */
} mail_crypto_ops;

/**
 * Use ops (copied; user is passed to each call) for every hash of this SASL
 * handle instead of the built-in OpenSSL shim; NULL goes back to the
 * built-in one. A hook failing makes the exchange fail with
 * MAIL_ERR_INTERNAL. MAIL_ERR_INVALID for a NULL handle, an unknown
 * version or a missing function.
 */
MAIL_EXTERN int mail_sasl_set_crypto(mail_sasl *sasl, const mail_crypto_ops *ops, void *user);

/* ---------------------------------------------------------------- exchange */

/**
 * Choose the best mechanism from the server's list (space-separated, as
 * advertised after TLS). *mech points to a static name. The list is kept
 * for mail_sasl_next_mechanism() and the SCRAM gs2 header.
 * Errors: MAIL_ERR_NO_MECHANISM (nothing usable), MAIL_ERR_INSECURE (only a
 * cleartext mechanism would do and the link is not protected),
 * MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_sasl_select(mail_sasl *sasl, const char *server_mechs, const char **mech);

/**
 * After the server said the current mechanism is not supported: the next
 * usable one from the list given to mail_sasl_select(). Never call this
 * after an authentication failure. MAIL_ERR_NO_MECHANISM when none is left.
 */
MAIL_EXTERN int mail_sasl_next_mechanism(mail_sasl *sasl, const char **mech);

/**
 * Start an exchange with mechanism mech (any supported name, chosen or
 * not). *out / *out_len: the initial client message (may be empty, e.g.
 * EXTERNAL), or *out NULL when the server must speak first (LOGIN,
 * CRAM-MD5). *out stays valid until the next call on the handle.
 * Errors: MAIL_ERR_UNSUPPORTED (unknown mechanism or no crypto),
 * MAIL_ERR_INVALID (missing credentials; CR, LF or NUL in a name),
 * MAIL_ERR_INSECURE, MAIL_ERR_CHARSET (SASLprep refused the name or
 * password), MAIL_ERR_CALLBACK, MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_sasl_start(mail_sasl *sasl, const char *mech, const unsigned char **out,
                                size_t *out_len);

/**
 * Answer a server challenge (decoded bytes). *out / *out_len: the response
 * to send (may be empty). Errors: MAIL_ERR_SASL_BAD_CHALLENGE (malformed,
 * oversized, nonce not extending ours, iteration count out of bounds),
 * MAIL_ERR_SASL_SERVER (the server's SCRAM signature is wrong),
 * MAIL_ERR_AUTH (the server sent a SCRAM "e=" error; its value is in
 * mail_sasl_error_detail()), MAIL_ERR_STATE, MAIL_ERR_NOMEM.
 *
 * An OAuth error challenge (a JSON object) is not an error here: the
 * details are kept for mail_sasl_error_detail() and *out is the answer the
 * mechanism requires (^A for OAUTHBEARER, empty for XOAUTH2), after which
 * the server reports the failure (then call mail_sasl_failure()).
 */
MAIL_EXTERN int mail_sasl_step(mail_sasl *sasl, const unsigned char *challenge, size_t len,
                               const unsigned char **out, size_t *out_len);

/**
 * The server reported success, with optional final data (decoded; NULL or
 * len 0 for none). MAIL_OK when the exchange is complete and, for SCRAM,
 * the server proved it knows the password; MAIL_ERR_SASL_SERVER when it
 * did not (treat the connection as compromised); MAIL_ERR_STATE.
 */
MAIL_EXTERN int mail_sasl_success(mail_sasl *sasl, const unsigned char *data, size_t len);

/**
 * The server reported an authentication failure. Returns MAIL_OK when the
 * same mechanism may be started once more (an OAuth token was refreshed by
 * the token callback; this happens at most once per handle), otherwise
 * MAIL_ERR_AUTH (then see mail_sasl_downgrade_channel_binding()).
 */
MAIL_EXTERN int mail_sasl_failure(mail_sasl *sasl);

/**
 * After a SCRAM-*-PLUS exchange ended in an authentication failure
 * (mail_sasl_failure() returned MAIL_ERR_AUTH, or mail_sasl_step() did for
 * a SCRAM "e=" error): MAIL_OK and *mech = the same SCRAM without -PLUS
 * (a static name) when the downgrade retry described at
 * mail_sasl_set_allow_channel_binding_downgrade() applies; start it with
 * mail_sasl_start(), on the same connection when the protocol allows,
 * else on a new one. Once per mail_sasl_select(). MAIL_ERR_AUTH (*mech
 * NULL) when it does not apply: the failure is final. MAIL_ERR_INVALID
 * for NULL arguments.
 */
MAIL_EXTERN int mail_sasl_downgrade_channel_binding(mail_sasl *sasl, const char **mech);

/**
 * Outcome so far: MAIL_OK once authenticated, MAIL_ERR_AGAIN while an
 * exchange is in progress or none was started, else the error that ended it.
 */
MAIL_EXTERN int mail_sasl_outcome(const mail_sasl *sasl);

/** The current mechanism's name, or NULL. */
MAIL_EXTERN const char *mail_sasl_mechanism(const mail_sasl *sasl);

/**
 * Details the server sent with a failure (mail_sasl_detail), as a
 * NUL-terminated string owned by the handle, or NULL when absent. Server
 * text, never a credential.
 */
MAIL_EXTERN const char *mail_sasl_error_detail(const mail_sasl *sasl, int field);

/* ---------------------------------------------------------------- base64 */

/**
 * Base64-encode (RFC 4648, no line breaks) into out, which holds cap bytes;
 * a NUL is appended. *out_len (may be NULL) gets the length without it.
 * MAIL_ERR_BUFFER when cap < 4 * ceil(len / 3) + 1.
 */
MAIL_EXTERN int mail_sasl_b64_encode(size_t *out_len, char *out, size_t cap,
                                     const unsigned char *in, size_t len);

/**
 * Strictly base64-decode (alphabet only, correct padding, no whitespace)
 * into out (cap bytes). MAIL_ERR_SASL_BAD_CHALLENGE on invalid input,
 * MAIL_ERR_BUFFER when cap < 3 * len / 4 + 3.
 */
MAIL_EXTERN int mail_sasl_b64_decode(size_t *out_len, unsigned char *out, size_t cap,
                                     const char *in, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_SASL_H */
