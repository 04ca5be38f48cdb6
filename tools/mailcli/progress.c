/* The progress bar: bytes, rate and time left on one stderr line, redrawn
 * at most ten times a second, for transfers over 1 MB when stderr is a
 * terminal (never into a pipe or a file, never over a --trace). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define PROGRESS_THRESHOLD (1024u * 1024u)

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void human(char *out, size_t cap, double bytes)
{
  if (bytes >= 1024.0 * 1024.0)
    snprintf(out, cap, "%.1f MB", bytes / (1024.0 * 1024.0));
  else
    snprintf(out, cap, "%.0f KB", bytes / 1024.0);
}

void cli_progress_begin(cli_progress *p, const cli_options *o, const char *label, uint64_t total)
{
  p->enabled = !o->trace && total > PROGRESS_THRESHOLD && isatty(STDERR_FILENO);
  p->shown = 0;
  p->total = total;
  p->start_ms = p->last_ms = now_ms();
  p->label = label;
}

static void draw(cli_progress *p, uint64_t done, int64_t t)
{
  double secs = (double)(t - p->start_ms) / 1000.0;
  double rate = secs > 0 ? (double)done / secs : 0;
  char d[32], tot[32], r[32], eta[32] = "--:--";
  human(d, sizeof d, (double)done);
  human(tot, sizeof tot, (double)p->total);
  human(r, sizeof r, rate);
  if (rate > 0 && done <= p->total) {
    long left = (long)((double)(p->total - done) / rate + 0.5);
    snprintf(eta, sizeof eta, "%ld:%02ld", left / 60, left % 60);
  }
  unsigned pct = p->total ? (unsigned)(done * 100 / p->total) : 0;
  fprintf(stderr, "\r%s %s / %s %3u%%  %s/s  ETA %s   ", p->label, d, tot, pct > 100 ? 100 : pct,
          r, eta);
  fflush(stderr);
  p->shown = 1;
}

void cli_progress_update(cli_progress *p, uint64_t done)
{
  if (!p->enabled)
    return;
  int64_t t = now_ms();
  if (p->shown && t - p->last_ms < 100 && done < p->total)
    return;
  p->last_ms = t;
  draw(p, done, t);
}

void cli_progress_end(cli_progress *p)
{
  if (p->enabled && p->shown)
    fputc('\n', stderr);
  p->enabled = 0;
}
