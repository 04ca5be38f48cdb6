/* Internals shared by the MIME parser files: the part object, the
 * streaming parser state and the transfer decoders. */
#ifndef MAIL_MIME_INTERNAL_H
#define MAIL_MIME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <mail/mime.h>

#include "core/base64.h"
#include "core/buf.h"
#include "mime/charset_internal.h"

typedef struct mime_param {
  char *name;   /* lower case */
  char *value;  /* decoded UTF-8 */
} mime_param;

typedef struct mime_params {
  mime_param *v;
  size_t n;
} mime_params;

typedef struct mime_hdr {
  size_t name_off;   /* into part->hbuf */
  size_t name_len;
  size_t value_off;
  size_t value_len;
} mime_hdr;

typedef struct mime_cached {
  char *name;
  char *value;
} mime_cached;

typedef struct mime_defect {
  int kind;
  uint64_t offset;
  mail_mime_part *part;
} mime_defect_rec;

struct mail_mime_part {
  mail_mime_parser *parser;
  mail_mime_part *parent, *first, *last, *next;
  size_t nchildren;
  mail_mime_part *cache_child; /* last child returned by mail_mime_part_child() */
  size_t cache_index;
  unsigned int index;   /* 1-based position among its siblings */
  unsigned int depth;
  uint64_t header_start, body_start, body_end;

  mail_buf hbuf;        /* names and raw values, each NUL-terminated */
  mime_hdr *hdrs;
  size_t nhdrs, hdrs_cap;
  int cur_open;         /* the last field may still get continuation lines */
  int cur_cut;          /* the last field hit max_header_length */

  char *ctype;          /* "type/subtype", lower case */
  mime_params tparams, dparams;
  char *disp;
  char *cte_name;
  int enc;
  int is_multipart, is_message, in_digest;
  int skip_children;    /* max_parts reached: further delimiters are ignored */
  int saw_close;
  int live;             /* its boundary is on the parser's stack */
  int saw_delim;        /* at least one delimiter line was seen */
  const char *boundary; /* points into tparams */
  size_t boundary_len;
  char *path;
  size_t ndefects;
  mime_cached *cache;
  size_t ncache;
  int decoded_once;     /* tree: decoding defects were recorded */
  int decoded_utf8_once;
  uint64_t delim_at;    /* where the delimiter line before this part starts (its line break) */
  uint64_t close_at;    /* multipart: where its closing delimiter starts */
};

/* Transfer decoder (streaming) for one leaf body. */
typedef struct mime_decoder {
  int enc;
  mail_b64_stream b64;
  int qp_state;         /* 0 normal, 1 after '=', 2 after '=' + hex, 3 after "=\r" */
  unsigned char qp_hex;
  int qp_bad;
  int uu_state;         /* 0 before begin, 1 in data, 2 after end */
  unsigned char uu_line[128];
  size_t uu_len;
  int uu_bad;
  int uu_overlong;
} mime_decoder;

/* Decoder output is handed to a sink in chunks. */
typedef int (*mime_sink_fn)(void *user, const unsigned char *data, size_t len);

void mime_decoder_init(mime_decoder *d, int enc);
/* Decode n bytes, passing output to sink. Returns the sink's error or 0. */
int mime_decoder_feed(mime_decoder *d, const unsigned char *in, size_t n, mime_sink_fn sink, void *user);
/* End of body: flush and report defects through defect(user, kind). */
int mime_decoder_finish(mime_decoder *d, mime_sink_fn sink, void *user,
                        void (*defect)(void *user, int kind), void *duser);

enum { PS_HEADERS, PS_BODY, PS_PREAMBLE, PS_EPILOGUE, PS_DONE };

struct mail_mime_parser {
  mail_allocator alloc;
  mail_mime_callbacks cb;
  mail_mime_limits lim;
  unsigned int flags;
  int keep_tree;
  int started, finished, failed;
  int state;
  uint64_t base;              /* source offset of pend.data[0] / of the chunk being processed */
  mail_buf pend;
  mail_mime_part *root, *cur;
  mail_mime_part **bs;        /* multiparts whose boundary is live, outermost first */
  size_t nbs, bs_cap;
  size_t nparts;
  uint64_t decoded_total;
  int limit_parts_hit, limit_decoded_hit;
  /* header block state */
  int hdr_first_line;
  int hdr_skip_eol;           /* dropping the rest of an overlong line */
  size_t hdr_scanned;         /* bytes of the unfinished header line known to hold no line break */
  int body_at_line_start;
  /* leaf decoding */
  mime_decoder dec;
  mime_conv conv;
  int conv_on;
  /* tree mode: the source the offsets refer to */
  const unsigned char *src;
  size_t src_len;
  struct mime_edits *edits;
  /* defects */
  mime_defect_rec *defs;
  size_t ndefs, defs_cap, defect_total;
};

/* edit.c */
void mime_edits_free(mail_mime_parser *p);

/* parse_part.c */
mail_mime_part *mime_part_new(mail_mime_parser *p, mail_mime_part *parent, uint64_t header_start);
void mime_part_free(mail_mime_part *part, const mail_allocator *a);
void mime_part_free_tree(mail_mime_part *part, const mail_allocator *a);
/* Parse Content-Type / Disposition / CTE once the header block ended. */
int mime_part_analyze(mail_mime_part *part);
int mime_part_make_path(mail_mime_part *part);
void mime_defect(mail_mime_parser *p, mail_mime_part *part, int kind, uint64_t offset);

/* header_params.c: "type/subtype; a=b; c*=utf-8''x" -> value + params. */
int mime_parse_params(const mail_allocator *a, const char *s, size_t n, char **value,
                      mime_params *out, unsigned int *defects);
void mime_params_free(const mail_allocator *a, mime_params *ps);
const char *mime_params_get(const mime_params *ps, const char *name);

/* header_decode.c */
int mime_unfold(const mail_allocator *a, const char *s, size_t n, char **out, size_t *out_len);
/* mail_mime_header_decode() and mail_charset_to_utf8() for the module:
 * the result is freed with mail_dealloc(a, ...), not mail_free(). */
int mime_header_decode(char **out, size_t *out_len, unsigned int *defects, const char *value,
                       size_t len, const mail_allocator *a);
int mime_charset_to_utf8(char **out, size_t *out_len, const char *charset, const void *in,
                         size_t len, const mail_allocator *a);

/* charset.c: canonical iconv name for a MIME charset label (static storage). */
const char *mime_charset_alias(const char *label);

/* parse_decode.c: the encoding for a CTE name. */
int mime_encoding_from_name(const char *name);

int mime_ascii_casecmp(const char *a, const char *b);
int mime_ascii_ncasecmp(const char *a, const char *b, size_t n);

#endif
