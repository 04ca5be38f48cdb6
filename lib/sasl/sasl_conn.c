/* The SASL engine and a connection: what SASL needs to know from it
 * (whether it is protected, its channel-binding data, its random source)
 * and the one way protocols queue what the engine asks them to send. No
 * I/O beyond queueing. */
#include <string.h>

#include "core/conn_internal.h"
#include "core/engine.h"
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

int mail_sasl_queue(mail_conn *conn, mail_cmdq *q, const mail_cmd *cmd, const char *verb,
                    int what, const mail_sasl_msg *m)
{
  if (!conn || !q || !cmd || !m || (what != MAIL_SASL_SEND_COMMAND && what != MAIL_SASL_SEND_LINE) ||
      (what == MAIL_SASL_SEND_COMMAND && (!verb || !m->mech)) ||
      (what == MAIL_SASL_SEND_LINE && !m->data))
    return MAIL_ERR_INVALID;
  /* The mechanism name is no secret: the trace must show which one was
   * chosen ("AUTH SCRAM-SHA-256-PLUS [redacted]"). Everything the engine
   * produced is one. */
  mail_wire_part parts[6];
  size_t n = 0;
  if (what == MAIL_SASL_SEND_COMMAND) {
    parts[n++] = (mail_wire_part){verb, strlen(verb), 0};
    parts[n++] = (mail_wire_part){" ", 1, 0};
    parts[n++] = (mail_wire_part){m->mech, strlen(m->mech), 0};
    if (m->data)
      parts[n++] = (mail_wire_part){" ", 1, 0};
  }
  if (m->data)
    parts[n++] = (mail_wire_part){m->data, m->len, 1};
  parts[n++] = (mail_wire_part){"\r\n", 2, 0};
  return mail_cmd_send(conn, q, cmd, parts, n);
}
