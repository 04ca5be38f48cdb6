/* A user transport with mbedTLS for STARTTLS (transport_mbedtls.h). */
#include "transport_mbedtls.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/net_sockets.h>

static int wait_fd(int fd, short events, int timeout_ms)
{
  struct pollfd p = {fd, events, 0};
  int r;
  do
    r = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0 ? MAIL_OK : r == 0 ? MAIL_ERR_TIMEOUT : MAIL_ERR_IO;
}

/* mbedTLS's BIO callbacks over the plain socket. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
  ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
  return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
  ssize_t n = recv(*(int *)ctx, buf, len, 0);
  return n < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : n == 0 ? MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY : (int)n;
}

int mbedtls_link_init(mbedtls_link *l, int fd, const char *ca_file)
{
  memset(l, 0, sizeof *l);
  l->fd = fd;
  mbedtls_ssl_init(&l->ssl);
  mbedtls_ssl_config_init(&l->conf);
  mbedtls_x509_crt_init(&l->ca);
  mbedtls_entropy_init(&l->entropy);
  mbedtls_ctr_drbg_init(&l->drbg);
  static const unsigned char pers[] = "libmail firmware example";
  if (mbedtls_ctr_drbg_seed(&l->drbg, mbedtls_entropy_func, &l->entropy, pers, sizeof pers - 1) ||
      mbedtls_x509_crt_parse_file(&l->ca, ca_file) ||
      mbedtls_ssl_config_defaults(&l->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT))
    return -1;
  mbedtls_ssl_conf_authmode(&l->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&l->conf, &l->ca, NULL);
  mbedtls_ssl_conf_rng(&l->conf, mbedtls_ctr_drbg_random, &l->drbg);
  mbedtls_ssl_conf_min_version(&l->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  if (mbedtls_ssl_setup(&l->ssl, &l->conf))
    return -1;
  mbedtls_ssl_set_bio(&l->ssl, &l->fd, bio_send, bio_recv, NULL);
  return 0;
}

void mbedtls_link_free(mbedtls_link *l)
{
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
  mbedtls_ssl_free(&l->ssl);
  mbedtls_ssl_config_free(&l->conf);
  mbedtls_x509_crt_free(&l->ca);
  mbedtls_ctr_drbg_free(&l->drbg);
  mbedtls_entropy_free(&l->entropy);
}

static int t_read(void *user, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  mbedtls_link *l = user;
  if (!l->tls) {
    int rc = wait_fd(l->fd, POLLIN, timeout_ms);
    if (rc)
      return rc;
    ssize_t n = recv(l->fd, buf, len, 0);
    if (n <= 0)
      return n == 0 ? MAIL_ERR_CLOSED : MAIL_ERR_IO;
    *got = (size_t)n;
    return MAIL_OK;
  }
  /* Records already decrypted need no wait. */
  if (!mbedtls_ssl_get_bytes_avail(&l->ssl)) {
    int rc = wait_fd(l->fd, POLLIN, timeout_ms);
    if (rc)
      return rc;
  }
  int n;
  do
    n = mbedtls_ssl_read(&l->ssl, buf, len);
  while (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE);
  if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
    return MAIL_ERR_CLOSED;
  if (n < 0)
    return MAIL_ERR_IO;
  *got = (size_t)n;
  return MAIL_OK;
}

static int t_write(void *user, const unsigned char *buf, size_t len, size_t *written, int timeout_ms)
{
  mbedtls_link *l = user;
  int rc = wait_fd(l->fd, POLLOUT, timeout_ms);
  if (rc)
    return rc;
  if (!l->tls) {
    ssize_t n = send(l->fd, buf, len, MSG_NOSIGNAL);
    if (n <= 0)
      return MAIL_ERR_IO;
    *written = (size_t)n;
    return MAIL_OK;
  }
  int n;
  do
    n = mbedtls_ssl_write(&l->ssl, buf, len);
  while (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE);
  if (n <= 0)
    return MAIL_ERR_IO;
  *written = (size_t)n;
  return MAIL_OK;
}

static int t_start_tls(void *user, const char *host, int timeout_ms)
{
  mbedtls_link *l = user;
  (void)timeout_ms; /* the socket blocks; a device would arm its own timer */
  if (mbedtls_ssl_set_hostname(&l->ssl, host))
    return MAIL_ERR_TLS;
  int rc;
  do
    rc = mbedtls_ssl_handshake(&l->ssl);
  while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
  if (rc)
    return MAIL_ERR_TLS;
  l->tls = 1;
  l->verified = mbedtls_ssl_get_verify_result(&l->ssl) == 0;
  return l->verified ? MAIL_OK : MAIL_ERR_TLS_VERIFY;
}

static int t_is_verified(void *user)
{
  const mbedtls_link *l = user;
  return l->tls && l->verified;
}

static void t_close(void *user)
{
  mbedtls_link *l = user;
  if (l->tls)
    mbedtls_ssl_close_notify(&l->ssl);
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
}

const mail_transport_ops mbedtls_link_ops = {
  .version = 1,
  .read = t_read,
  .write = t_write,
  .start_tls = t_start_tls,
  .is_verified = t_is_verified,
  .close = t_close,
};
