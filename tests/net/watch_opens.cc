// watch_opens FILE: counts how often FILE is opened or read while it runs (Linux inotify).
// Prints "ready" once the watch is in place, then, on SIGTERM or SIGINT, "opens N" (IN_OPEN
// events) and "accesses M" (IN_ACCESS events) and exits 0. Exits 2 if the count cannot be
// trusted: the file was deleted or moved (the watch follows the inode, not the name) or the
// event queue overflowed. Tests use it to show that a process never opened a file.
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

struct Counts {
  long opens = 0;
  long accesses = 0;
  const char* lost = nullptr;  // why the counts are incomplete, if they are
};

// Reads every queued event. Returns false on a read error other than "nothing queued".
bool Drain(int fd, Counts& counts) {
  alignas(inotify_event) char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (n == 0) return true;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buffer + at);
      if (e->mask & IN_OPEN) ++counts.opens;
      if (e->mask & IN_ACCESS) ++counts.accesses;
      if (e->mask & IN_Q_OVERFLOW) counts.lost = "the inotify queue overflowed";
      if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        counts.lost = "the file was deleted, moved or unmounted";
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  // The signals go to a signalfd, read in the same poll() as the inotify events.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) {
    std::perror("sigprocmask");
    return 2;
  }
  const int sfd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (sfd < 0) {
    std::perror("signalfd");
    return 2;
  }
  const int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (ifd < 0) {
    std::perror("inotify_init1");
    return 2;
  }
  if (inotify_add_watch(ifd, argv[1], IN_OPEN | IN_ACCESS | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
    std::fprintf(stderr, "watch_opens: cannot watch %s: %s\n", argv[1], std::strerror(errno));
    return 2;
  }
  std::printf("ready\n");
  std::fflush(stdout);

  Counts counts;
  pollfd fds[2] = {{.fd = ifd, .events = POLLIN, .revents = 0},
                   {.fd = sfd, .events = POLLIN, .revents = 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::perror("poll");
      return 2;
    }
    if ((fds[0].revents & POLLIN) && !Drain(ifd, counts)) {
      std::perror("read inotify");
      return 2;
    }
    if (fds[1].revents & POLLIN) break;
  }
  // Events queued before the signal still count.
  if (!Drain(ifd, counts)) {
    std::perror("read inotify");
    return 2;
  }
  std::printf("opens %ld\naccesses %ld\n", counts.opens, counts.accesses);
  std::fflush(stdout);
  if (counts.lost) {
    std::fprintf(stderr, "watch_opens: the counts are incomplete: %s\n", counts.lost);
    return 2;
  }
  return 0;
}
