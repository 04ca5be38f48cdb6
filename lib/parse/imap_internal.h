/* IMAP response parser internals: the argument tree the framer builds for
 * one response, and the typed results the interpreter derives from it.
 *
 * imap_frame.c   framing and tokenising (lines, literals, streamed values)
 * imap_list.c    results that grow with the mailbox (SEARCH, SORT, ESEARCH,
 *                VANISHED, THREAD), read as they arrive, never held as text
 * imap_resp.c    meaning of a response: status and codes, simple data
 * imap_fetch.c   FETCH items, ENVELOPE, BODYSTRUCTURE
 * imap_ext.c     QUOTA, ACL and METADATA data (RFC 9208, 4314, 5464)
 * imap_access.c  the public accessors
 * imap_utf7.c    modified UTF-7
 * imap_arena.c   the per-response bump allocator
 */
#ifndef MAIL_PARSE_IMAP_INTERNAL_H
#define MAIL_PARSE_IMAP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mail/imap_parse.h>

#include "core/buf.h"

/* ------------------------------------------------------------ arena */

typedef struct imap_chunk imap_chunk;
typedef struct imap_arena {
  const mail_allocator *alloc;
  imap_chunk *head;   /* the chunk being filled; older ones follow */
  size_t total;       /* bytes allocated in chunks */
} imap_arena;

void imap_arena_init(imap_arena *a, const mail_allocator *alloc);
/* Zeroed, aligned memory valid until the next reset; NULL on failure. */
void *imap_arena_alloc(imap_arena *a, size_t n);
/* An array of n elements of size bytes, NULL when n * size overflows. */
static inline void *imap_arena_array(imap_arena *a, size_t n, size_t size)
{
  if (size && n > SIZE_MAX / size)
    return NULL;
  return imap_arena_alloc(a, n * size);
}
/* Forget everything; keep one chunk of the default size. */
void imap_arena_reset(imap_arena *a);
void imap_arena_free(imap_arena *a);

/* ------------------------------------------------------------ tree */

enum imap_node_type {
  IMAP_N_ATOM = 1,
  IMAP_N_QUOTED,
  IMAP_N_LITERAL,
  IMAP_N_NIL,
  IMAP_N_LIST,
  IMAP_N_STREAMED,  /* a value delivered to the body callback; len = section index */
  IMAP_N_SKIPPED    /* a literal of an unknown item, consumed but not held */
};

#define IMAP_NF_ESC 1  /* off/len point into the unescape buffer */

/* One argument. Offsets are relative to the start of the response in the
 * input buffer (they stay valid when the buffer moves). */
typedef struct imap_node {
  uint8_t type;
  uint8_t flags;
  uint32_t off;     /* content start ('(' for a list) */
  uint32_t len;     /* content length (unused for lists) */
  uint32_t end;     /* just after the raw token (after ')' for a list) */
  uint32_t next;    /* index of the next sibling (past the subtree) */
  uint32_t count;   /* children of a list; raw start of an unescaped string */
} imap_node;

typedef struct imap_str {
  const char *p;    /* NULL for NIL */
  size_t n;
} imap_str;

/* ------------------------------------------------------------ results */

struct mail_imap_address {
  imap_str name, adl, mailbox, host;
};

struct mail_imap_envelope {
  imap_str f[4];                       /* date, subject, in-reply-to, message-id */
  struct mail_imap_address *a[6];
  size_t na[6];
};

typedef struct imap_param {
  imap_str name, value;
} imap_param;

struct mail_imap_body {
  const struct mail_imap_body *parent;
  struct mail_imap_body *child;       /* array of nchild */
  size_t nchild;
  int multipart;
  imap_str f[8];                       /* mail_imap_body_string order */
  imap_param *params[2];
  size_t nparams[2];
  imap_str *lang;
  size_t nlang;
  uint64_t size, lines;
  int has_size, has_lines;
  const struct mail_imap_envelope *env;
  imap_str ext;
};

struct mail_imap_section {
  uint32_t item_off, item_len, spec_off, spec_len;
  imap_str item, spec;                 /* resolved before each use */
  uint64_t origin, size;
  int has_origin, nil;
  uint32_t msg;
};

typedef struct imap_defect {
  int kind;
  uint32_t item_off, item_len, raw_off, raw_len;
  int has_item;
  int copied;       /* item and raw are in the copy buffer (a streamed list's) */
} imap_defect;

typedef struct imap_pair {
  imap_str name, value;
  uint64_t num;
} imap_pair;

typedef struct imap_ns {
  int cls;
  imap_str prefix;
  char delim;
} imap_ns;

typedef struct imap_thread {
  uint32_t number;
  uint32_t parent;  /* UINT32_MAX for a root */
} imap_thread;

typedef struct imap_quota {
  imap_str name;
  uint64_t usage, limit;
} imap_quota;

typedef struct imap_range {
  uint32_t first, last;  /* first <= last */
} imap_range;

struct mail_imap_response {
  int kind, type;
  imap_str tag, text;
  int has_number;
  uint32_t number;
  uint64_t span_start, span_end;
  /* response code */
  int code;
  imap_str code_name, code_raw, code_set, code_set2;
  int has_code_number;
  uint64_t code_number;
  /* strings (capabilities, flags, attributes, charsets) */
  imap_str *strs;
  size_t nstrs;
  /* SEARCH / SORT */
  uint32_t *nums;
  size_t nnums;
  int has_modseq;
  uint64_t modseq;
  /* LIST / LSUB / STATUS */
  imap_str mailbox, mailbox_raw;
  int has_delim;
  char delim;
  imap_pair *pairs;                    /* STATUS items, ESEARCH items, LIST extended data */
  size_t npairs;
  imap_ns *ns;
  size_t nns;
  imap_str set;                        /* VANISHED, as sent (NULL when too long) */
  imap_range *ranges;                  /* VANISHED's set, ESEARCH's ALL */
  size_t nranges;
  int earlier, esearch_uid, is_esearch;
  imap_str esearch_tag;
  imap_thread *thread;
  size_t nthread;
  /* QUOTA resources; ACL and METADATA entries are in pairs */
  imap_quota *quota;
  size_t nquota;
  imap_str mailboxid;                  /* STATUS MAILBOXID (RFC 8474) */
  int meta_changed;
  /* FETCH */
  uint32_t items;                      /* bit per mail_imap_item */
  uint64_t uid, rfc822_size, modseq_item, gm_msgid, gm_thrid;
  imap_str internaldate, emailid, threadid, preview, savedate;
  imap_str *flags, *labels;
  size_t nflags, nlabels;
  imap_pair *binsizes;
  size_t nbinsizes;
  const struct mail_imap_envelope *env;
  const struct mail_imap_body *body;
  struct mail_imap_section **sections;
  size_t nsections;
  /* defects, resolved */
  imap_defect *defects;
  size_t ndefects;
  const char *base;                    /* the response's bytes */
  const char *copied;                  /* bytes of copied defects (esc buffer) */
};

/* Frame states. */
enum {
  IMAP_ST_LINE = 0,
  IMAP_ST_HOLD,     /* a held literal: wait for all of it */
  IMAP_ST_STREAM,   /* a streamed value: hand out what has arrived */
  IMAP_ST_SKIP,     /* an unknown item's literal or a skipped response's */
  IMAP_ST_LIST      /* a streamed number list: tokens taken as they arrive */
};

/* Tokenising mode of the current response. */
enum {
  IMAP_MODE_START = 0, /* nothing read yet */
  IMAP_MODE_DATA,      /* arguments with lists and literals */
  IMAP_MODE_DONE       /* complete */
};

struct mail_imap_parser {
  mail_allocator alloc;
  mail_limits lim;
  mail_buf in;          /* input; bytes before start are consumed */
  size_t start;         /* first byte of the current response */
  size_t pos;           /* next byte to read */
  size_t scan;          /* bytes before this (from pos) hold no LF */
  uint64_t stream_pos;  /* stream offset of in.data[pos] */
  uint64_t resp_start;  /* stream offset where the current response began */
  int state, mode;
  uint64_t lit_left;
  int err, eof, fed, utf8, greeting;
  int returned;         /* the current response went to the caller */
  mail_imap_body_fn body_fn;
  void *body_user;

  /* argument tree of the current response */
  mail_buf nodes;       /* imap_node[]; its len is nnodes * sizeof(imap_node) */
  uint32_t nnodes;
  uint32_t node_limit;  /* most values in one response (2 * max_items + 8) */
  uint32_t *stack;      /* open lists (node indices), max_depth deep */
  unsigned depth;
  uint32_t top_count;   /* values at the top level */
  uint32_t top_limit;   /* most values at the top level (max_items after the name) */
  int nomem;            /* an allocation for a typed value failed */
  int skipping;         /* too deep / too many: tokens not kept */
  uint64_t skip_depth;
  uint32_t last1;       /* the last value at depth 1 (a FETCH item name) */
  uint32_t prev1;       /* the one before it */
  int fetch;            /* the response is "* n FETCH" */
  uint32_t fetch_seq;
  mail_buf esc;         /* unescaped quoted strings */
  mail_buf defects;     /* imap_defect[] */
  mail_buf sections;    /* struct mail_imap_section *[] */
  struct mail_imap_section *cur_section;
  /* status response fields found while tokenising (offsets) */
  int status;
  uint32_t text_off, text_len;
  uint32_t code_first, code_end; /* node range of "[...]" */
  uint32_t code_raw_off, code_raw_len;
  int has_code;

  /* a result that grows with the mailbox, read as it arrives (imap_list.c) */
  int listing;          /* which one (0: the response is held whole) */
  int list_phase;       /* where in its grammar */
  int list_over;        /* more than max_items entries came: the rest not kept */
  int list_skip;        /* nested too deep (THREAD): the rest not kept */
  int set_next, in_set, set_seen; /* a sequence set is next, being read, was read */
  mail_buf list;        /* uint32_t numbers, imap_range or imap_thread entries */
  mail_buf set_text;    /* the set as sent while at most max_response bytes */
  int set_text_over;
  mail_buf list_pairs;  /* ESEARCH items being read (offsets in esc) */
  int has_esearch_tag;
  uint32_t esearch_tag_off, esearch_tag_len;
  uint64_t list_waste;  /* bytes that are not kept entries (max_response) */

  imap_arena arena;
  mail_buf work;        /* scratch stack for tree walks */
  struct mail_imap_response resp;
};

/* Room for n more work-stack entries of size bytes (MAIL_ERR_NOMEM on overflow). */
static inline int imap_work_reserve(mail_imap_parser *p, size_t n, size_t size)
{
  if (size && n > SIZE_MAX / size)
    return MAIL_ERR_NOMEM;
  return mail_buf_reserve(&p->work, n * size);
}

/* imap_frame.c */
int imap_fail(mail_imap_parser *p, int rc);
/* Offset of s from the start of the current response. */
uint32_t imap_rel(const mail_imap_parser *p, const unsigned char *s);
uint32_t imap_add_node(mail_imap_parser *p, int type, uint32_t off, uint32_t len, uint32_t end);
/* "{n}", "{n+}" or "~{n}" ending exactly at e: 1 (size in *n), 0 not one,
 * MAIL_ERR_PROTOCOL when the size overflows 64 bits. */
int imap_literal_marker(const unsigned char *s, const unsigned char *e, uint64_t *n);
/* Drop the n input bytes at pos (consumed), keeping those before it. */
void imap_cut(mail_imap_parser *p, size_t n);
void imap_defect_add(mail_imap_parser *p, int kind, uint32_t item_off, uint32_t item_len,
                     int has_item, uint32_t raw_off, uint32_t raw_end);

/* Helpers over the tree (imap_resp.c). */
static inline imap_node *imap_nodes(const mail_imap_parser *p)
{
  return (imap_node *)p->nodes.data;
}
static inline uint32_t imap_node_count(const mail_imap_parser *p)
{
  return p->nnodes;
}
/* The string of node i (atom, quoted, literal); NULL for NIL and lists. */
static inline imap_str imap_node_str(const mail_imap_parser *p, uint32_t i)
{
  imap_str s = {NULL, 0};
  if (i >= imap_node_count(p))
    return s;
  const imap_node *nd = &imap_nodes(p)[i];
  if (nd->type != IMAP_N_ATOM && nd->type != IMAP_N_QUOTED && nd->type != IMAP_N_LITERAL)
    return s;
  s.p = (nd->flags & IMAP_NF_ESC) ? (const char *)p->esc.data + nd->off : p->resp.base + nd->off;
  if (!s.p)
    s.p = "";
  s.n = nd->len;
  return s;
}
/* 1 for a string-like node (atom, quoted, literal), else 0. */
static inline int imap_is_string(const mail_imap_parser *p, uint32_t i)
{
  if (i >= imap_node_count(p))
    return 0;
  int t = imap_nodes(p)[i].type;
  return t == IMAP_N_ATOM || t == IMAP_N_QUOTED || t == IMAP_N_LITERAL;
}
/* A string or NIL. */
static inline int imap_is_nstring(const mail_imap_parser *p, uint32_t i)
{
  return imap_is_string(p, i) ||
         (i < imap_node_count(p) && imap_nodes(p)[i].type == IMAP_N_NIL);
}
/* 0: *out set; 1: "-1" (unknown); -1: not a number. */
int imap_str_num(const char *s, size_t n, uint64_t *out);
int imap_node_num(const mail_imap_parser *p, uint32_t i, uint64_t *out);
int imap_atom_is(const mail_imap_parser *p, uint32_t i, const char *word);
/* s[0..n) starts with word (imap_prefix_ieq) or equals it, ignoring ASCII case. */
int imap_prefix_ieq(const void *s, size_t n, const char *word);
static inline int imap_mem_ieq(const void *s, size_t n, const char *word)
{
  /* inline: the word is a literal, so its length is known here */
  if (!s || n != strlen(word))
    return 0;
  const unsigned char *c = s;
  for (size_t i = 0; i < n; i++) {
    unsigned a = c[i], b = (unsigned char)word[i];
    if (a - 'A' < 26u)
      a += 32;
    if (b - 'A' < 26u)
      b += 32;
    if (a != b)
      return 0;
  }
  return 1;
}
static inline int imap_str_ieq(imap_str s, const char *word)
{
  return imap_mem_ieq(s.p, s.n, word);
}
/* Where node i's raw bytes start. */
uint32_t imap_raw_start(const mail_imap_parser *p, uint32_t i);
/* A node's raw bytes as a defect of the item starting at node name_i. */
void imap_item_defect(mail_imap_parser *p, int kind, uint32_t name_i, uint32_t last_i);
/* Decode a mailbox name per the UTF-8 setting into the arena. */
imap_str imap_mailbox_name(mail_imap_parser *p, imap_str raw);
/* Copy a list of strings (children of list node i) into the arena; -1 on NOMEM. */
int imap_string_list(mail_imap_parser *p, uint32_t i, imap_str **out, size_t *n, int mailbox);
int imap_interpret(mail_imap_parser *p);

/* imap_ext.c: QUOTA, QUOTAROOT, ACL, LISTRIGHTS, MYRIGHTS, METADATA from
 * the values after the name (a .. end); -1 on NOMEM. */
int imap_interpret_ext(mail_imap_parser *p, uint32_t name, uint32_t a, uint32_t end);

/* imap_list.c */
/* At the start of a response: 1 when it is one of those, which is then
 * read by imap_list_step(); 0 when not; MAIL_ERR_AGAIN when too few bytes
 * have come to tell. */
int imap_list_begin(mail_imap_parser *p);
/* Take the tokens that have arrived. MAIL_OK: the response is complete;
 * MAIL_ERR_AGAIN: more bytes needed (or a skipped literal's, state SKIP);
 * else the error. */
int imap_list_step(mail_imap_parser *p);

/* imap_fetch.c */
int imap_interpret_fetch(mail_imap_parser *p, uint32_t list_i);
/* Parse a FETCH section atom "BODY[1.2]<0>" (offsets relative to the
 * response); 1 when it names a streamed value. */
int imap_section_name(const char *s, size_t n, uint32_t *item_len, uint32_t *spec_off,
                      uint32_t *spec_len, uint64_t *origin, int *has_origin);

#endif
