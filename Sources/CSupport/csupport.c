#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include "csupport.h"
#include <errno.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

// sync_file_range is a GNU extension the Swift Glibc module does not show; the raw syscall
// needs no feature macro.
int csupport_start_writeback(int fd, long long offset, long long count) {
#if defined(__linux__) && defined(SYS_sync_file_range)
    // SYNC_FILE_RANGE_WRITE (2): start writing the dirty pages of the range, do not wait.
    return (int)syscall(SYS_sync_file_range, fd, offset, count, 2);
#else
    (void)fd; (void)offset; (void)count;
    errno = ENOSYS;
    return -1;
#endif
}

int csupport_set_direct_io(int fd, int on) {
#if defined(__linux__) && defined(O_DIRECT)
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, on ? (flags | O_DIRECT) : (flags & ~O_DIRECT));
#else
    (void)fd; (void)on;
    errno = EINVAL;
    return -1;
#endif
}

// syncfs is a GNU extension too.
int csupport_raise_thread_priority(int nice) {
#if defined(__linux__) && defined(SYS_gettid)
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
#else
    (void)nice;
    errno = ENOSYS;
    return -1;
#endif
}

int csupport_queued_bytes(int fd) {
    int count = 0;
    return ioctl(fd, FIONREAD, &count) == 0 ? count : -1;
}

int csupport_syncfs(int fd) {
#if defined(__linux__) && defined(SYS_syncfs)
    return (int)syscall(SYS_syncfs, fd);
#else
    (void)fd;
    errno = ENOSYS;
    return -1;
#endif
}

// prctl is variadic, which Swift cannot call directly.
// prctl is variadic: names the calling thread (15 bytes at most), as `ps -L` shows it.
int csupport_name_this_thread(const char *name) {
#ifdef __linux__
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
#else
    (void)name;
    return -1;
#endif
}

int csupport_become_subreaper(void) {
#ifdef __linux__
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#else
    return -1;
#endif
}

// syscall is variadic too, and glibc 2.36 has no pidfd_open wrapper.
int csupport_pidfd_open(int pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

// The SSE4.2 crc32 instruction has no Swift spelling; compiled for that target only here, and
// called only after the runtime check, so the binary still runs on CPUs without it.
int csupport_crc32c_hardware(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
#else
    return 0;
#endif
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#include <string.h>

__attribute__((target("sse4.2")))
uint32_t csupport_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t count) {
    uint64_t wide = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        wide = _mm_crc32_u64(wide, word);
        bytes += 8;
        count -= 8;
    }
    crc = (uint32_t)wide;
    while (count > 0) {
        crc = _mm_crc32_u8(crc, *bytes);
        bytes++;
        count--;
    }
    return crc;
}
#else
uint32_t csupport_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return crc;
}
#endif
