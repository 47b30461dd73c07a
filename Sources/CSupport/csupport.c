#include "csupport.h"
#ifdef __linux__
#include <sys/prctl.h>
#endif

// prctl is variadic, which Swift cannot call directly.
int csupport_become_subreaper(void) {
#ifdef __linux__
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#else
    return -1;
#endif
}
