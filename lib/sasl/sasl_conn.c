/* The SASL engine and a connection: what SASL needs to know from it
 * (whether it is protected, its channel-binding data, its random source)
 * and the one way protocols queue what the engine asks them to send. No
 * I/O beyond queueing. */
#include <string.h>

#include "core/conn_internal.h"
#include "core/mem.h"
#include "sasl/sasl_internal.h"
#include "sasl/sasl_mech.h"

int mail_sasl_use_conn(mail_sasl *s, const mail_conn *conn)
{
  if (!s || !conn)
    return MAIL_ERR_INVALID;
  /* Only a verified server counts: an unverified TLS peer may be the
   * attacker PLAIN's password would go to. */
  mail_sasl_set_tls(s, mail_conn_is_verified(conn));
  const mail_env *env = mail_conn_env(conn);
  mail_env_set_random(&s->env, env->random, env->random_user);

  mail_sasl_set_channel_binding(s, 0, NULL, 0);
  if (!mail_conn_is_tls(conn))
    return MAIL_OK;
  /* The default order is what RFC 5802 and RFC 9266 make servers
   * implement: tls-unique on TLS 1.2 (undefined on 1.3, so the connection
   * does not give it there), tls-exporter, then tls-server-end-point. A
   * preferred type goes first, the others keep their order. */
  static const int defaults[3] = {MAIL_CB_TLS_UNIQUE, MAIL_CB_TLS_EXPORTER,
                                  MAIL_CB_TLS_SERVER_END_POINT};
  int order[3], n = 0;
  if (s->cb_prefer)
    order[n++] = s->cb_prefer;
  for (int i = 0; i < 3; i++)
    if (defaults[i] != s->cb_prefer)
      order[n++] = defaults[i];
  unsigned char data[MAIL_SASL_MAX_CB];
  for (int i = 0; i < n; i++) {
    size_t len = 0;
    int rc = mail_conn_channel_binding(conn, order[i], data, sizeof data, &len);
    if (rc == MAIL_OK && len > 0) {
      rc = mail_sasl_set_channel_binding(s, order[i], data, len);
      mail_wipe(data, sizeof data);
      return rc;
    }
    /* Unavailable (TLS 1.3 for tls-unique, no EMS on TLS 1.2 for
     * tls-exporter, a transport without it): try the next type; without
     * any the -PLUS mechanisms are not offered. */
  }
  mail_wipe(data, sizeof data);
  return MAIL_OK;
}

int mail_sasl_queue(mail_conn *conn, const char *verb, int what, const mail_sasl_msg *m)
{
  if (!conn || !m || (what != MAIL_SASL_SEND_COMMAND && what != MAIL_SASL_SEND_LINE) ||
      (what == MAIL_SASL_SEND_COMMAND && (!verb || !m->mech)) ||
      (what == MAIL_SASL_SEND_LINE && !m->data))
    return MAIL_ERR_INVALID;
  int rc = MAIL_OK;
  /* The mechanism name is no secret: the trace must show which one was
   * chosen ("AUTH SCRAM-SHA-256-PLUS [redacted]"). Everything the engine
   * produced is one. */
  if (what == MAIL_SASL_SEND_COMMAND) {
    rc = mail_conn_sendf(conn, "%s %s", verb, m->mech);
    if (rc == MAIL_OK && m->data)
      rc = mail_conn_send(conn, " ", 1);
  }
  if (rc == MAIL_OK && m->data)
    rc = mail_conn_send_secret(conn, m->data, m->len);
  if (rc == MAIL_OK)
    rc = mail_conn_send(conn, "\r\n", 2);
  return rc;
}
