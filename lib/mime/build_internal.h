/* Internal state of the MIME builder, shared by build.c (the object and
 * its setters) and build_output.c (freezing and streaming output). */
#ifndef MAIL_MIME_BUILD_INTERNAL_H
#define MAIL_MIME_BUILD_INTERNAL_H

#include <stdio.h>

#include <mail/mime_build.h>

#include "core/buf.h"
#include "core/env.h"
#include "mime/encode.h"

enum { SRC_MEM = 1, SRC_FILE, SRC_CB, SRC_MSG };
enum { PK_LEAF = 1, PK_MULTI, PK_MESSAGE };
enum { DISP_NONE = 0, DISP_INLINE, DISP_ATTACHMENT };

typedef struct build_header {
  char *name;
  char *value;
} build_header;

typedef struct build_headers {
  build_header *v;
  size_t n, cap;
} build_headers;

typedef struct build_addr {
  char *name; /* may be NULL */
  char *addr;
} build_addr;

typedef struct build_addrs {
  build_addr *v;
  size_t n, cap;
} build_addrs;

typedef struct build_parts {
  mail_mime_builder_part **v;
  size_t n, cap;
} build_parts;

struct mail_mime_builder_part {
  mail_mime_builder *msg;
  int kind;
  char *content_type;
  int is_text;      /* a text type: charset=utf-8 and CRLF normalisation */
  int disposition;
  char *filename;
  char *content_id;
  int forced_enc;
  build_headers headers;

  int src;
  unsigned char *mem;
  size_t mem_len;
  FILE *fp;
  mail_mime_read_fn read_fn;
  mail_mime_rewind_fn rewind_fn;
  void *user;
  uint64_t declared_len;
  int consumed;     /* a callback without rewind has been read */
  mail_mime_builder *inner;

  build_parts kids;     /* PK_MULTI */
  const char *related_type;

  /* chosen when frozen */
  int enc;
  int normalise;
  uint64_t enc_len;     /* encoded body bytes */
  uint64_t raw_len;     /* source bytes, checked again while streaming */
};

enum { SEG_LIT = 1, SEG_BODY };

/* The boundaries of the multiparts around a body, innermost first; the
 * chain goes on into the message this one is attached to. */
typedef struct build_bnd {
  const char *s;
  size_t len;
  const struct build_bnd *up;
} build_bnd;

typedef struct build_seg {
  int kind;
  size_t off;           /* SEG_LIT: into msg->lit */
  uint64_t len;
  mail_mime_builder_part *part; /* SEG_BODY */
} build_seg;

/* Streaming state of the body segment being produced. */
typedef struct build_stream {
  size_t seg;
  uint64_t seg_pos;     /* SEG_LIT: bytes of the segment already given */
  int body_open;
  int body_eof;
  size_t mem_pos;
  uint64_t src_seen;
  uint64_t produced;
  int last_cr;
  mail_qp_enc qp;
  mail_b64_wrap b64;
  size_t chunk;          /* bytes read from a source at a time (in holds that many) */
  unsigned char *in;
  unsigned char *mid;    /* LF-to-CRLF text on its way to base64 */
  unsigned char *out;
  size_t out_len, out_pos;
  int failed;
} build_stream;

/* Most bytes read from a body source at a time; less when every source is
 * smaller (a short text body needs no 16 KiB buffers). */
#define BUILD_CHUNK (16 * 1024)

struct mail_mime_builder {
  mail_env env;
  unsigned options;
  int frozen;
  int freeze_rc;
  int attached;         /* taken over by another message */

  build_addr from;
  build_addr sender;     /* Sender: set only when it differs from From */
  build_addrs to, cc, bcc, reply_to;
  char *subject;
  int has_date;
  int64_t date;
  int date_off;
  char *msg_id;
  build_headers headers;

  mail_mime_builder_part *text, *html;
  build_parts inlines, attachments;
  build_parts owned;    /* every part created for this message */
  const char **rcpt;
  size_t nrcpt, rcpt_cap;
  int addr_utf8;        /* an address is not ASCII */

  /* frozen output */
  mail_buf lit;
  build_seg *segs;
  size_t nsegs, seg_cap;
  uint64_t size;
  unsigned needs;
  unsigned boundary_seq;
  int has_nonrewindable;
  mail_mime_builder_part *root;  /* built once: a retry reuses it */
  const build_bnd *outer;        /* while frozen inside another message */
  int clash;                     /* a body holds a line that is a boundary */
  build_stream st;
};

/* build.c */
int mail_build_part_new(mail_mime_builder *msg, int kind, const char *content_type, mail_mime_builder_part **out);
int mail_build_parts_push(mail_mime_builder *msg, build_parts *list, mail_mime_builder_part *p);

/* build_output.c */
int mail_build_freeze(mail_mime_builder *msg);
void mail_build_stream_free(mail_mime_builder *msg);

#endif
