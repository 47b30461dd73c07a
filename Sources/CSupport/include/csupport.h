#ifndef SUPPORT_HOST_CSUPPORT_H
#define SUPPORT_HOST_CSUPPORT_H

/// Makes this process a child subreaper (Linux): orphaned descendants of the guest are
/// re-parented to the host instead of init, so the host can find and end them.
/// Returns 0 on success, -1 where unsupported.
int csupport_become_subreaper(void);

/// pidfd_open(2): a descriptor that becomes readable when the process exits, for a process
/// that is not our child (a guest taken over after a host crash). -1 with errno on failure.
int csupport_pidfd_open(int pid);

#endif
