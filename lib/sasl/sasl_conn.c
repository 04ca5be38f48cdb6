/* Take what SASL needs to know from a connection: whether it is protected,
 * its channel-binding data and its random source. No I/O. */
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
  int order[2] = {MAIL_CB_TLS_EXPORTER, MAIL_CB_TLS_SERVER_END_POINT};
  if (s->cb_prefer == MAIL_CB_TLS_SERVER_END_POINT) {
    order[0] = MAIL_CB_TLS_SERVER_END_POINT;
    order[1] = MAIL_CB_TLS_EXPORTER;
  }
  unsigned char data[MAIL_SASL_MAX_CB];
  for (int i = 0; i < 2; i++) {
    size_t len = 0;
    int rc = mail_conn_channel_binding(conn, order[i], data, sizeof data, &len);
    if (rc == MAIL_OK && len > 0) {
      rc = mail_sasl_set_channel_binding(s, order[i], data, len);
      mail_wipe(data, sizeof data);
      return rc;
    }
    /* Unavailable (no EMS on TLS 1.2, a transport without it): try the
     * other type; without either the -PLUS mechanisms are not offered. */
  }
  mail_wipe(data, sizeof data);
  return MAIL_OK;
}
