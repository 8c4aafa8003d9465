// impair: a user-space stand-in for `tc qdisc ... netem loss L% delay D
// reorder R%`, for hosts whose kernel has no sch_netem. It relays Ethernet
// frames between an existing tap device and QEMU's `-netdev dgram` (one
// frame per UDP datagram on 127.0.0.1) and impairs both directions alike,
// as netem does on one: each frame is dropped with probability L; of the
// rest, R are sent at once and the others D microseconds later, so a frame
// sent at once overtakes the delayed ones before it (netem's "reorder").
//
//   impair TAP LOCAL_PORT QEMU_PORT LOSS_PERCENT DELAY_US REORDER_PERCENT SEED
//
// Runs until SIGTERM/SIGINT, then prints one line of counters on stdout:
//   impair: to-guest F frames D dropped R reordered; to-host F frames D dropped R reordered
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 2048 /* no offloads on either side: frames are at most 1514 bytes */
#define QUEUE_SLOTS 4096

struct frame {
  uint64_t due_us;
  uint32_t length;
  unsigned char data[FRAME_MAX];
};

/* One direction: a FIFO of delayed frames (constant delay keeps it ordered by due time). */
struct direction {
  const char *name;
  int out_fd;
  int out_is_socket;
  struct frame *slots;
  unsigned head, count;
  unsigned long frames, dropped, reordered, overflow;
};

static volatile sig_atomic_t stopping = 0;
static uint64_t rng_state;
static int loss_ppm, reorder_ppm;
static uint64_t delay_us;
static struct sockaddr_in qemu_addr;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* xorshift64*: reproducible from the seed, plenty for drop decisions. */
static uint32_t random_ppm(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32) % 1000000u;
}

static void emit(struct direction *d, const unsigned char *data, uint32_t length) {
  ssize_t n;
  if (d->out_is_socket) n = sendto(d->out_fd, data, length, 0, (struct sockaddr *)&qemu_addr, sizeof qemu_addr);
  else n = write(d->out_fd, data, length);
  (void)n; /* a frame the other side cannot take is lost, as on a wire */
}

static void arrive(struct direction *d, const unsigned char *data, uint32_t length) {
  d->frames++;
  if (length > FRAME_MAX) {
    d->overflow++;
    d->dropped++;
    return;
  }
  if (random_ppm() < (uint32_t)loss_ppm) {
    d->dropped++;
    return;
  }
  if (random_ppm() < (uint32_t)reorder_ppm || delay_us == 0) {
    if (d->count > 0) d->reordered++;
    emit(d, data, length);
    return;
  }
  if (d->count == QUEUE_SLOTS) {
    d->overflow++;
    d->dropped++;
    return;
  }
  struct frame *f = &d->slots[(d->head + d->count) % QUEUE_SLOTS];
  f->due_us = now_us() + delay_us;
  f->length = length;
  memcpy(f->data, data, length);
  d->count++;
}

/* Sends the frames that are due; microseconds until the next one (or -1). */
static long flush(struct direction *d, uint64_t now) {
  while (d->count > 0) {
    struct frame *f = &d->slots[d->head];
    if (f->due_us > now) return (long)(f->due_us - now);
    emit(d, f->data, f->length);
    d->head = (d->head + 1) % QUEUE_SLOTS;
    d->count--;
  }
  return -1;
}

static int percent_ppm(const char *text) {
  double v = atof(text);
  if (!(v >= 0 && v <= 100)) {
    fprintf(stderr, "impair: bad percentage '%s'\n", text);
    exit(2);
  }
  return (int)(v * 10000.0 + 0.5);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: impair TAP LOCAL_PORT QEMU_PORT LOSS_PERCENT DELAY_US REORDER_PERCENT SEED\n");
    return 2;
  }
  loss_ppm = percent_ppm(argv[4]);
  delay_us = (uint64_t)strtoull(argv[5], NULL, 10);
  reorder_ppm = percent_ppm(argv[6]);
  rng_state = (uint64_t)strtoull(argv[7], NULL, 10) | 1u;

  int tap = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (tap < 0) {
    perror("impair: /dev/net/tun");
    return 1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(tap, TUNSETIFF, &ifr) < 0) {
    perror("impair: TUNSETIFF");
    return 1;
  }
  int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in local;
  memset(&local, 0, sizeof local);
  local.sin_family = AF_INET;
  local.sin_port = htons((unsigned short)atoi(argv[2]));
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  memset(&qemu_addr, 0, sizeof qemu_addr);
  qemu_addr.sin_family = AF_INET;
  qemu_addr.sin_port = htons((unsigned short)atoi(argv[3]));
  qemu_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int size = 4 << 20;
  setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(udp, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (udp < 0 || bind(udp, (struct sockaddr *)&local, sizeof local) < 0) {
    perror("impair: udp bind");
    return 1;
  }

  struct direction to_guest = {"to-guest", udp, 1, calloc(QUEUE_SLOTS, sizeof(struct frame)), 0, 0, 0, 0, 0, 0};
  struct direction to_host = {"to-host", tap, 0, calloc(QUEUE_SLOTS, sizeof(struct frame)), 0, 0, 0, 0, 0, 0};
  static unsigned char buffer[65536];
  if (to_guest.slots == NULL || to_host.slots == NULL) {
    fprintf(stderr, "impair: out of memory\n");
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  printf("impair: relaying %s <-> 127.0.0.1:%s\n", argv[1], argv[3]);
  fflush(stdout);

  while (!stopping) {
    uint64_t now = now_us();
    long a = flush(&to_guest, now);
    long b = flush(&to_host, now);
    long wait_us = a < 0 ? b : b < 0 ? a : (a < b ? a : b);
    struct pollfd p[2] = {{tap, POLLIN, 0}, {udp, POLLIN, 0}};
    struct timespec timeout = {0, 0};
    if (wait_us < 0) timeout.tv_sec = 1;
    else if (wait_us < 1000000) timeout.tv_nsec = wait_us * 1000;
    else timeout.tv_sec = 1;
    if (ppoll(p, 2, &timeout, NULL) < 0) {
      if (errno == EINTR) continue;
      perror("impair: ppoll");
      return 1;
    }
    if (p[0].revents & POLLIN) {
      for (int i = 0; i < 64; i++) {
        ssize_t n = read(tap, buffer, sizeof buffer);
        if (n <= 0) break;
        arrive(&to_guest, buffer, (uint32_t)n);
      }
    }
    if (p[1].revents & POLLIN) {
      for (int i = 0; i < 64; i++) {
        ssize_t n = recv(udp, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        arrive(&to_host, buffer, (uint32_t)n);
      }
    }
  }
  printf("impair: %s %lu frames %lu dropped %lu reordered %lu overflow; %s %lu frames %lu dropped %lu reordered %lu overflow\n",
         to_guest.name, to_guest.frames, to_guest.dropped, to_guest.reordered, to_guest.overflow, to_host.name,
         to_host.frames, to_host.dropped, to_host.reordered, to_host.overflow);
  return 0;
}
