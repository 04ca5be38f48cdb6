/*
 * A libmail user transport (mail_transport_ops) over a connected socket
 * with mbedTLS as the device's TLS: libmail asks for STARTTLS through the
 * start_tls op, and trusts the link only when is_verified says the
 * certificate chain and the host name checked out. libmail's STARTTLS
 * rules hold as with its own TLS: the upgrade is required, nothing read
 * before it is kept, and credentials wait for a verified link.
 */
#ifndef LIBMAIL_EXAMPLE_TRANSPORT_MBEDTLS_H
#define LIBMAIL_EXAMPLE_TRANSPORT_MBEDTLS_H

#include <mail/conn.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

typedef struct mbedtls_link {
  int fd;
  int tls;      /* the handshake completed */
  int verified; /* chain and name verified */
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt ca;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
} mbedtls_link;

/* Take over the connected fd; trust the CAs in ca_file (PEM). 0 or -1. */
int mbedtls_link_init(mbedtls_link *l, int fd, const char *ca_file);
/* Release everything (closes the fd if still open). */
void mbedtls_link_free(mbedtls_link *l);

extern const mail_transport_ops mbedtls_link_ops;

#endif
