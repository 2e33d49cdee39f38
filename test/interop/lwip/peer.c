/*
 * lwIP interop peer: Debian's liblwip (2.1.3, NO_SYS=0, core locking) on its own TAP device.
 *
 *   peer echo TAPNAME SECONDS                 TCP echo server on 192.0.2.3:7 (one connection)
 *   peer send TAPNAME SECONDS BYTES           connect to 192.0.2.2:9, send BYTES pattern bytes, close
 *
 * We do NOT use Debian's netif/tapif (it overflows the heap on frames > 592 bytes): a reader thread
 * reads the TAP and hands lwIP one PBUF_RAM pbuf of exactly the frame's size via tcpip_input; the
 * linkoutput copies the pbuf chain into one buffer and writes one frame.
 * Pattern byte i = (i * 7 + (i >> 8)) & 0xff (host-sim/apps.ts patternByte).
 * Status lines on stdout: "READY", "CONNECTED", "DONE k=v ...". Exit 0 on success, 1 on failure/timeout.
 *
 * Build: gcc -O2 -pthread $(pkg-config --cflags lwip) peer.c -o peer $(pkg-config --libs lwip)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/etharp.h"
#include "netif/ethernet.h"

static int tap_fd = -1;
static struct netif nif;
static volatile int done_flag = 0, fail_flag = 0;
static volatile unsigned long rx_frames = 0, tx_frames = 0, tx_errors = 0, rx_dropped = 0;

/* ---- link ---------------------------------------------------------------------------------- */

static err_t link_output(struct netif *n, struct pbuf *p) {
  (void)n;
  static unsigned char buf[2048];
  if (p->tot_len > sizeof buf) { tx_errors++; return ERR_BUF; }
  u16_t len = pbuf_copy_partial(p, buf, p->tot_len, 0);
  if (write(tap_fd, buf, len) != (ssize_t)len) { tx_errors++; return ERR_IF; }
  tx_frames++;
  return ERR_OK;
}

static err_t nif_init(struct netif *n) {
  n->name[0] = 't'; n->name[1] = 'p';
  n->mtu = 1500;
  n->hwaddr_len = 6;
  static const u8_t mac[6] = {0x02, 0, 0, 0, 0, 0x03};
  memcpy(n->hwaddr, mac, 6);
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  n->output = etharp_output;
  n->linkoutput = link_output;
  return ERR_OK;
}

static void *reader(void *arg) {
  (void)arg;
  unsigned char buf[65536];
  for (;;) {
    ssize_t r = read(tap_fd, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue; perror("read tap"); fail_flag = 1; return NULL; }
    if (r < 14) continue;
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)r, PBUF_RAM); /* exactly the frame's size */
    if (p == NULL) { rx_dropped++; continue; }
    pbuf_take(p, buf, (u16_t)r);
    rx_frames++;
    if (nif.input(p, &nif) != ERR_OK) { rx_dropped++; pbuf_free(p); }
  }
  return NULL;
}

static int tap_open(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) { perror("open /dev/net/tun"); exit(1); }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); exit(1); }
  return fd;
}

/* ---- apps (run in the tcpip thread) -------------------------------------------------------- */

static unsigned long long total = 0, queued = 0, acked = 0, bytes_in = 0, bytes_out = 0;
static struct pbuf *pending = NULL;  /* echo: received, not yet written back */
static int peer_closed = 0, closing = 0;
static unsigned long write_mem_errors = 0;

static unsigned char pattern_byte(unsigned long long i) { return (unsigned char)((i * 7 + (i >> 8)) & 0xff); }

static void do_close(struct tcp_pcb *pcb) {
  if (closing) return;
  closing = 1;
  tcp_arg(pcb, NULL); tcp_recv(pcb, NULL); tcp_sent(pcb, NULL); tcp_err(pcb, NULL);
  if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
}

static void on_err(void *arg, err_t err) {
  (void)arg;
  printf("ERROR lwip err %d\n", (int)err);
  fflush(stdout);
  fail_flag = 1;
}

/* echo: write back as much of `pending` as the send buffer takes; open our window by what we wrote */
static void echo_push(struct tcp_pcb *pcb) {
  while (pending != NULL) {
    u16_t room = tcp_sndbuf(pcb);
    if (room == 0) break;
    u16_t n = pending->len < room ? pending->len : room;
    if (n == 0) { struct pbuf *q = pending->next; pending->next = NULL; pending->tot_len = 0; pbuf_free(pending); pending = q; continue; }
    err_t e = tcp_write(pcb, pending->payload, n, TCP_WRITE_FLAG_COPY | (pending->next || n < pending->len ? TCP_WRITE_FLAG_MORE : 0));
    if (e == ERR_MEM) { write_mem_errors++; break; }
    if (e != ERR_OK) { printf("ERROR tcp_write %d\n", (int)e); fail_flag = 1; break; }
    bytes_out += n;
    pending = pbuf_free_header(pending, n);
    tcp_recved(pcb, n);
  }
  tcp_output(pcb);
  if (pending == NULL && peer_closed) {
    do_close(pcb);
    printf("DONE mode=echo in=%llu out=%llu memerr=%lu\n", bytes_in, bytes_out, write_mem_errors);
    fflush(stdout);
    done_flag = 1;
  }
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  (void)arg; (void)err;
  if (p == NULL) { peer_closed = 1; echo_push(pcb); return ERR_OK; }
  bytes_in += p->tot_len;
  if (pending == NULL) pending = p; else pbuf_cat(pending, p);
  echo_push(pcb);
  return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  (void)arg; (void)len;
  echo_push(pcb);
  return ERR_OK;
}

static struct tcp_pcb *listener = NULL;
static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK || pcb == NULL) return ERR_VAL;
  printf("CONNECTED\n"); fflush(stdout);
  tcp_recv(pcb, echo_recv);
  tcp_sent(pcb, echo_sent);
  tcp_err(pcb, on_err);
  tcp_close(listener); /* one connection */
  listener = NULL;
  return ERR_OK;
}

/* send: fill the send buffer with pattern bytes; close once all are queued; DONE once all are acked */
static void send_fill(struct tcp_pcb *pcb) {
  unsigned char chunk[1460];
  while (queued < total) {
    u16_t room = tcp_sndbuf(pcb);
    if (room == 0) break;
    unsigned long long n = total - queued;
    if (n > sizeof chunk) n = sizeof chunk;
    if (n > room) n = room;
    for (unsigned long long k = 0; k < n; k++) chunk[k] = pattern_byte(queued + k);
    err_t e = tcp_write(pcb, chunk, (u16_t)n, TCP_WRITE_FLAG_COPY);
    if (e == ERR_MEM) { write_mem_errors++; break; }
    if (e != ERR_OK) { printf("ERROR tcp_write %d\n", (int)e); fail_flag = 1; break; }
    queued += n;
  }
  tcp_output(pcb);
}

static err_t send_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  (void)arg;
  acked += len;
  send_fill(pcb);
  if (acked >= total && !closing) {
    do_close(pcb);
    printf("DONE mode=send sent=%llu acked=%llu memerr=%lu\n", queued, acked, write_mem_errors);
    fflush(stdout);
    done_flag = 1;
  }
  return ERR_OK;
}

static err_t send_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  (void)arg; (void)err;
  if (p == NULL) return ERR_OK;
  bytes_in += p->tot_len;
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t send_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK) { printf("ERROR connect %d\n", (int)err); fail_flag = 1; return err; }
  printf("CONNECTED\n"); fflush(stdout);
  send_fill(pcb);
  return ERR_OK;
}

/* ---- main ---------------------------------------------------------------------------------- */

static sys_sem_t init_sem;
static void init_done(void *arg) { (void)arg; sys_sem_signal(&init_sem); }

static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s echo|send TAP SECONDS [BYTES]\n", argv[0]); return 2; }
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *mode = argv[1];
  int send_mode = strcmp(mode, "send") == 0;
  if (!send_mode && strcmp(mode, "echo") != 0) { fprintf(stderr, "bad mode %s\n", mode); return 2; }
  double limit = atof(argv[3]);
  if (send_mode) total = strtoull(argc > 4 ? argv[4] : "1048576", NULL, 10);

  tap_fd = tap_open(argv[2]);
  if (sys_sem_new(&init_sem, 0) != ERR_OK) { fprintf(stderr, "sys_sem_new\n"); return 1; }
  tcpip_init(init_done, NULL);
  sys_sem_wait(&init_sem);

  ip4_addr_t ip, mask, gw;
  IP4_ADDR(&ip, 192, 0, 2, 3);
  IP4_ADDR(&mask, 255, 255, 255, 0);
  IP4_ADDR(&gw, 192, 0, 2, 1);
  LOCK_TCPIP_CORE();
  netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, tcpip_input);
  netif_set_default(&nif);
  netif_set_up(&nif);
  netif_set_link_up(&nif);
  UNLOCK_TCPIP_CORE();

  pthread_t th;
  if (pthread_create(&th, NULL, reader, NULL) != 0) { perror("pthread_create"); return 1; }

  LOCK_TCPIP_CORE();
  if (send_mode) {
    struct tcp_pcb *pcb = tcp_new();
    ip_addr_t dst;
    IP_ADDR4(&dst, 192, 0, 2, 2);
    tcp_recv(pcb, send_recv);
    tcp_sent(pcb, send_sent);
    tcp_err(pcb, on_err);
    err_t e = tcp_connect(pcb, &dst, 9, send_connected);
    if (e != ERR_OK) { printf("ERROR tcp_connect %d\n", (int)e); fail_flag = 1; }
  } else {
    struct tcp_pcb *pcb = tcp_new();
    if (tcp_bind(pcb, IP_ADDR_ANY, 7) != ERR_OK) { printf("ERROR bind\n"); fail_flag = 1; }
    listener = tcp_listen(pcb);
    tcp_accept(listener, echo_accept);
  }
  UNLOCK_TCPIP_CORE();
  printf("READY\n");
  fflush(stdout);

  double t0 = now_s();
  double done_at = 0;
  for (int i = 0; i < 1000000; i++) {      /* bounded: 10 ms steps up to SECONDS */
    if (fail_flag) break;
    if (done_flag && done_at == 0) done_at = now_s();
    if (done_at != 0 && now_s() - done_at > 1.0) break;  /* let the FIN exchange finish */
    if (now_s() - t0 > limit) { printf("ERROR timeout after %.1f s queued=%llu acked=%llu in=%llu out=%llu\n", limit, queued, acked, bytes_in, bytes_out); fail_flag = 1; break; }
    usleep(10000);
  }
  printf("STATS rx_frames=%lu tx_frames=%lu tx_errors=%lu rx_dropped=%lu seconds=%.3f\n",
         rx_frames, tx_frames, tx_errors, rx_dropped, (done_at ? done_at : now_s()) - t0);
  fflush(stdout);
  _exit(fail_flag || !done_flag ? 1 : 0);
}
