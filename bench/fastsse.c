/* A loopback OpenAI Chat Completions SSE server that is not the bottleneck, and a load client
 * that proves it.
 *
 *   fastsse serve            listen on 127.0.0.1 (a free port), print "PORT <n>", serve until
 *                            stdin closes (so it never outlives the bench process) or SIGTERM
 *   fastsse load PORT CONNS PARTS INTERVAL_US
 *                            open CONNS connections at once, stream one answer on each, print
 *                            one line of JSON: parts received, rates, lateness, own CPU
 *
 * Why C: the Python WireServer tops out near 10k parts/s on this machine, and the concurrency
 * benchmark needs 50k (1,000 generations, a part every 20 ms). One thread, epoll, a timerfd and
 * a binary heap of due parts: per part, one snprintf and one write(), nothing else.
 *
 * What every POST gets is the stream bench/wire.py writes for "openai", byte for byte: a role
 * chunk, PARTS content chunks "w<k> ", a finish chunk, a usage chunk with choices [], [DONE];
 * chunked transfer encoding, one HTTP chunk per event, keep-alive. The head goes out at once;
 * part k at (k + 1) x interval after the request was read, against that start (no drift); the
 * tail right after the last part. A path /bench/<parts>/<interval_us>/... chooses the stream,
 * so one server serves the warm-up and every load; any other path gets 5 parts, no delay.
 *
 * Build: gcc -O2 -o fastsse fastsse.c (bench/fastsse.py builds and caches it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 65536
#define MAX_EVENTS 1024
/* Parts due within this much of now go out in the same wake-up: a part is at most 1 ms early,
 * and the server spends a quarter less CPU at 50k parts/s than with 0.1 ms. */
#define SLACK_NS 1000000LL

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

/* -- growable byte buffer ------------------------------------------------------------------ */

typedef struct {
    char *data;
    size_t len, off, cap;
} Buf;

static void buf_reserve(Buf *b, size_t extra) {
    if (b->off > 0 && b->off == b->len) {
        b->off = b->len = 0;
    }
    if (b->len + extra <= b->cap) return;
    if (b->off > 0) { /* compact before growing */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + extra <= b->cap) return;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data) die("realloc");
    b->cap = cap;
}

static void buf_free(Buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* -- the stream ---------------------------------------------------------------------------- */

#define CHUNK_ID "\"id\":\"chatcmpl-bench0001\",\"object\":\"chat.completion.chunk\"," \
    "\"created\":1731368641,\"model\":\"gpt-4o-mini-2024-07-18\"," \
    "\"system_fingerprint\":\"fp_0ba0d124f1\","

/* One SSE event as one HTTP chunk: "<hex len>\r\ndata: <json>\n\n\r\n". */
static void put_event(Buf *b, const char *json, int json_len) {
    char head[16];
    int payload = 6 + json_len + 2;
    int h = snprintf(head, sizeof head, "%x\r\n", payload);
    buf_reserve(b, (size_t)(h + payload + 2));
    char *p = b->data + b->len;
    memcpy(p, head, (size_t)h);
    p += h;
    memcpy(p, "data: ", 6);
    p += 6;
    memcpy(p, json, (size_t)json_len);
    p += json_len;
    memcpy(p, "\n\n\r\n", 4);
    b->len += (size_t)(h + payload + 2);
}

static void put_head(Buf *b) {
    static const char headers[] =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Connection: keep-alive\r\n"
        "\r\n";
    static const char json[] = "{" CHUNK_ID
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}";
    buf_reserve(b, sizeof headers);
    memcpy(b->data + b->len, headers, sizeof headers - 1);
    b->len += sizeof headers - 1;
    put_event(b, json, (int)sizeof json - 1);
}

static void put_part(Buf *b, int k) {
    char json[512];
    int n = snprintf(json, sizeof json,
                     "{" CHUNK_ID "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"w%d \"},"
                     "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
                     k);
    put_event(b, json, n);
}

static void put_tail(Buf *b, int parts) {
    static const char finish[] = "{" CHUNK_ID
        "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        "\"usage\":null}";
    char usage[512];
    int n = snprintf(usage, sizeof usage,
                     "{" CHUNK_ID "\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
                     "\"completion_tokens\":%d,\"total_tokens\":%d,"
                     "\"prompt_tokens_details\":{\"cached_tokens\":0},"
                     "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}",
                     parts, parts + 9);
    put_event(b, finish, (int)sizeof finish - 1);
    put_event(b, usage, n);
    put_event(b, "[DONE]", 6);
    buf_reserve(b, 5);
    memcpy(b->data + b->len, "0\r\n\r\n", 5);
    b->len += 5;
}

/* -- server -------------------------------------------------------------------------------- */

typedef struct {
    int open;
    int streaming;
    uint32_t seq; /* bumped when the connection closes, so stale heap entries are skipped */
    int parts, next;
    int64_t t0, interval;
    int want_out; /* EPOLLOUT registered */
    Buf in, out;
} Conn;

typedef struct {
    int64_t due;
    int fd;
    uint32_t seq;
} Due;

static Conn *conns;
static Due *heap;
static size_t heap_len, heap_cap;
static int epfd;
static long long parts_sent, streams_done, streams_started;

static void heap_push(Due d) {
    if (heap_len == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 4096;
        heap = realloc(heap, heap_cap * sizeof *heap);
        if (!heap) die("realloc");
    }
    size_t i = heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent].due <= d.due) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = d;
}

static Due heap_pop(void) {
    Due top = heap[0];
    Due last = heap[--heap_len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t best = last.due;
        if (l < heap_len && heap[l].due < best) {
            m = l;
            best = heap[l].due;
        }
        if (r < heap_len && heap[r].due < best) m = r;
        if (m == i) break;
        heap[i] = heap[m];
        i = m;
    }
    if (heap_len > 0) heap[i] = last;
    return top;
}

static void conn_close(int fd) {
    Conn *c = &conns[fd];
    if (!c->open) return;
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    buf_free(&c->in);
    buf_free(&c->out);
    c->open = 0;
    c->streaming = 0;
    c->want_out = 0;
    c->seq++;
}

static void set_events(int fd, int want_out) {
    Conn *c = &conns[fd];
    if (c->want_out == want_out) return;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0),
                             .data.fd = fd};
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    c->want_out = want_out;
}

/* Write what is pending; 0 if the connection is gone. */
static int flush(int fd) {
    Conn *c = &conns[fd];
    while (c->out.off < c->out.len) {
        ssize_t n = send(fd, c->out.data + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out.off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(fd, 1);
            return 1;
        }
        conn_close(fd);
        return 0;
    }
    c->out.off = c->out.len = 0;
    set_events(fd, 0);
    return 1;
}

/* "/bench/<parts>/<interval_us>/..." chooses the stream; anything else: 5 parts, no delay. */
static void choose_stream(const char *path, size_t len, int *parts, int64_t *interval) {
    *parts = 5;
    *interval = 0;
    if (len > 7 && memcmp(path, "/bench/", 7) == 0) {
        char tmp[128];
        size_t n = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
        memcpy(tmp, path, n);
        tmp[n] = 0;
        long p = 0, us = 0;
        if (sscanf(tmp, "/bench/%ld/%ld/", &p, &us) == 2 && p >= 0 && p <= 10000000 && us >= 0) {
            *parts = (int)p;
            *interval = (int64_t)us * 1000;
        }
    }
}

static void start_stream(int fd, int parts, int64_t interval) {
    Conn *c = &conns[fd];
    c->streaming = 1;
    c->parts = parts;
    c->next = 0;
    c->interval = interval;
    c->t0 = now_ns();
    streams_started++;
    put_head(&c->out);
    if (parts == 0) {
        put_tail(&c->out, 0);
        c->streaming = 0;
        streams_done++;
    } else {
        heap_push((Due){c->t0 + interval, fd, c->seq});
    }
    flush(fd);
}

static void handle_input(int fd);

static void send_due_part(int fd) {
    Conn *c = &conns[fd];
    int k = c->next++;
    put_part(&c->out, k);
    parts_sent++;
    if (c->next == c->parts) {
        put_tail(&c->out, c->parts);
        c->streaming = 0;
        streams_done++;
    } else {
        heap_push((Due){c->t0 + (int64_t)(c->next + 1) * c->interval, fd, c->seq});
    }
    if (flush(fd) && !c->streaming && c->in.len > c->in.off) handle_input(fd);
}

static void answer(int fd, int status, const char *reason) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
                     reason);
    send(fd, head, (size_t)n, MSG_NOSIGNAL);
    conn_close(fd);
}

/* Parse one complete request from the input buffer, if there is one. */
static void handle_input(int fd) {
    Conn *c = &conns[fd];
    for (;;) {
        if (!c->open || c->streaming) return; /* one request at a time per connection */
        char *start = c->in.data + c->in.off;
        size_t avail = c->in.len - c->in.off;
        /* Stray CRLFs between keep-alive requests are allowed. */
        while (avail >= 2 && start[0] == '\r' && start[1] == '\n') {
            start += 2;
            avail -= 2;
            c->in.off += 2;
        }
        char *end = memmem(start, avail, "\r\n\r\n", 4);
        if (!end) {
            if (avail > 65536) answer(fd, 431, "Request Header Fields Too Large");
            return;
        }
        size_t head_len = (size_t)(end - start) + 4;
        char *sp1 = memchr(start, ' ', head_len);
        char *sp2 = sp1 ? memchr(sp1 + 1, ' ', head_len - (size_t)(sp1 + 1 - start)) : NULL;
        if (!sp1 || !sp2) {
            answer(fd, 400, "Bad Request");
            return;
        }
        long body = 0;
        for (char *line = memchr(start, '\n', head_len); line && line < end;
             line = memchr(line + 1, '\n', (size_t)(end - line))) {
            if (strncasecmp(line + 1, "content-length:", 15) == 0) {
                body = strtol(line + 16, NULL, 10);
            } else if (strncasecmp(line + 1, "transfer-encoding:", 18) == 0) {
                answer(fd, 411, "Length Required"); /* the bench clients all send a length */
                return;
            }
        }
        if (body < 0 || avail < head_len + (size_t)body) return; /* wait for the body */
        int parts;
        int64_t interval;
        choose_stream(sp1 + 1, (size_t)(sp2 - sp1 - 1), &parts, &interval);
        c->in.off += head_len + (size_t)body;
        if (memcmp(start, "POST ", 5) != 0) {
            answer(fd, 405, "Method Not Allowed");
            return;
        }
        start_stream(fd, parts, interval);
    }
}

static void on_readable(int fd) {
    Conn *c = &conns[fd];
    for (;;) {
        buf_reserve(&c->in, 16384);
        ssize_t n = recv(fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
        if (n > 0) {
            c->in.len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        conn_close(fd); /* EOF or error: the client left */
        return;
    }
    handle_input(fd);
}

static void arm_timer(int tfd) {
    struct itimerspec its = {0};
    if (heap_len > 0) {
        int64_t due = heap[0].due;
        if (due <= 0) due = 1;
        its.it_value.tv_sec = due / 1000000000LL;
        its.it_value.tv_nsec = due % 1000000000LL;
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int serve(void) {
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    conns = calloc(MAX_FDS, sizeof *conns);
    if (!conns) die("calloc");
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    printf("PORT %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.fd = tfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
    ev.data.fd = 0; /* stdin: its end is the bench process's end */
    epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) break;
                    if (cfd >= MAX_FDS) {
                        close(cfd);
                        continue;
                    }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    Conn *c = &conns[cfd];
                    uint32_t seq = c->seq;
                    memset(c, 0, sizeof *c);
                    c->seq = seq + 1;
                    c->open = 1;
                    struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = cfd};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &cev);
                }
            } else if (fd == tfd) {
                uint64_t expirations;
                ssize_t r = read(tfd, &expirations, sizeof expirations);
                (void)r;
            } else if (fd == 0) {
                char sink[256];
                ssize_t r = read(0, sink, sizeof sink);
                if (r <= 0) {
                    fprintf(stderr, "fastsse: %lld streams, %lld parts\n", streams_done,
                            parts_sent);
                    return 0;
                }
            } else if (conns[fd].open) {
                if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                    conn_close(fd);
                    continue;
                }
                if (events[i].events & EPOLLOUT) {
                    if (!flush(fd)) continue;
                }
                if (events[i].events & (EPOLLIN | EPOLLRDHUP)) on_readable(fd);
            }
        }
        int64_t limit = now_ns() + SLACK_NS;
        while (heap_len > 0 && heap[0].due <= limit) {
            Due d = heap_pop();
            if (conns[d.fd].open && conns[d.fd].seq == d.seq && conns[d.fd].streaming)
                send_due_part(d.fd);
        }
        arm_timer(tfd);
    }
}

/* -- load client --------------------------------------------------------------------------- */

typedef struct {
    int fd;
    int connected, sent, done;
    int events;   /* "data: " seen */
    int match;    /* how much of "data: " the bytes so far end with */
    int64_t started, first_part, last_part;
    double *arrivals; /* per content part, seconds */
} Stream;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double q) {
    if (n == 0) return -1;
    qsort(v, n, sizeof *v, cmp_double);
    double rank = (double)(n - 1) * q / 100.0;
    size_t lo = (size_t)rank;
    size_t hi = lo + 1 < n ? lo + 1 : n - 1;
    return v[lo] + (v[hi] - v[lo]) * (rank - (double)lo);
}

static int load(int port, int count, int parts, long interval_us) {
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    Stream *streams = calloc((size_t)count, sizeof *streams);
    double *all = malloc(sizeof(double) * (size_t)count * (size_t)(parts ? parts : 1));
    if (!streams || !all) die("calloc");
    char request[512];
    static const char body[] =
        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"Tell me a long story.\"}],\"stream\":true}";
    int rlen = snprintf(request, sizeof request,
                        "POST /bench/%d/%ld/v1/chat/completions HTTP/1.1\r\n"
                        "Host: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n%s",
                        parts, interval_us, port, sizeof body - 1, body);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    int64_t t0 = now_ns();
    int failed = 0;
    for (int i = 0; i < count; i++) {
        Stream *s = &streams[i];
        s->arrivals = all + (size_t)i * (size_t)(parts ? parts : 1);
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0) die("socket");
        s->started = now_ns();
        int r = connect(s->fd, (struct sockaddr *)&addr, sizeof addr);
        if (r < 0 && errno != EINPROGRESS) {
            failed++;
            s->done = 1;
            close(s->fd);
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
    }
    int remaining = count - failed;
    long long received = 0;
    const int want = parts + 4; /* head, parts, finish, usage, [DONE] */
    char buf[65536];
    struct epoll_event events[MAX_EVENTS];
    while (remaining > 0) {
        int n = epoll_wait(ep, events, MAX_EVENTS, 60000);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            break; /* a minute without a byte: give up, report what arrived */
        }
        for (int e = 0; e < n; e++) {
            Stream *s = &streams[events[e].data.u32];
            if (s->done) continue;
            if (!s->sent && (events[e].events & EPOLLOUT)) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err || send(s->fd, request, (size_t)rlen, MSG_NOSIGNAL) != rlen) {
                    failed++;
                    s->done = 1;
                    remaining--;
                    close(s->fd);
                    continue;
                }
                s->sent = 1;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = events[e].data.u32};
                epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
            }
            if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            for (;;) {
                ssize_t r = recv(s->fd, buf, sizeof buf, 0);
                if (r < 0 && errno == EINTR) continue;
                if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                if (r <= 0) { /* closed before the end */
                    failed++;
                    s->done = 1;
                    remaining--;
                    close(s->fd);
                    break;
                }
                int64_t t = now_ns();
                static const char pat[] = "data: ";
                for (ssize_t j = 0; j < r; j++) {
                    char ch = buf[j];
                    if (ch == pat[s->match]) {
                        if (++s->match == 6) {
                            s->match = 0;
                            int k = s->events - 1; /* event 0 is the role chunk */
                            s->events++;
                            if (k >= 0 && k < parts) {
                                s->arrivals[k] = (double)t / 1e9;
                                if (k == 0) s->first_part = t;
                                s->last_part = t;
                                received++;
                            }
                        }
                    } else {
                        s->match = ch == 'd' ? 1 : 0;
                    }
                }
                if (s->events >= want) {
                    s->done = 1;
                    remaining--;
                    close(s->fd);
                    break;
                }
            }
        }
    }
    int64_t t1 = now_ns();
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    /* Lateness of each part against its stream's best-kept schedule, as bench/concurrency.py
     * computes it: anchor = min(t_k - k x interval), late = t_k - anchor - k x interval. */
    double interval = (double)interval_us / 1e6;
    double *late = malloc(sizeof(double) * (size_t)count * (size_t)(parts ? parts : 1));
    double *first = malloc(sizeof(double) * (size_t)count);
    size_t nlate = 0, nfirst = 0;
    int complete = 0;
    for (int i = 0; i < count; i++) {
        Stream *s = &streams[i];
        int got = s->events - 1 < parts ? s->events - 1 : parts;
        if (got < 0) got = 0;
        if (s->events >= want) complete++;
        if (got == 0) continue;
        first[nfirst++] = (double)(s->first_part - t0) / 1e9;
        double anchor = 1e300;
        for (int k = 0; k < got; k++) {
            double a = s->arrivals[k] - k * interval;
            if (a < anchor) anchor = a;
        }
        for (int k = 0; k < got; k++) late[nlate++] = s->arrivals[k] - anchor - k * interval;
    }
    double wall = (double)(t1 - t0) / 1e9;
    double lmax = 0;
    for (size_t i = 0; i < nlate; i++)
        if (late[i] > lmax) lmax = late[i];
    printf("{\"generations\":%d,\"parts\":%d,\"interval_s\":%.6f,\"complete\":%d,\"failed\":%d,"
           "\"parts_received\":%lld,\"wall_s\":%.6f,\"parts_per_s\":%.1f,"
           "\"cpu_s\":%.6f,\"cpu_per_part_us\":%.3f,"
           "\"added_delay_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
           "\"first_part_ms\":{\"p50\":%.3f,\"p99\":%.3f}}\n",
           count, parts, interval, complete, failed, received, wall, (double)received / wall,
           cpu, received ? cpu / (double)received * 1e6 : 0.0, pct(late, nlate, 50) * 1e3,
           pct(late, nlate, 99) * 1e3, lmax * 1e3, pct(first, nfirst, 50) * 1e3,
           pct(first, nfirst, 99) * 1e3);
    return complete == count ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) return serve();
    if (argc == 6 && strcmp(argv[1], "load") == 0)
        return load(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atol(argv[5]));
    fprintf(stderr, "usage: fastsse serve | fastsse load PORT CONNS PARTS INTERVAL_US\n");
    return 2;
}
