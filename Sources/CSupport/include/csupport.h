#ifndef SUPPORT_HOST_CSUPPORT_H
#define SUPPORT_HOST_CSUPPORT_H

/// Makes this process a child subreaper (Linux): orphaned descendants of the guest are
/// re-parented to the host instead of init, so the host can find and end them.
/// Returns 0 on success, -1 where unsupported.
int csupport_become_subreaper(void);
int csupport_name_this_thread(const char *name);

/// pidfd_open(2): a descriptor that becomes readable when the process exits, for a process
/// that is not our child (a guest taken over after a host crash). -1 with errno on failure.
int csupport_pidfd_open(int pid);

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing the range's dirty pages to the
/// disk without waiting, so a large upload's final fsync has little left to do. -1 with errno
/// where unsupported (then nothing happens early; the fsync still makes the file durable).
int csupport_start_writeback(int fd, long long offset, long long count);

/// Turns O_DIRECT (writes past the page cache) on or off for an open file; O_DIRECT is a GNU
/// flag the Swift Glibc module does not show. -1 with errno (EINVAL) where the file system
/// does not support it.
int csupport_set_direct_io(int fd, int on);

/// Raises the calling thread's scheduling priority (a lower nice value, Linux: per thread).
/// Returns 0, or -1 with errno when not allowed (then nothing changes).
int csupport_raise_thread_priority(int nice);

/// The bytes waiting to be read from `fd` (ioctl FIONREAD), or -1 with errno.
int csupport_queued_bytes(int fd);

/// syncfs(2): writes out everything dirty on the file system that holds `fd`, and waits.
int csupport_syncfs(int fd);

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU computes CRC-32C in hardware (x86-64 with SSE4.2), else 0.
int csupport_crc32c_hardware(void);

/// Continues the CRC-32C `crc` (pre-inverted, as the hardware instruction keeps it) over
/// `count` bytes with the SSE4.2 instruction. Call only when `csupport_crc32c_hardware()` is 1.
uint32_t csupport_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t count);

#endif
